"""Data import service for the Daten page: check uploads, preview, apply as a new version,
version history and rollback. No Streamlit here; `pages/daten.py` only lays it out.

Version folders live next to the live database (`data/builds/` for `data/monitor.duckdb`):

    builds/
      .sperre                 lock file: applies, rollbacks and registrations run one at a time
      <build_id>/
        eingabe/              the four input files exactly as built, plus quelle.toml
        monitor.duckdb        the version's database (never changed after its build)
        ablehnungen.csv       its rejects report (German Excel CSV)
        version.json          written last: build id, time, user, files, checksums, row counts

A folder without `version.json` is an unfinished build (failed or killed) and is removed by the
next apply. Keeping each version's input files lets a partial upload (say only
`meilensteine.csv`) be combined with the other files of the current version. The database that
`make run` builds is not in this history at first; it is registered as a version (with the demo
input files when they still match its checksums) the first time the Daten page needs it.

Switching the live database (apply and rollback) copies the version's file to a temporary file
in the live database's folder, fsyncs it and moves it over the live file with `os.replace`, which
is atomic on POSIX. Sessions keep reading the old file until the rename; `dashboard.data` notices
the new file and reopens. A crash at any point leaves either the old or the new complete file.

Every public function takes the viewer and refuses anyone but programme staff.
"""

from __future__ import annotations

import contextlib
import copy
import datetime as dt
import fcntl
import hashlib
import io
import json
import os
import re
import shutil
import tempfile
import time
import unicodedata
import zipfile
import zlib
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import polars as pl

from dashboard import audit, data
from etl.build import (
    build,
    fsync_file,
    new_build_id,
    read_settings,
    staged_tables,
    validate_inputs,
)
from etl.excel_csv import to_excel_csv_bytes
from etl.read import InputError, RawTable, decode_text, find_input_file, read_table
from etl.schema import ENTITIES, SOURCE_FILE
from etl.validate import REJECT_SCHEMA

MB = 1024 * 1024
MAX_UPLOAD_BYTES = 50 * MB  # keep equal to server.maxUploadSize in .streamlit/config.toml
MAX_XLSX_UNZIPPED = 1024 * MB  # real workbooks unpack to ~10x their size
MAX_XLSX_RATIO = 100  # real sheets compress ~5–15:1, zip bombs ~1000:1
MAX_XLSX_MEMBERS = 1000
KEEP_VERSIONS = 10
LOCK_TIMEOUT = 300.0

ENTITY_NAMES = tuple(e.name for e in ENTITIES)
DB_NAME = "monitor.duckdb"
INPUT_DIR = "eingabe"
VERSION_FILE = "version.json"
REJECTS_FILE = "ablehnungen.csv"
LOCK_FILE = ".sperre"
_ALLOWED_NAME = re.compile(rf"({'|'.join(ENTITY_NAMES)})\.(csv|xlsx)")
_BUILD_ID = re.compile(r"[0-9A-Za-z][0-9A-Za-z_-]{0,63}")
_SWITCH_TMP = ".{name}.wechsel-{build_id}.tmp"
_ALLOWED_LIST = ", ".join(f"„{n}“" for n in ENTITY_NAMES)

Progress = Callable[[str], None]


def _quiet(_message: str) -> None:
    return None


class ImportFailed(Exception):
    """An upload, apply or rollback that cannot go ahead; the message is German, for staff."""


class ImportBusy(ImportFailed):
    """Another apply or rollback holds the lock."""


# ---- upload checks -------------------------------------------------------------------------------


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


