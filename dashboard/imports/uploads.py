"""Checks for uploaded input files: name, size, real content type, zip bomb, encoding.

The browser's file filter is no protection, so every check runs here on the server. The limits
and the workbook check (`xlsx_problem`) live in etl/read.py, so `python -m etl build` applies the
same ones to the files of an input folder.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from etl.read import (
    MAX_INPUT_BYTES,
    MB,
    InputError,
    InputLimits,
    content_kind,
    decode_text,
    size_text,
    xlsx_problem,
)
from etl.schema import ENTITIES

# keep equal to server.maxUploadSize in .streamlit/config.toml
MAX_UPLOAD_BYTES = MAX_INPUT_BYTES

ENTITY_NAMES = tuple(e.name for e in ENTITIES)
_ALLOWED_NAME = re.compile(rf"({'|'.join(ENTITY_NAMES)})\.(csv|xlsx)")
_ALLOWED_LIST = ", ".join(f"„{n}“" for n in ENTITY_NAMES)


class UploadLike(Protocol):
    """What the checks need of an uploaded file (Streamlit's UploadedFile, an open file …)."""

    name: str

    def read(self, size: int = -1, /) -> bytes: ...


# An upload has the same limits as an input file of the CLI build (one set, in etl/read.py).
UploadLimits = InputLimits


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
    kind = content_kind(data)
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


def _check_xlsx(data: bytes, name: str, limits: UploadLimits) -> str | None:
    return xlsx_problem(data, name, InputLimits(limits.max_bytes, limits.max_unzipped,
                                                limits.max_ratio, limits.max_members))


def check_upload(upload: UploadLike, limits: InputLimits = InputLimits()
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
        size = f" ({size_text(declared)})" if isinstance(declared, int) else ""
        return UploadProblem(name, (
            f"„{name}“ ist zu groß{size}. Erlaubt sind höchstens {size_text(limits.max_bytes)} pro "
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


def check_uploads(uploads: Iterable[UploadLike], limits: InputLimits = InputLimits()
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

