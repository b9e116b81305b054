"""The version store: every build of the input data as a version folder, the live database
switched atomically between them, history, rollback and pruning.

Version folders live next to the live database (`data/builds/` for `data/monitor.duckdb`):

    builds/
      .sperre                 lock file: applies, rollbacks, rebuilds and registrations run one
                              at a time
      <build_id>/
        eingabe/              the four input files exactly as built, plus quelle.toml
        monitor.duckdb        the version's database (only ever replaced whole, by a rebuild)
        ablehnungen.csv       its rejects report (German Excel CSV)
        version.json          written last: build id, time, user, files, checksums, row counts

A folder without `version.json` is an unfinished build (failed or killed) and is removed by the
next apply. Keeping each version's input files lets a partial upload (say only
`meilensteine.csv`) be combined with the other files of the current version, and lets the
erasure of personal data (dashboard/privacy.py) rebuild a version from blanked inputs. The
database that `make run` builds is not in this history at first; it is registered as a version
(with its input files when they still match its checksums) the first time it is needed.

Switching the live database (apply and rollback) copies the version's file to a temporary file
in the live database's folder, fsyncs it and moves it over the live file with `os.replace`, which
is atomic on POSIX. Sessions keep reading the old file until the rename; `dashboard.data` notices
the new file and reopens. A crash at any point leaves either the old or the new complete file.

Public API for other modules: `locked`, `register_live`, `all_versions`, `switch`, `rebuild`,
`prune`, `sha256_file`, `write_json`, `remove_unfinished`. Functions that take a viewer refuse
anyone but programme staff; the others expect the caller to have checked (and to hold the lock
where they say so).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
import hashlib
import json
import os
import re
import shutil
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import polars as pl

from dashboard import audit, data
from dashboard.imports.uploads import ENTITY_NAMES, MB, Upload, shown_name
from etl.build import (
    BuildReport,
    build,
    describe_os_error,
    fsync_file,
    new_build_id,
    read_settings,
    remove_stale_temp,
    temp_beside,
)
from etl.excel_csv import to_excel_csv_bytes
from etl.read import InputError, find_input_file
from etl.schema import ENTITIES, SOURCE_FILE
from etl.validate import REJECT_SCHEMA

KEEP_VERSIONS = 10
LOCK_TIMEOUT = 300.0
DB_NAME = "monitor.duckdb"
INPUT_DIR = "eingabe"
VERSION_FILE = "version.json"
REJECTS_FILE = "ablehnungen.csv"
LOCK_FILE = ".sperre"
_BUILD_ID = re.compile(r"[0-9A-Za-z][0-9A-Za-z_-]{0,63}")

Progress = Callable[[str], None]


def _quiet(_message: str) -> None:
    return None


class ImportFailed(Exception):
    """An upload, apply or rollback that cannot go ahead; the message is German, for staff."""


class ImportBusy(ImportFailed):
    """Another apply or rollback holds the lock."""



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

    @property
    def input_dir(self) -> Path:
        return self.folder / INPUT_DIR

    @property
    def complete(self) -> bool:
        """Whether the version kept all its input files (it can be rebuilt from them)."""
        return all(self.input_file(name) is not None for name in ENTITY_NAMES)

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


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        while chunk := fh.read(4 * MB):
            digest.update(chunk)
    return digest.hexdigest()


def write_json(path: Path, payload: dict) -> None:
    """Write atomically (temp file, fsync, rename): a reader sees all of it or nothing."""
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(payload, ensure_ascii=False, indent=2), encoding="utf-8")
    fsync_file(tmp)
    os.replace(tmp, path)
    fsync_file(path.parent)


@contextlib.contextmanager
def locked(timeout: float = LOCK_TIMEOUT) -> Iterator[Path]:
    """Hold the history's lock file; applies and rollbacks of all sessions and processes run
    one after the other. The kernel drops the lock when a killed process dies."""
    root = builds_dir()
    try:
        root.mkdir(parents=True, exist_ok=True)
        fd = os.open(root / LOCK_FILE, os.O_RDWR | os.O_CREAT, 0o600)
    except OSError as exc:
        raise ImportFailed(f"Der Versionsordner „{root}“ ist nicht nutzbar: "
                           f"{describe_os_error(exc)} Die bisherige Version bleibt aktiv."
                           ) from exc
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


def remove_unfinished(root: Path) -> None:
    """Remove what a failed or killed apply, switch or build left behind: unfinished version
    folders and temp files beside the live database (call with the lock held)."""
    for child in root.iterdir():
        if child.is_dir() and not (child / VERSION_FILE).exists():
            shutil.rmtree(child, ignore_errors=True)
    remove_stale_temp(data.database_path())


def all_versions(root: Path) -> list[Version]:
    if not root.is_dir():
        return []
    found = (Version.load(child) for child in root.iterdir() if child.is_dir())
    return sorted((v for v in found if v is not None), key=lambda v: v.erstellt_am, reverse=True)


def live_build_id() -> str | None:
    try:
        return data.build_info().build_id
    except data.DatabaseMissing:
        return None


def _stamp(path: Path) -> tuple[int, int, int]:
    st = path.stat()
    return st.st_ino, st.st_mtime_ns, st.st_size


def register_live(viewer: data.Viewer) -> Version | None:
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
    if _stamp(live) != before or live_build_id() != info.build_id:
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
                if src.name == row["datei"] and sha256_file(src) == row["sha256"]:
                    shutil.copyfile(src, folder / INPUT_DIR / src.name)
                    stored = True
        files.append({**row, "quelle": "bestand", "gespeichert": stored})
    if source is not None and (source / SOURCE_FILE).is_file():
        shutil.copyfile(source / SOURCE_FILE, folder / INPUT_DIR / SOURCE_FILE)
    rejects = data.rejects(viewer)
    (folder / REJECTS_FILE).write_bytes(to_excel_csv_bytes(rejects))
    write_json(folder / VERSION_FILE, {
        "build_id": info.build_id,
        "erstellt_am": info.erstellt_am.astimezone(dt.UTC).isoformat(),
        "benutzer": "",
        "art": "bestand",
        "datenstand": info.datenstand.isoformat(),
        "beispieldaten": info.beispieldaten,
        "bezeichnung": info.bezeichnung,
        "dateien": files,
        "abgelehnte_zeilen": int(info.dateien.get_column("zeilen_abgelehnt").sum()),
        "datenbank_sha256": sha256_file(folder / DB_NAME),
    })
    return Version.load(folder)


def current_version(viewer: data.Viewer) -> Version | None:
    """The live database's version (registered in the history on first use); None if there is
    no database yet."""
    data.require_staff(viewer, "Datenversionen sehen")
    build_id = live_build_id()
    if build_id is None:
        return None
    if (known := Version.load(builds_dir() / build_id)) is not None:
        return known
    with locked():
        try:
            return register_live(viewer)
        except OSError as exc:
            raise ImportFailed(failure_message(exc, "Die aktuelle Datenbank")) from exc


def list_versions(viewer: data.Viewer, limit: int = KEEP_VERSIONS) -> list[Version]:
    """The newest `limit` versions, newest first."""
    current_version(viewer)
    return all_versions(builds_dir())[:limit]


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
        raise ImportFailed(f"„{shown_name(build_id)}“ ist keine gültige Versionsnummer.")
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


def _settings_text(datenstand: dt.date, beispieldaten: bool, bezeichnung: str) -> str:
    # json.dumps gives a valid TOML basic string (quotes, backslashes and controls escaped)
    return (f"datenstand = {json.dumps(datenstand.isoformat())}\n"
            f"beispieldaten = {'true' if beispieldaten else 'false'}\n"
            f"bezeichnung = {json.dumps(bezeichnung, ensure_ascii=False)}\n")


def assemble(target: Path, uploads: dict[str, Upload], base: Version | None,
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
                raise ImportFailed(f"Ungültiger Dateiname „{shown_name(upload.name)}“.")
            path.write_bytes(upload.data)
            sources[entity] = "hochgeladen"
        elif base is not None and (stored := base.input_file(entity)) is not None:
            shutil.copyfile(stored, target / stored.name)
            sources[entity] = "bisher"
    bezeichnung = base.bezeichnung if (base is not None and beispieldaten) else ""
    (target / SOURCE_FILE).write_text(_settings_text(datenstand, beispieldaten, bezeichnung),
                                      encoding="utf-8")
    return sources


# ---- apply and rollback --------------------------------------------------------------------------


def switch(source: Path, build_id: str) -> None:
    """Make `source` the live database: copy next to it, fsync, atomic rename."""
    live = data.database_path()
    live.parent.mkdir(parents=True, exist_ok=True)
    with temp_beside(live, f"wechsel-{build_id}") as tmp:
        shutil.copyfile(source, tmp)
        fsync_file(tmp)
        os.replace(tmp, live)  # readers see the old or the new file, never a mix
    with contextlib.suppress(OSError):  # the switch happened; this only hastens durability
        fsync_file(live.parent)


def prune(root: Path, keep: int) -> None:
    """Keep the newest `keep` versions and the live one; older folders go (they hold personal
    data, and nobody rolls back that far)."""
    live = live_build_id()
    for version in all_versions(root)[keep:]:
        if version.build_id != live:
            shutil.rmtree(version.folder, ignore_errors=True)


def _version_files(folder: Path, report: BuildReport, sources: dict[str, str]
                   ) -> list[dict[str, Any]]:
    """The `dateien` entries of version.json: stored file, checksum, size and row counts."""
    files = []
    for entity in ENTITIES:
        result = report.results[entity.name]
        path = find_input_file(folder / INPUT_DIR, entity)
        files.append({
            "datei_art": entity.name, "datei": path.name, "sha256": sha256_file(path),
            "bytes": path.stat().st_size, "quelle": sources.get(entity.name, "bisher"),
            "zeilen_gelesen": result.rows_read, "zeilen_geladen": result.loaded_rows,
            "zeilen_abgelehnt": result.rejected_rows, "gespeichert": True,
        })
    return files


def failure_message(exc: BaseException, what: str) -> str:
    """A German sentence for a failed store operation: what failed, why, what to do; `what`
    names the operation ("Die neue Version", "Die Löschung")."""
    if isinstance(exc, audit.AuditUnwritable):
        return f"{exc} {what} wurde deshalb nicht ausgeführt; die bisherige Version bleibt aktiv."
    if isinstance(exc, ImportFailed | InputError):
        return str(exc)
    if isinstance(exc, OSError):
        return (f"{what} konnte nicht gespeichert werden: {describe_os_error(exc)} "
                "Die bisherige Version bleibt aktiv.")
    return (f"{what} konnte wegen eines unerwarteten Fehlers ({type(exc).__name__}) nicht "
            "gespeichert werden. Die bisherige Version bleibt aktiv. Bitte melden Sie den Fehler "
            "der technischen Betreuung.")


def create(
    viewer: data.Viewer,
    user: str,
    uploads: dict[str, Upload],
    base_build_id: str | None,
    datenstand: dt.date,
    beispieldaten: bool,
    progress: Progress = _quiet,
    lock_timeout: float = LOCK_TIMEOUT,
    keep: int = KEEP_VERSIONS,
) -> Version:
    """Build the uploads (with the base version's other files) as a new version and make it the
    live database.

    The build runs into the new version's folder; the live file is replaced only after the
    build succeeded and the audit event is written, so a failed or killed import, or one that
    could not be audited, leaves the current version in place.
    """
    data.require_staff(viewer, "Daten übernehmen")
    try:
        with locked(lock_timeout) as root:
            return _create_locked(root, viewer, user, uploads, base_build_id, datenstand,
                                  beispieldaten, progress, keep)
    except ImportFailed as exc:
        # a refused import is recorded too (lock, folder, changed base), unless it was already
        # or the log itself is what failed
        if not getattr(exc, "audited", False) and not isinstance(exc.__cause__,
                                                                 audit.AuditUnwritable):
            with contextlib.suppress(OSError):
                audit.log_event(user, "import_failed", {
                    "basis": base_build_id, "fehler": type(exc).__name__,
                    "meldung": str(exc)})
        raise


def _create_locked(root: Path, viewer: data.Viewer, user: str, uploads: dict[str, Upload],
                   base_build_id: str | None, datenstand: dt.date, beispieldaten: bool,
                   progress: Progress, keep: int) -> Version:
    """The body of `create`, with the lock held."""
    remove_unfinished(root)
    try:
        base = register_live(viewer)
    except OSError as exc:
        raise ImportFailed(failure_message(exc, "Die neue Version")) from exc
    if (base.build_id if base else None) != base_build_id:
        raise ImportFailed(
            "Inzwischen wurde eine andere Version übernommen. Bitte prüfen Sie die Vorschau "
            "erneut, damit keine Änderung verloren geht.")
    build_id = new_build_id()
    folder = root / build_id
    audited = False
    try:
        sources = assemble(folder / INPUT_DIR, uploads, base, datenstand, beispieldaten)
        report = build(folder / INPUT_DIR, folder / DB_NAME, datenstand, progress,
                       build_id=build_id)
        (folder / REJECTS_FILE).write_bytes(to_excel_csv_bytes(report.rejects))
        settings = read_settings(folder / INPUT_DIR)
        files = _version_files(folder, report, sources)
        progress("Prüfsummen und Versionsangaben werden geschrieben …")
        write_json(folder / VERSION_FILE, {
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
            "datenbank_sha256": sha256_file(folder / DB_NAME),
        })
        # the event is part of the import: without it, nothing switches
        audit.log_event(user, "import", {
            "build_id": build_id,
            "basis": base_build_id,
            "hochgeladen": sorted(u.name for u in uploads.values()),
            "dateien": {f["datei"]: f["sha256"][:16] for f in files},
            "zeilen": {f["datei_art"]: f["zeilen_geladen"] for f in files},
            "abgelehnte_zeilen": sum(f["zeilen_abgelehnt"] for f in files),
        })
        audited = True
        progress("Die neue Version wird aktiviert …")
        switch(folder / DB_NAME, build_id)
    except BaseException as exc:
        shutil.rmtree(folder, ignore_errors=True)
        if not isinstance(exc, Exception):
            raise
        message = failure_message(exc, "Die neue Version")
        if audited or not isinstance(exc, audit.AuditUnwritable):
            # an audited import that did not switch is recorded as failed
            with contextlib.suppress(OSError):  # never hide the real error
                audit.log_event(user, "import_failed", {
                    "build_id": build_id, "basis": base_build_id,
                    "fehler": type(exc).__name__, "meldung": message})
        failed = ImportFailed(message)
        failed.audited = True  # type: ignore[attr-defined]
        raise failed from exc
    prune(root, keep)
    version = Version.load(folder)
    assert version is not None
    return version


def rebuild(version: Version, progress: Progress = _quiet, **notes: Any) -> Version:
    """Build the version's database anew from its stored input files (lock held): a new file
    replaces the old one atomically, and the rejects report and version.json (checksums, row
    counts, plus `notes`) are rewritten, so rollback keeps working. The erasure of personal data
    uses it after blanking the inputs: no database is edited in place."""
    if not version.complete:
        raise ImportFailed(f"Die Version „{version.build_id}“ hat ihre Eingabedateien nicht "
                           "gespeichert und kann nicht neu gebaut werden.")
    report = build(version.input_dir, version.database, version.datenstand, progress,
                   build_id=version.build_id)
    tmp = version.folder / (REJECTS_FILE + ".tmp")
    tmp.write_bytes(to_excel_csv_bytes(report.rejects))
    os.replace(tmp, version.folder / REJECTS_FILE)
    meta = json.loads((version.folder / VERSION_FILE).read_text(encoding="utf-8"))
    sources = {f["datei_art"]: f.get("quelle", "bisher") for f in meta.get("dateien", [])}
    files = _version_files(version.folder, report, sources)
    meta.update(dateien=files, abgelehnte_zeilen=sum(f["zeilen_abgelehnt"] for f in files),
                datenbank_sha256=sha256_file(version.database), **notes)
    write_json(version.folder / VERSION_FILE, meta)
    rebuilt = Version.load(version.folder)
    assert rebuilt is not None
    return rebuilt


def rollback(viewer: data.Viewer, user: str, build_id: str,
             lock_timeout: float = LOCK_TIMEOUT) -> Version:
    """Make an earlier version the live database again (same atomic switch as an import)."""
    data.require_staff(viewer, "Versionen zurücksetzen")
    with locked(lock_timeout):
        previous = register_live(viewer)
        version = _version_or_fail(build_id)
        if previous is not None and previous.build_id == version.build_id:
            return version
        if not version.database.is_file() or (
                sha256_file(version.database) != version.datenbank_sha256):
            raise ImportFailed(
                f"Die gespeicherte Datenbank der Version „{build_id}“ ist beschädigt (die "
                "Prüfsumme stimmt nicht). Die aktuelle Version bleibt aktiv.")
        details = {"von": previous.build_id if previous else None, "nach": build_id}
        try:
            audit.log_event(user, "rollback", details)  # no unaudited switch
            switch(version.database, build_id)
        except OSError as exc:
            if not isinstance(exc, audit.AuditUnwritable):
                with contextlib.suppress(OSError):
                    audit.log_event(user, "rollback_failed", {**details,
                                                              "fehler": type(exc).__name__})
            raise ImportFailed(failure_message(exc, "Das Zurücksetzen")) from exc
    return version