def _shown(raw: str) -> str:
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
    shown = _shown(raw_name) or "(ohne Namen)"
    name = base_name(raw_name).lower()
    match = _ALLOWED_NAME.fullmatch(name)
    if not match:
        given = f"„{_shown(base_name(raw_name))}“" + (
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


# ---- versions ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Version:
    """One database version in the history (the content of its version.json)."""

    build_id: str
    folder: Path
    erstellt_am: dt.datetime
    benutzer: str
    art: str  # "import" or "bestand" (a database that existed before the history)
    datenstand: dt.date | None
    beispieldaten: bool
    bezeichnung: str
    dateien: tuple[dict[str, Any], ...]
    abgelehnte_zeilen: int
    datenbank_sha256: str
    basis_build_id: str | None = None

    @property
    def database(self) -> Path:
        return self.folder / DB_NAME

    def input_file(self, entity: str) -> Path | None:
        """The stored input file of `entity`, if this version kept it."""
        for f in self.dateien:
            if f["datei_art"] == entity and f.get("gespeichert"):
                path = self.folder / INPUT_DIR / f["datei"]
                return path if path.is_file() else None
        return None

    @classmethod
    def load(cls, folder: Path) -> Version | None:
        try:
            meta = json.loads((folder / VERSION_FILE).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        return cls(
            build_id=meta["build_id"],
            folder=folder,
            erstellt_am=dt.datetime.fromisoformat(meta["erstellt_am"]),
            benutzer=meta.get("benutzer", ""),
            art=meta.get("art", "import"),
            datenstand=(dt.date.fromisoformat(meta["datenstand"])
                        if meta.get("datenstand") else None),
            beispieldaten=bool(meta.get("beispieldaten", False)),
            bezeichnung=meta.get("bezeichnung", ""),
            dateien=tuple(meta.get("dateien", ())),
            abgelehnte_zeilen=int(meta.get("abgelehnte_zeilen", 0)),
            datenbank_sha256=meta.get("datenbank_sha256", ""),
            basis_build_id=meta.get("basis_build_id"),
        )


def builds_dir() -> Path:
    """The version folders: `builds/` next to the live database."""
    return data.database_path().parent / "builds"


def _sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        while chunk := fh.read(4 * MB):
            digest.update(chunk)
    return digest.hexdigest()


def _write_json(path: Path, payload: dict) -> None:
    """Write atomically (temp file, fsync, rename): a reader sees all of it or nothing."""
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(payload, ensure_ascii=False, indent=2), encoding="utf-8")
    fsync_file(tmp)
    os.replace(tmp, path)
    fsync_file(path.parent)


@contextlib.contextmanager
def _locked(timeout: float = LOCK_TIMEOUT) -> Iterator[Path]:
    """Hold the history's lock file; applies and rollbacks of all sessions and processes run
    one after the other. The kernel drops the lock when a killed process dies."""
    root = builds_dir()
    root.mkdir(parents=True, exist_ok=True)
    fd = os.open(root / LOCK_FILE, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        deadline = time.monotonic() + timeout
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    raise ImportBusy(
                        "Gerade übernimmt jemand anderes eine neue Version oder setzt eine "
                        "zurück. Bitte versuchen Sie es in einigen Minuten erneut.") from None
                time.sleep(0.1)
        try:
            yield root
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)


def _remove_unfinished(root: Path) -> None:
    """Remove what a failed or killed apply left behind (call with the lock held)."""
    for child in root.iterdir():
        if child.is_dir() and not (child / VERSION_FILE).exists():
            shutil.rmtree(child, ignore_errors=True)
    live = data.database_path()
    for leftover in live.parent.glob(_SWITCH_TMP.format(name=live.name, build_id="*")):
        leftover.unlink(missing_ok=True)


def _all_versions(root: Path) -> list[Version]:
    if not root.is_dir():
        return []
    found = (Version.load(child) for child in root.iterdir() if child.is_dir())
    return sorted((v for v in found if v is not None), key=lambda v: v.erstellt_am, reverse=True)


def _live_build_id() -> str | None:
    try:
        return data.build_info().build_id
    except data.DatabaseMissing:
        return None


def _stamp(path: Path) -> tuple[int, int, int]:
    st = path.stat()
    return st.st_ino, st.st_mtime_ns, st.st_size


def _register_live(viewer: data.Viewer) -> Version | None:
    """Add the live database to the history if it is not there yet (lock held). Its input files
    are kept when the folder it was built from still holds them unchanged (the demo data)."""
    try:
        info = data.build_info()
    except data.DatabaseMissing:
        return None
    folder = builds_dir() / info.build_id
    if (known := Version.load(folder)) is not None:
        return known
    shutil.rmtree(folder, ignore_errors=True)
    (folder / INPUT_DIR).mkdir(parents=True)
    live = data.database_path()
    before = _stamp(live)
    shutil.copyfile(live, folder / DB_NAME)
    if _stamp(live) != before or _live_build_id() != info.build_id:
        shutil.rmtree(folder, ignore_errors=True)
        raise ImportBusy("Die Datenbank wurde gerade ersetzt. Bitte laden Sie die Seite neu.")
    source = Path(info.eingabe) if info.eingabe else None
    if source is not None and not source.is_absolute():
        source = data.ROOT / source
    files = []
    for row in info.dateien.iter_rows(named=True):
        entity = next(e for e in ENTITIES if e.name == row["datei_art"])
        stored = False
        if source is not None and source.is_dir():
            with contextlib.suppress(InputError):
                src = find_input_file(source, entity)
                if src.name == row["datei"] and _sha256_file(src) == row["sha256"]:
                    shutil.copyfile(src, folder / INPUT_DIR / src.name)
                    stored = True
        files.append({**row, "quelle": "bestand", "gespeichert": stored})
    if source is not None and (source / SOURCE_FILE).is_file():
        shutil.copyfile(source / SOURCE_FILE, folder / INPUT_DIR / SOURCE_FILE)
    rejects = data.rejects(viewer)
    (folder / REJECTS_FILE).write_bytes(to_excel_csv_bytes(rejects))
    _write_json(folder / VERSION_FILE, {
        "build_id": info.build_id,
        "erstellt_am": info.erstellt_am.astimezone(dt.UTC).isoformat(),
        "benutzer": "",
        "art": "bestand",
        "datenstand": info.datenstand.isoformat(),
        "beispieldaten": info.beispieldaten,
        "bezeichnung": info.bezeichnung,
        "dateien": files,
        "abgelehnte_zeilen": int(info.dateien.get_column("zeilen_abgelehnt").sum()),
        "datenbank_sha256": _sha256_file(folder / DB_NAME),
    })
    return Version.load(folder)


def current_version(viewer: data.Viewer) -> Version | None:
    """The live database's version (registered in the history on first use); None if there is
    no database yet."""
    data.require_staff(viewer, "Datenversionen sehen")
    build_id = _live_build_id()
    if build_id is None:
        return None
    if (known := Version.load(builds_dir() / build_id)) is not None:
        return known
    with _locked():
        return _register_live(viewer)


def list_versions(viewer: data.Viewer, limit: int = KEEP_VERSIONS) -> list[Version]:
    """The newest `limit` versions, newest first."""
    current_version(viewer)
    return _all_versions(builds_dir())[:limit]


def versions_frame(versions: list[Version], live_build_id: str | None) -> pl.DataFrame:
    """The history as a table: one row per version with files, checksums and row counts."""
    rows = []
    for v in versions:
        by_entity = {f["datei_art"]: f for f in v.dateien}
        rows.append({
            "aktuell": v.build_id == live_build_id,
            "build_id": v.build_id,
            "erstellt_am": v.erstellt_am,
            "benutzer": v.benutzer,
            "art": v.art,
            "datenstand": v.datenstand,
            "dateien": ", ".join(f["datei"] for f in v.dateien),
            "pruefsummen": ", ".join(f"{f['datei']}: {f['sha256'][:12]}" for f in v.dateien),
            **{e: by_entity.get(e, {}).get("zeilen_geladen") for e in ENTITY_NAMES},
            "abgelehnte_zeilen": v.abgelehnte_zeilen,
        })
    schema = {"aktuell": pl.Boolean, "build_id": pl.String,
              "erstellt_am": pl.Datetime("us", "UTC"), "benutzer": pl.String, "art": pl.String,
              "datenstand": pl.Date, "dateien": pl.String, "pruefsummen": pl.String,
              **{e: pl.Int64 for e in ENTITY_NAMES}, "abgelehnte_zeilen": pl.Int64}
    return pl.DataFrame(rows, schema=schema)


def _version_or_fail(build_id: str) -> Version:
    if not _BUILD_ID.fullmatch(build_id or ""):
        raise ImportFailed(f"„{_shown(build_id)}“ ist keine gültige Versionsnummer.")
    version = Version.load(builds_dir() / build_id)
    if version is None:
        raise ImportFailed(f"Die Version „{build_id}“ gibt es nicht (mehr).")
    return version


def rejects_csv(viewer: data.Viewer, build_id: str) -> bytes:
    """The rejects report of a version as German Excel CSV."""
    data.require_staff(viewer, "Prüfberichte herunterladen")
    path = _version_or_fail(build_id).folder / REJECTS_FILE
    if not path.is_file():
        return to_excel_csv_bytes(pl.DataFrame(schema=REJECT_SCHEMA))
    return path.read_bytes()


# ---- preview -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Diff:
    """What an import would change, compared with the current database."""

    kommunen_neu: pl.DataFrame  # kommune_id, name
    kommunen_geaendert: pl.DataFrame  # kommune_id, name, aenderungen
    kommunen_entfernt: pl.DataFrame  # kommune_id, name
    meilensteine_neu: pl.DataFrame  # kommune_id, name, meilenstein
    meilensteine_geaendert: pl.DataFrame  # kommune_id, name, meilenstein, aenderungen
    meilensteine_entfernt: pl.DataFrame  # kommune_id, name, meilenstein

    def counts(self) -> dict[str, int]:
        return {name: getattr(self, name).height for name in self.__dataclass_fields__}


@dataclass(frozen=True)
class Preview:
    """The checked uploads combined with the current version's other files, validated."""

    base_build_id: str | None
    datenstand: dt.date
    beispieldaten: bool
    uploads: dict[str, Upload]
    problems: tuple[UploadProblem, ...]
    files: pl.DataFrame  # datei_art, datei, quelle, kodierung, zeilen_*
    rejects: pl.DataFrame  # datei, zeile, spalte, wert, meldung
    diff: Diff | None

    @property
    def can_apply(self) -> bool:
        """Only a preview without problems (rejected rows are fine) can become a version."""
        return (bool(self.uploads) and not self.problems and self.diff is not None
                and self.files.height == len(ENTITIES))

    @property
    def rows_loaded(self) -> int:
        return int(self.files.get_column("zeilen_geladen").sum())

    @property
    def rows_rejected(self) -> int:
        return int(self.files.get_column("zeilen_abgelehnt").sum())


FILE_SCHEMA = {"datei_art": pl.String, "datei": pl.String, "quelle": pl.String,
               "kodierung": pl.String, "zeilen_gelesen": pl.Int64, "zeilen_geladen": pl.Int64,
               "zeilen_abgelehnt": pl.Int64}


def _settings_text(datenstand: dt.date, beispieldaten: bool, bezeichnung: str) -> str:
    # json.dumps gives a valid TOML basic string (quotes, backslashes and controls escaped)
    return (f"datenstand = {json.dumps(datenstand.isoformat())}\n"
            f"beispieldaten = {'true' if beispieldaten else 'false'}\n"
            f"bezeichnung = {json.dumps(bezeichnung, ensure_ascii=False)}\n")


def _assemble(target: Path, uploads: dict[str, Upload], base: Version | None,
              datenstand: dt.date, beispieldaten: bool) -> dict[str, str]:
    """Write the input folder of a new version: the uploads, and for every other kind the base
    version's file. Returns {entity: "hochgeladen" | "bisher"} for the files present."""
    target.mkdir(parents=True, exist_ok=True)
    sources = {}
    for entity in ENTITY_NAMES:
        if entity in uploads:
            upload = uploads[entity]
            path = target / upload.name
            # canonical names only, but make sure anyway: nothing is written outside `target`
            if path.resolve().parent != target.resolve():
                raise ImportFailed(f"Ungültiger Dateiname „{_shown(upload.name)}“.")
            path.write_bytes(upload.data)
            sources[entity] = "hochgeladen"
        elif base is not None and (stored := base.input_file(entity)) is not None:
            shutil.copyfile(stored, target / stored.name)
            sources[entity] = "bisher"
    bezeichnung = base.bezeichnung if (base is not None and beispieldaten) else ""
    (target / SOURCE_FILE).write_text(_settings_text(datenstand, beispieldaten, bezeichnung),
                                      encoding="utf-8")
    return sources


def _as_text(frame: pl.DataFrame) -> pl.DataFrame:
    """Every column as display text (German dates, decimal comma, ja/nein) for comparing and
    showing values."""
    exprs = []
    for name, dtype in frame.schema.items():
        col = pl.col(name)
        if dtype == pl.Date:
            exprs.append(col.dt.strftime("%d.%m.%Y"))
        elif dtype == pl.Boolean:
            exprs.append(pl.when(col).then(pl.lit("ja")).when(~col).then(pl.lit("nein")))
        elif dtype.is_float():
            exprs.append(col.cast(pl.String).str.replace(".", ",", literal=True))
        else:
            exprs.append(col.cast(pl.String))
    return frame.select(e.alias(n) for e, n in zip(exprs, frame.columns, strict=True))


def diff_rows(old: pl.DataFrame, new: pl.DataFrame, key: list[str]
              ) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame]:
    """(added keys, changed keys with `aenderungen` "feld: alt → neu; …", removed keys).
    A row is changed when any column both frames have differs."""
    common = [c for c in new.columns if c in old.columns and c not in key]
    o = _as_text(old.select(*key, *common))
    n = _as_text(new.select(*key, *common))
    added = n.join(o, on=key, how="anti").select(key)
    removed = o.join(n, on=key, how="anti").select(key)
    both = n.join(o, on=key, how="inner", suffix="__alt")

    def shown(col: pl.Expr) -> pl.Expr:
        return col.fill_null("–").str.slice(0, 40)

    changes = [
        pl.when(~pl.col(c).eq_missing(pl.col(f"{c}__alt")))
        .then(pl.format("{}: {} → {}", pl.lit(c), shown(pl.col(f"{c}__alt")), shown(pl.col(c))))
        for c in common
    ]
    changed = (
        both.with_columns(pl.concat_list(changes).list.drop_nulls().alias("_liste"))
        .filter(pl.col("_liste").list.len() > 0)
        .select(*key, pl.col("_liste").list.join("; ").alias("aenderungen"))
    ) if changes else both.select(key).clear().with_columns(aenderungen=pl.lit(""))
    return added.sort(key), changed.sort(key), removed.sort(key)


