"""Checks for uploaded input files: name, size, real content type, zip bomb, encoding.

The browser's file filter is no protection, so every check runs here on the server. The ETL's
command line applies the same checks to the files of an input folder (`check_input_file`).
"""

from __future__ import annotations

import copy
import hashlib
import io
import re
import unicodedata
import zipfile
import zlib
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from etl.read import InputError, decode_text
from etl.schema import ENTITIES

MB = 1024 * 1024
MAX_UPLOAD_BYTES = 50 * MB  # keep equal to server.maxUploadSize in .streamlit/config.toml
MAX_XLSX_UNZIPPED = 1024 * MB  # real workbooks unpack to ~10x their size
MAX_XLSX_RATIO = 100  # real sheets compress ~5–15:1, zip bombs ~1000:1
MAX_XLSX_MEMBERS = 1000

ENTITY_NAMES = tuple(e.name for e in ENTITIES)
_ALLOWED_NAME = re.compile(rf"({'|'.join(ENTITY_NAMES)})\.(csv|xlsx)")
_ALLOWED_LIST = ", ".join(f"„{n}“" for n in ENTITY_NAMES)


class UploadLike(Protocol):
    """What the checks need of an uploaded file (Streamlit's UploadedFile, an open file …)."""

    name: str

    def read(self, size: int = -1, /) -> bytes: ...


@dataclass(frozen=True)
class UploadLimits:
    """Limits for one uploaded file; parameters so tests can use small ones."""

    max_bytes: int = MAX_UPLOAD_BYTES
    max_unzipped: int = MAX_XLSX_UNZIPPED
    max_ratio: float = MAX_XLSX_RATIO
    max_members: int = MAX_XLSX_MEMBERS


@dataclass(frozen=True)
class Upload:
    """An uploaded file that passed every check, under its canonical name (`kommunen.csv`)."""

    entity: str
    name: str
    data: bytes = field(repr=False)
    sha256: str
    kodierung: str  # utf-8, utf-8-sig, cp1252 or xlsx


@dataclass(frozen=True)
class UploadProblem:
    """A file that was not taken, with the German reason (the reason names the file)."""

    datei: str
    meldung: str


@dataclass(frozen=True)
class UploadCheck:
    accepted: dict[str, Upload]
    problems: tuple[UploadProblem, ...]


def base_name(raw: str) -> str:
    """The file's own name without any folder part and control characters
    (`../../x.csv` → `x.csv`, `C:\\Daten\\kommunen.csv` → `kommunen.csv`)."""
    text = unicodedata.normalize("NFC", str(raw))
    text = "".join(ch for ch in text if unicodedata.category(ch)[0] != "C")
    return text.replace("\\", "/").rsplit("/", 1)[-1].strip()


def shown_name(raw: str) -> str:
    text = "".join(ch for ch in str(raw) if unicodedata.category(ch)[0] != "C").strip()
    return text if len(text) <= 80 else text[:79] + "…"


def _size(n: int) -> str:
    """`52428800` → `50,0 MB` (German decimal comma)."""
    value, unit = next(((n / f, u) for f, u in ((MB, "MB"), (1024, "KB")) if n >= f), (n, "Byte"))
    text = f"{value:,.1f}" if unit != "Byte" else f"{value:,}"
    return text.replace(",", "X").replace(".", ",").replace("X", ".") + f" {unit}"


_SIGNATURES = (
    (b"PK\x03\x04", "ein ZIP-Archiv (zum Beispiel eine Excel-Datei .xlsx)"),
    (b"\x89PNG\r\n\x1a\n", "ein PNG-Bild"),
    (b"\xff\xd8\xff", "ein JPEG-Bild"),
    (b"GIF8", "ein GIF-Bild"),
    (b"%PDF", "ein PDF-Dokument"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "eine alte oder passwortgeschützte Excel-Datei (.xls)"),
    (b"\x7fELF", "ein Programm"),
)