def _diff(viewer: data.Viewer, results: dict) -> Diff:
    new = staged_tables(results)
    try:
        old = data.core_tables(viewer)
    except data.DatabaseMissing:
        old = {name: frame.clear() for name, frame in new.items()}
    names = pl.concat([
        old["kommunen"].select("kommune_id", "name"),
        new["kommunen"].select("kommune_id", "name"),
    ]).unique("kommune_id", keep="last")  # the new name where there is one

    def named(frame: pl.DataFrame) -> pl.DataFrame:
        out = frame.join(names, on="kommune_id", how="left")
        return out.select("kommune_id", "name", *[c for c in frame.columns if c != "kommune_id"])

    k_new, k_changed, k_removed = diff_rows(old["kommunen"], new["kommunen"], ["kommune_id"])
    m_key = ["kommune_id", "meilenstein"]
    m_new, m_changed, m_removed = diff_rows(old["meilensteine"], new["meilensteine"], m_key)
    return Diff(named(k_new), named(k_changed), named(k_removed),
                named(m_new), named(m_changed), named(m_removed))


def preview(
    viewer: data.Viewer,
    uploads: Iterable[UploadLike] | UploadCheck,
    datenstand: dt.date,
    beispieldaten: bool = False,
    limits: UploadLimits = UploadLimits(),
    progress: Progress = _quiet,
) -> Preview:
    """Check the uploads, combine them with the current version's other input files, validate
    everything with the ETL's own reader and rules, and compare with the current database."""
    data.require_staff(viewer, "Daten importieren")
    check = uploads if isinstance(uploads, UploadCheck) else check_uploads(uploads, limits)
    base = current_version(viewer)
    problems = list(check.problems)
    raws: dict[str, RawTable] = {}
    diff, rejects = None, pl.DataFrame(schema=REJECT_SCHEMA)
    files = pl.DataFrame(schema=FILE_SCHEMA)
    with tempfile.TemporaryDirectory(prefix="wk-vorschau-") as tmp:
        input_dir = Path(tmp)
        sources = _assemble(input_dir, check.accepted, base, datenstand, beispieldaten)
        for entity in ENTITIES:
            if entity.name not in sources:
                problems.append(UploadProblem(f"{entity.name}.csv", (
                    f"Es fehlt die Datei „{entity.name}.csv“ (oder .xlsx): die aktuelle Version "
                    "hat sie nicht gespeichert. Bitte laden Sie sie mit hoch.")))
                continue
            path = find_input_file(input_dir, entity)
            try:
                raws[entity.name] = read_table(path, entity)
            except InputError as exc:
                origin = "" if sources[entity.name] == "hochgeladen" else " (bisherige Datei)"
                problems.append(UploadProblem(path.name + origin, str(exc)))
        if len(raws) == len(ENTITIES):
            settings = read_settings(input_dir)
            results = validate_inputs(raws, settings.datenstand, progress)
            rejects = pl.concat([r.rejects for r in results.values()])
            files = pl.DataFrame([
                {"datei_art": name, "datei": raws[name].path.name, "quelle": sources[name],
                 "kodierung": raws[name].encoding, "zeilen_gelesen": r.rows_read,
                 "zeilen_geladen": r.valid.height, "zeilen_abgelehnt": r.rejected_rows}
                for name, r in results.items()
            ], schema=FILE_SCHEMA)
            diff = _diff(viewer, results)
    return Preview(base.build_id if base else None, datenstand, beispieldaten, check.accepted,
                   tuple(problems), files, rejects, diff)