def _content_kind(data: bytes) -> str | None:
    return next((kind for magic, kind in _SIGNATURES if data.startswith(magic)), None)


def _read_limited(upload: UploadLike, limit: int) -> bytes | None:
    """All bytes of the upload, or None as soon as it is larger than `limit` (a 300 MB stream is
    refused after reading `limit` + 1 bytes, never read whole)."""
    declared = getattr(upload, "size", None)
    if isinstance(declared, int) and declared > limit:
        return None
    if getattr(upload, "seekable", lambda: False)():
        upload.seek(0)  # Streamlit hands the same file object to every rerun
    chunks, total = [], 0
    while True:
        chunk = upload.read(min(MB, limit + 1 - total))
        if not chunk:
            return b"".join(chunks)
        chunks.append(chunk)
        total += len(chunk)
        if total > limit:
            return None


def _check_csv(data: bytes, name: str) -> tuple[str | None, str | None]:
    """(encoding, None) for a readable text file, else (None, German problem)."""
    kind = _content_kind(data)
    if kind:
        hint = (f"Eine Excel-Datei laden Sie bitte als „{Path(name).stem}.xlsx“ hoch."
                if data.startswith(b"PK") else
                "Bitte speichern Sie die Tabelle in Excel als „CSV UTF-8 (durch Trennzeichen "
                "getrennt)“ und laden Sie sie erneut hoch.")
        return None, (f"„{name}“ ist keine CSV-Textdatei, auch wenn der Name so endet: der "
                      f"Inhalt ist {kind}. {hint}")
    try:
        _text, encoding = decode_text(data, name)
    except InputError as exc:
        return None, str(exc)
    return encoding, None


def _inflated_size(zf: zipfile.ZipFile, info: zipfile.ZipInfo, cap: int) -> int:
    """Bytes a member really unpacks to, counting at most `cap` + 1: the sizes in a zip header
    can lie, so the member is inflated (streamed, nothing kept) rather than trusted."""
    probe = copy.copy(info)
    probe.file_size = cap + 1  # lets the reader run past a size header that lies
    total = 0
    with zf.open(probe) as member:
        while chunk := member.read(MB):
            total += len(chunk)
            if total > cap:
                break
    return total


def _check_xlsx(data: bytes, name: str, limits: UploadLimits) -> str | None:
    """None for a plausible, safely sized workbook, else the German problem. Runs before
    fastexcel ever sees the file."""
    if not data.startswith(b"PK\x03\x04"):
        kind = _content_kind(data) or "keine Excel-Arbeitsmappe"
        return (f"„{name}“ ist keine Excel-Datei (.xlsx), auch wenn der Name so endet: der Inhalt "
                f"ist {kind}. Bitte öffnen Sie die Datei in Excel und speichern Sie sie als "
                "„Excel-Arbeitsmappe (.xlsx)“.")
    bomb = (f"„{name}“ wurde abgelehnt: {{detail}}. So stark gepackte Dateien können den Server "
            "lahmlegen („ZIP-Bombe“). Bitte speichern Sie die Tabelle in Excel neu oder laden Sie "
            "sie als CSV hoch.")
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            infos = zf.infolist()
            names = {i.filename for i in infos}
            if not {"[Content_Types].xml", "xl/workbook.xml"} <= names:
                return (f"„{name}“ ist ein ZIP-Archiv, aber keine Excel-Arbeitsmappe. Bitte "
                        "speichern Sie die Tabelle in Excel als „Excel-Arbeitsmappe (.xlsx)“.")
            if len(infos) > limits.max_members:
                return bomb.format(detail=f"sie enthält {len(infos)} Teile (erlaubt sind "
                                          f"höchstens {limits.max_members})")
            declared = sum(i.file_size for i in infos)
            too_big = bomb.format(detail=f"entpackt wäre sie größer als "
                                         f"{_size(limits.max_unzipped)}")
            if declared > limits.max_unzipped:
                return too_big
            ratios = [i.file_size / max(i.compress_size, 1) for i in infos if i.file_size > MB]
            if ratios and max(ratios) > limits.max_ratio:
                return bomb.format(detail=f"ein Teil ist im Verhältnis {max(ratios):,.0f}:1 "
                                          "gepackt".replace(",", "."))
            unpacked = 0
            for info in infos:
                unpacked += _inflated_size(zf, info, limits.max_unzipped - unpacked)
                if unpacked > limits.max_unzipped:
                    return too_big
    except (zipfile.BadZipFile, zlib.error, EOFError, ValueError, NotImplementedError,
            RuntimeError):  # RuntimeError: encrypted member
        return (f"„{name}“ ist beschädigt und lässt sich nicht als Excel-Datei öffnen. Bitte "
                "speichern Sie die Tabelle in Excel erneut als „Excel-Arbeitsmappe (.xlsx)“.")
    return None


def check_upload(upload: UploadLike, limits: UploadLimits = UploadLimits()
                 ) -> Upload | UploadProblem:
    """Check one uploaded file on the server: name, size, real content type, zip bomb,
    encoding. The browser's file filter is no protection, so every check runs here."""
    raw_name = str(getattr(upload, "name", "") or "")
    shown = shown_name(raw_name) or "(ohne Namen)"
    name = base_name(raw_name).lower()
    match = _ALLOWED_NAME.fullmatch(name)
    if not match:
        given = f"„{shown_name(base_name(raw_name))}“" + (
            f" (hochgeladen als „{shown}“)" if base_name(raw_name) != raw_name.strip() else "")
        return UploadProblem(shown, (
            f"{given} ist kein erlaubter Dateiname. Erlaubt sind {_ALLOWED_LIST}, jeweils als "
            ".csv oder .xlsx, zum Beispiel „kommunen.csv“. Bitte benennen Sie die Datei um und "
            "laden Sie sie erneut hoch."))
    content = _read_limited(upload, limits.max_bytes)
    if content is None:
        declared = getattr(upload, "size", None)
        size = f" ({_size(declared)})" if isinstance(declared, int) else ""
        return UploadProblem(name, (
            f"„{name}“ ist zu groß{size}. Erlaubt sind höchstens {_size(limits.max_bytes)} pro "
            "Datei. Bitte entfernen Sie nicht benötigte Spalten oder Tabellenblätter, oder "
            "speichern Sie die Tabelle als CSV."))
    if not content.strip():
        return UploadProblem(name, f"„{name}“ ist leer. Bitte laden Sie die gespeicherte "
                                   "Tabelle mit Kopfzeile hoch.")
    if match.group(2) == "xlsx":
        problem, encoding = _check_xlsx(content, name, limits), "xlsx"
    else:
        encoding, problem = _check_csv(content, name)
    if problem:
        return UploadProblem(name, problem)
    return Upload(match.group(1), name, content, hashlib.sha256(content).hexdigest(),
                  encoding or "")


def check_uploads(uploads: Iterable[UploadLike], limits: UploadLimits = UploadLimits()
                  ) -> UploadCheck:
    """Check every upload; at most one file per input kind is taken."""
    accepted: dict[str, list[Upload]] = {}
    problems: list[UploadProblem] = []
    for upload in uploads:
        result = check_upload(upload, limits)
        if isinstance(result, UploadProblem):
            problems.append(result)
        else:
            accepted.setdefault(result.entity, []).append(result)
    for entity, files in list(accepted.items()):
        if len(files) > 1:
            names = ", ".join(f"„{f.name}“" for f in files)
            problems.append(UploadProblem(files[0].name, (
                f"Für „{entity}“ wurden mehrere Dateien hochgeladen ({names}). Bitte laden Sie "
                "nur eine davon hoch.")))
            del accepted[entity]
    return UploadCheck({k: v[0] for k, v in accepted.items()}, tuple(problems))