# ---- apply and rollback --------------------------------------------------------------------------


def _switch(source: Path, build_id: str) -> None:
    """Make `source` the live database: copy next to it, fsync, atomic rename."""
    live = data.database_path()
    live.parent.mkdir(parents=True, exist_ok=True)
    tmp = live.with_name(_SWITCH_TMP.format(name=live.name, build_id=build_id))
    try:
        shutil.copyfile(source, tmp)
        fsync_file(tmp)
        os.replace(tmp, live)  # readers see the old or the new file, never a mix
    finally:
        tmp.unlink(missing_ok=True)
    with contextlib.suppress(OSError):  # the switch happened; this only hastens durability
        fsync_file(live.parent)


def _prune(root: Path, keep: int) -> None:
    """Keep the newest `keep` versions and the live one; older folders go (they hold personal
    data, and nobody rolls back that far)."""
    live = _live_build_id()
    for version in _all_versions(root)[keep:]:
        if version.build_id != live:
            shutil.rmtree(version.folder, ignore_errors=True)


def apply(
    viewer: data.Viewer,
    user: str,
    preview: Preview,
    progress: Progress = _quiet,
    lock_timeout: float = LOCK_TIMEOUT,
    keep: int = KEEP_VERSIONS,
) -> Version:
    """Build the previewed data as a new version and make it the live database.

    The build runs into the new version's folder; the live file is replaced only after the
    build succeeded, so a failed or killed import leaves the current version in place.
    """
    data.require_staff(viewer, "Daten übernehmen")
    if not preview.can_apply:
        raise ImportFailed("Die Vorschau enthält Fehler. Bitte beheben Sie die genannten "
                           "Probleme und laden Sie die Dateien erneut hoch.")
    with _locked(lock_timeout) as root:
        _remove_unfinished(root)
        base = _register_live(viewer)
        if (base.build_id if base else None) != preview.base_build_id:
            raise ImportFailed(
                "Inzwischen wurde eine andere Version übernommen. Bitte prüfen Sie die Vorschau "
                "erneut, damit keine Änderung verloren geht.")
        build_id = new_build_id()
        folder = root / build_id
        try:
            sources = _assemble(folder / INPUT_DIR, preview.uploads, base, preview.datenstand,
                                preview.beispieldaten)
            report = build(folder / INPUT_DIR, folder / DB_NAME, preview.datenstand, progress,
                           build_id=build_id)
            (folder / REJECTS_FILE).write_bytes(to_excel_csv_bytes(report.rejects))
            settings = read_settings(folder / INPUT_DIR)
            files = []
            for name, result in report.results.items():
                path = find_input_file(folder / INPUT_DIR, next(e for e in ENTITIES
                                                                if e.name == name))
                files.append({
                    "datei_art": name, "datei": path.name, "sha256": _sha256_file(path),
                    "bytes": path.stat().st_size, "quelle": sources[name],
                    "zeilen_gelesen": result.rows_read, "zeilen_geladen": result.valid.height,
                    "zeilen_abgelehnt": result.rejected_rows, "gespeichert": True,
                })
            progress("Prüfsummen und Versionsangaben werden geschrieben …")
            _write_json(folder / VERSION_FILE, {
                "build_id": build_id,
                "erstellt_am": dt.datetime.now(dt.UTC).isoformat(),
                "benutzer": user,
                "art": "import",
                "basis_build_id": base.build_id if base else None,
                "datenstand": report.datenstand.isoformat(),
                "beispieldaten": settings.beispieldaten,
                "bezeichnung": settings.bezeichnung,
                "dateien": files,
                "abgelehnte_zeilen": sum(f["zeilen_abgelehnt"] for f in files),
                "datenbank_sha256": _sha256_file(folder / DB_NAME),
            })
            progress("Die neue Version wird aktiviert …")
            _switch(folder / DB_NAME, build_id)
        except BaseException as exc:
            shutil.rmtree(folder, ignore_errors=True)
            if isinstance(exc, Exception):
                with contextlib.suppress(OSError):  # never hide the real error
                    audit.log_event(user, "import_failed", {
                        "basis": preview.base_build_id, "fehler": type(exc).__name__,
                        "meldung": str(exc)[:200]})
            if isinstance(exc, InputError):
                raise ImportFailed(str(exc)) from exc
            if isinstance(exc, OSError):
                raise ImportFailed(
                    f"Die neue Version konnte nicht gespeichert werden ({exc.strerror or exc}). "
                    "Die bisherige Version bleibt aktiv.") from exc
            raise
        _prune(root, keep)
    version = Version.load(folder)
    assert version is not None
    audit.log_event(user, "import", {
        "build_id": build_id,
        "basis": preview.base_build_id,
        "hochgeladen": sorted(u.name for u in preview.uploads.values()),
        "dateien": {f["datei"]: f["sha256"][:16] for f in version.dateien},
        "zeilen": {f["datei_art"]: f["zeilen_geladen"] for f in version.dateien},
        "abgelehnte_zeilen": version.abgelehnte_zeilen,
    })
    return version


def rollback(viewer: data.Viewer, user: str, build_id: str,
             lock_timeout: float = LOCK_TIMEOUT) -> Version:
    """Make an earlier version the live database again (same atomic switch as an import)."""
    data.require_staff(viewer, "Versionen zurücksetzen")
    with _locked(lock_timeout):
        previous = _register_live(viewer)
        version = _version_or_fail(build_id)
        if previous is not None and previous.build_id == version.build_id:
            return version
        if not version.database.is_file() or (
                _sha256_file(version.database) != version.datenbank_sha256):
            raise ImportFailed(
                f"Die gespeicherte Datenbank der Version „{build_id}“ ist beschädigt (die "
                "Prüfsumme stimmt nicht). Die aktuelle Version bleibt aktiv.")
        _switch(version.database, build_id)
    audit.log_event(user, "rollback", {
        "von": previous.build_id if previous else None, "nach": build_id})
    return version
