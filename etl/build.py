"""Build one DuckDB database from the input folder: read → validate → SQL layers → atomic swap.

The new database is written to a temporary file next to the target and moved into place with
`os.replace` only after every step succeeded, so readers always see either the old or the new
complete build, and a failed build leaves the previous database untouched.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import errno
import fcntl
import graphlib
import os
import re
import time
import tomllib
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import duckdb
import polars as pl

from etl.checks import (
    CHECKED_IN_SQL,
    rule_table,
    status_warnings,
    validate_frame,
    validate_in_duckdb,
)
from etl.read import (
    DEFAULT_LIMITS,
    ROW_COLUMN,
    CsvFile,
    InputError,
    InputLimits,
    RawTable,
    find_input_file,
    open_table,
    read_table,
)
from etl.schema import (
    BUNDESLAENDER,
    ENTITIES,
    FORMATE,
    GROESSENKLASSEN,
    HANDLUNGSFELDER,
    KOMMUNE_TYPEN,
    KOMMUNEN,
    MEILENSTEINE,
    MODULE,
    SOURCE_FILE,
    STATUS,
    ZIEL_MONATE,
    Entity,
)
from etl.validate import ValidationResult, validate_table

SQL_DIR = Path(__file__).parent / "sql"
# DuckDB's working memory for a build; beyond it DuckDB spills to a temp folder beside the new
# database, so a national file does not take the memory the dashboard needs (issue #16: ≤ 2 GiB
# peak at 4.5 million rows)
BUILD_MEMORY = "1GB"
LAYERS = ("staging", "core", "marts")

Progress = Callable[[str], None]


@dataclass(frozen=True)
class SourceSettings:
    """Settings from the optional `quelle.toml` of an input folder."""

    datenstand: dt.date
    beispieldaten: bool
    bezeichnung: str


@dataclass(frozen=True)
class BuildReport:
    """What a build did: where it wrote, its id, and the rejects per file."""

    build_id: str
    output: Path
    datenstand: dt.date
    results: dict[str, ValidationResult]
    seconds: float

    @property
    def rejects(self) -> pl.DataFrame:
        return report_lines(self.results)


def read_settings(input_dir: Path, datenstand: dt.date | None = None) -> SourceSettings:
    """Read `quelle.toml` if present; an explicit `datenstand` wins over the file."""
    data: dict = {}
    path = input_dir / SOURCE_FILE
    if path.is_file():
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            raise InputError(
                f"„{SOURCE_FILE}“ ist nicht lesbar ({exc}). Bitte speichern Sie die Datei als "
                "UTF-8-Text im Format „datenstand = \"2021-12-15\"“ (Vorlage: data/demo)."
            ) from exc
    file_date = data.get("datenstand")
    if isinstance(file_date, dt.datetime):
        file_date = file_date.date()
    elif isinstance(file_date, str):
        text = file_date.strip()
        file_date = next((d for fmt in ("%Y-%m-%d", "%d.%m.%Y") if (d := _parse_day(text, fmt))),
                         text)
    if file_date is not None and not isinstance(file_date, dt.date):
        shown = str(data.get("datenstand"))[:40]
        raise InputError(
            f"In „{SOURCE_FILE}“ ist der Datenstand „{shown}“ kein Datum. Bitte tragen Sie ihn "
            "als Datum ein, zum Beispiel: datenstand = \"2021-12-15\"."
        )
    return SourceSettings(
        datenstand=datenstand or file_date or dt.date.today(),
        beispieldaten=bool(data.get("beispieldaten", False)),
        bezeichnung=str(data.get("bezeichnung", "")),
    )


_CREATES = re.compile(
    r"\bcreate\s+(?:or\s+replace\s+)?(?:temp\s+|temporary\s+)?(?:table|view|macro)\s+(\w+)",
    re.IGNORECASE)
_COMMENT = re.compile(r"--[^\n]*")


def _layer_order(files: list[Path]) -> list[Path]:
    """Order one layer's models so that a model reading another comes after it.

    Each file is named after what it creates; the dependencies are read from the SQL itself (a
    word naming an object another file of the layer creates), so adding a mart needs no list to
    keep in step. Ties go by file name; a cycle is an error of the SQL, not of the input.
    """
    texts = {f: _COMMENT.sub("", f.read_text(encoding="utf-8")) for f in files}
    creator = {name.lower(): f for f, text in texts.items() for name in _CREATES.findall(text)}
    sorter: graphlib.TopologicalSorter[Path] = graphlib.TopologicalSorter()
    for f, text in texts.items():
        words = set(re.findall(r"\w+", text.lower()))
        sorter.add(f, *(creator[w] for w in words & creator.keys() if creator[w] != f))
    try:
        sorter.prepare()
    except graphlib.CycleError as exc:
        raise RuntimeError(f"SQL models depend on each other in a cycle: {exc.args[1]}") from exc
    ordered: list[Path] = []
    while sorter.is_active():
        ready = sorted(sorter.get_ready())
        ordered += ready
        sorter.done(*ready)
    return ordered
def _parse_day(text: str, fmt: str) -> dt.date | None:
    try:
        return dt.datetime.strptime(text, fmt).date()
    except ValueError:
        return None


def sql_files() -> list[Path]:
    """All SQL models in build order: layer by layer, dependencies first within a layer."""
    return [p for layer in LAYERS for p in _layer_order(sorted((SQL_DIR / layer).glob("*.sql")))]


def read_inputs(
    input_dir: Path, progress: Progress, limits: InputLimits = DEFAULT_LIMITS
) -> dict[str, RawTable | CsvFile]:
    """Open all four input files (read as text, or for files DuckDB reads from disk, their
    dialect only); raises InputError on structural problems."""
    if not input_dir.is_dir():
        raise InputError(f"Der Eingabeordner „{input_dir}“ existiert nicht.")
    raws: dict[str, RawTable | CsvFile] = {}
    for entity in ENTITIES:
        path = find_input_file(input_dir, entity)
        progress(f"Lese {path.name} …")
        # files with SQL rules may stay on disk for DuckDB; the others are read as text
        reader = open_table if entity.name in CHECKED_IN_SQL else read_table
        raw = reader(path, entity, limits)
        raws[entity.name] = raw
        for note in getattr(raw, "notes", ()):
            progress(note)
    return raws


def validate_inputs(
    raws: dict[str, RawTable | CsvFile],
    datenstand: dt.date,
    progress: Progress,
    con: duckdb.DuckDBPyConnection | None = None,
) -> dict[str, ValidationResult]:
    """Validate the registry first, then the files that refer to it. Files with SQL rules
    (etl/checks.py) are checked in `con` (the new database; their good rows stay there as
    `raw_<name>`), or without `con` in memory with their good rows returned as a frame.

    With `con`, the SQL checks run on a second thread while the other files are checked here
    (DuckDB and polars both release the GIL while they work), so the build waits for the longer
    of the two rather than for both (this thread does not touch `con` meanwhile)."""
    results: dict[str, ValidationResult] = {}
    kommunen = validate_table(raws["kommunen"], KOMMUNEN, datenstand)
    results["kommunen"] = kommunen
    known = kommunen.valid.get_column("kommune_id")
    # the SQL checks are started first, so that they run while this thread checks the rest
    in_duckdb = [e for e in ENTITIES[1:] if e.name in CHECKED_IN_SQL and con is not None]
    with ThreadPoolExecutor(max_workers=1) as pool:
        in_sql: dict[str, Future[tuple[ValidationResult, float]]] = {}
        try:
            for entity in in_duckdb + [e for e in ENTITIES[1:] if e not in in_duckdb]:
                raw = raws[entity.name]
                if isinstance(raw, RawTable):
                    progress(f"Prüfe {raw.path.name} ({raw.frame.height:,} Zeilen) …"
                             .replace(",", "."))
                else:
                    progress(f"Prüfe {raw.path.name} …")
                if entity.name in CHECKED_IN_SQL and con is not None:
                    in_sql[entity.name] = pool.submit(_check_in_sql, con, raw, entity,
                                                      known)
                elif entity.name in CHECKED_IN_SQL:
                    results[entity.name] = validate_frame(raw, entity, known)
                else:
                    results[entity.name] = validate_table(raw, entity, datenstand, known)
            # warnings (rows kept): register statuses no reached milestone proves
            warnings = status_warnings(kommunen.valid, results["meilensteine"].valid,
                                       raws["kommunen"].path.name, datenstand)
            for name, job in in_sql.items():
                results[name], took = job.result()
                progress(f"SQL checks/{name}.sql ({took:.2f} s)")
        except BaseException:
            if con is not None:
                con.interrupt()  # the pool waits for the SQL checks: stop them first
            raise
    results = {entity.name: results[entity.name] for entity in ENTITIES}
    results["kommunen"] = dataclasses.replace(kommunen, warnings=warnings)
    for name, r in results.items():
        hints = f", {r.warnings.height} Hinweise" if r.warnings is not None else ""
        progress(f"  {name}: {r.loaded_rows} übernommen, {r.rejected_rows} Zeilen abgelehnt"
                 + hints)
    return results


def _check_in_sql(con: duckdb.DuckDBPyConnection, raw: RawTable | CsvFile, entity: Entity,
                  known: pl.Series) -> tuple[ValidationResult, float]:
    """`validate_in_duckdb` and its seconds (reported by the calling thread)."""
    started = time.perf_counter()
    return validate_in_duckdb(con, raw, entity, known), time.perf_counter() - started


def report_lines(results: dict[str, ValidationResult]) -> pl.DataFrame:
    """Every file's reject lines and warnings (column `art`), for the report and the database."""
    return pl.concat([r.report_lines for r in results.values()])


def _write_database(
    con: duckdb.DuckDBPyConnection,
    build_id: str,
    settings: SourceSettings,
    input_dir: Path,
    raws: dict[str, RawTable | CsvFile],
    results: dict[str, ValidationResult],
    progress: Progress,
) -> None:
    for name, result in results.items():
        if result.valid is not None:
            # staging reads the validated frames in place (no copy into a table first)
            con.register(f"raw_{name}", result.valid.drop(ROW_COLUMN))
    con.execute(
        "create table meta_build as select ? as build_id, ?::timestamptz as erstellt_am, "
        "?::date as datenstand, ? as beispieldaten, ? as bezeichnung, ? as eingabe",
        [
            build_id,
            dt.datetime.now(dt.UTC),
            settings.datenstand,
            settings.beispieldaten,
            settings.bezeichnung,
            str(input_dir),
        ],
    )
    files = pl.DataFrame(
        [
            {
                "datei_art": name,
                "datei": raws[name].path.name,
                "sha256": raws[name].sha256,
                "kodierung": raws[name].encoding,
                "zeilen_gelesen": r.rows_read,
                "zeilen_geladen": r.loaded_rows,
                "zeilen_abgelehnt": r.rejected_rows,
            }
            for name, r in results.items()
        ]
    )
    _create_from_frame(con, "meta_dateien", files)
    _create_from_frame(con, "meta_ablehnungen", report_lines(results))
    for sql in sql_files():
        started = time.perf_counter()
        con.execute(sql.read_text(encoding="utf-8"))
        took = time.perf_counter() - started
        progress(f"SQL {sql.parent.name}/{sql.name} ({took:.2f} s)")
    con.execute("checkpoint")


def reference_tables() -> dict[str, pl.DataFrame]:
    """Domain lists from etl.schema as tables, so SQL and Python share one source of truth."""
    return {
        "ref_meilenstein": pl.DataFrame(
            {"meilenstein": MEILENSTEINE, "reihenfolge": range(1, len(MEILENSTEINE) + 1)}
        ),
        "ref_handlungsfeld": pl.DataFrame(
            {"handlungsfeld": HANDLUNGSFELDER, "nummer": range(1, len(HANDLUNGSFELDER) + 1)}
        ),
        "ref_modul": pl.DataFrame(
            {"modul": list(MODULE), "bezeichnung": list(MODULE.values())},
            schema={"modul": pl.Int8, "bezeichnung": pl.String},
        ),
        "ref_groessenklasse": pl.DataFrame(
            {
                "groessenklasse": [g[0] for g in GROESSENKLASSEN],
                "von": [g[1] for g in GROESSENKLASSEN],
                "bis": [g[2] for g in GROESSENKLASSEN],
                "reihenfolge": range(1, len(GROESSENKLASSEN) + 1),
            },
            schema_overrides={"bis": pl.Int64},
        ),
        "ref_programm": pl.DataFrame(
            {"ziel_monate_min": [ZIEL_MONATE[0]], "ziel_monate_max": [ZIEL_MONATE[1]]}
        ),
        # display order of the report tables (etl/sql/marts/)
        **{
            name: pl.DataFrame({column: values, "reihenfolge": range(1, len(values) + 1)})
            for name, column, values in (
                ("ref_status", "status", STATUS),
                ("ref_kommune_typ", "typ", KOMMUNE_TYPEN),
                ("ref_bundesland", "bundesland", BUNDESLAENDER),
                ("ref_format", "format", FORMATE),
            )
        },
    }


def _create_reference_tables(con: duckdb.DuckDBPyConnection) -> None:
    for name, frame in reference_tables().items():
        _create_from_frame(con, name, frame)
    _create_from_frame(con, "ref_spalte_regel", rule_table())


def _create_from_frame(con: duckdb.DuckDBPyConnection, table: str, frame: pl.DataFrame) -> None:
    con.register("_incoming", frame)
    con.execute(f"create table {table} as select * from _incoming")
    con.unregister("_incoming")


def new_build_id() -> str:
    """A sortable, unique build id: UTC time plus a random suffix (`20220315T101500Z-3f9a1c`)."""
    return dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ") + "-" + uuid.uuid4().hex[:6]


def staged_tables(
    results: dict[str, ValidationResult], names: tuple[str, ...] = ("kommunen", "meilensteine")
) -> dict[str, pl.DataFrame]:
    """The staging layer's rows for validated frames, built in memory: what the core tables of a
    new build would hold (the import preview compares them with the current build)."""
    con = duckdb.connect()
    try:
        for name, result in results.items():
            con.register(f"raw_{name}", result.valid.drop(ROW_COLUMN))
        staged = {}
        for name in names:
            con.execute((SQL_DIR / "staging" / f"stg_{name}.sql").read_text(encoding="utf-8"))
            staged[name] = con.sql(f"select * from stg_{name}").pl()
        return staged
    finally:
        con.close()


_TEMP_SUFFIXES = (".tmp", ".tmp.wal", ".lock")


def _temp_paths(target: Path, tag: str) -> tuple[Path, Path, Path]:
    """(temp file, DuckDB's write-ahead log of it, claim) for a temp copy of `target`."""
    stem = f".{target.name}.{tag}"
    return tuple(target.with_name(stem + suffix) for suffix in _TEMP_SUFFIXES)  # type: ignore


@contextlib.contextmanager
def temp_beside(target: Path, tag: str) -> Iterator[Path]:
    """A temp path `.<name>.<tag>.tmp` beside `target` for a file that will replace it.

    The temp file is claimed by an exclusive `flock` on `.<name>.<tag>.lock` for as long as the
    block runs; the kernel drops the claim when the process dies, so `remove_stale_temp` can
    tell a dead build's leftovers from a running build's file. Everything is removed on exit.
    """
    tmp, wal, claim = _temp_paths(target, tag)
    fd = os.open(claim, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        try:
            yield tmp
        finally:
            for leftover in (tmp, wal, claim):
                leftover.unlink(missing_ok=True)
    finally:
        os.close(fd)


def remove_stale_temp(target: Path) -> list[Path]:
    """Remove the temp files beside `target` that no living build claims (a killed build's
    `.monitor.duckdb.<id>.tmp` and `.wal`, which may hold personal data); returns them."""
    if not target.parent.is_dir():
        return []
    prefix = f".{target.name}."
    tags = set()
    for path in target.parent.iterdir():
        name = path.name
        if name.startswith(prefix) and (suffix := next(
                (s for s in _TEMP_SUFFIXES if name.endswith(s)), None)):
            tags.add(name[len(prefix):-len(suffix)])
    removed = []
    for tag in sorted(tags):
        tmp, wal, claim = _temp_paths(target, tag)
        try:
            fd = os.open(claim, os.O_RDWR | os.O_CREAT, 0o600)
        except OSError:
            continue
        try:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                continue  # a running build holds it
            for leftover in (tmp, wal, claim):
                if leftover.exists():
                    leftover.unlink(missing_ok=True)
                    removed.append(leftover)
        finally:
            os.close(fd)
    return [p for p in removed if p.name.endswith((".tmp", ".wal"))]


def _as_os_error(exc: duckdb.Error, path: Path) -> OSError | None:
    """The file-system fault behind a DuckDB error (full disk, read-only, no rights), if any."""
    text = str(exc)
    code = next((c for c, marker in ((errno.ENOSPC, "No space left"),
                                     (errno.EROFS, "Read-only file system"),
                                     (errno.EACCES, "Permission denied")) if marker in text),
                None)
    if code is None and isinstance(exc, duckdb.IOException):
        code = errno.EIO
    return None if code is None else OSError(code, os.strerror(code), str(path))


def describe_os_error(exc: OSError) -> str:
    """A German sentence naming the cause of a failed file operation and what to do."""
    where = f" („{exc.filename}“)" if getattr(exc, "filename", None) else ""
    match exc.errno:
        case errno.ENOSPC | errno.EDQUOT:
            return (f"Der Speicherplatz auf dem Server ist voll{where}. Bitte geben Sie "
                    "Speicherplatz frei (zum Beispiel alte Sicherungen oder Protokolle löschen) "
                    "oder lassen Sie ihn von der technischen Betreuung erweitern, dann versuchen "
                    "Sie es erneut.")
        case errno.EROFS:
            return (f"Der Datenordner ist schreibgeschützt{where}. Bitte lassen Sie ihn von der "
                    "technischen Betreuung wieder beschreibbar einbinden, dann versuchen Sie es "
                    "erneut.")
        case errno.EACCES | errno.EPERM:
            return (f"Es fehlen Schreibrechte{where}. Bitte lassen Sie der Anwendung von der "
                    "technischen Betreuung Schreibrechte für den Datenordner geben.")
        case _:
            reason = exc.strerror or type(exc).__name__
            return (f"Eine Datei konnte nicht geschrieben werden ({reason}){where}. Bitte prüfen "
                    "Sie Speicherplatz und Rechte des Datenordners oder wenden Sie sich an die "
                    "technische Betreuung.")


def build(
    input_dir: Path,
    output: Path,
    datenstand: dt.date | None = None,
    progress: Progress = lambda _msg: None,
    build_id: str | None = None,
    limits: InputLimits = DEFAULT_LIMITS,
) -> BuildReport:
    """Build the database at `output` from `input_dir`; the old file stays until success.

    `build_id` lets a caller name the build beforehand (the Daten page names the version
    folder after it); by default a new one is made. `limits` are the upload's input limits
    unless the operator of the CLI raised the size limit (`--max-mb`).
    """
    started = time.perf_counter()
    input_dir, output = Path(input_dir), Path(output)
    settings = read_settings(input_dir, datenstand)
    raws = read_inputs(input_dir, progress, limits)

    build_id = build_id or new_build_id()
    output.parent.mkdir(parents=True, exist_ok=True)
    for stale in remove_stale_temp(output):
        progress(f"Reste eines abgebrochenen Builds entfernt: {stale.name}")
    with temp_beside(output, build_id) as tmp:
        try:
            con = duckdb.connect(str(tmp), config={"memory_limit": BUILD_MEMORY})
            try:
                # the rule tables first: files with SQL rules are checked inside the new database
                _create_reference_tables(con)
                results = validate_inputs(raws, settings.datenstand, progress, con)
                _write_database(con, build_id, settings, input_dir, raws, results, progress)
            finally:
                con.close()
        except duckdb.Error as exc:  # DuckDB reports a full disk as its own error
            if (fault := _as_os_error(exc, tmp)) is None:
                raise
            raise fault from exc
        fsync_file(tmp)
        os.replace(tmp, output)  # atomic on POSIX: readers see the old or the new file
    progress(f"Fertig: {output} (Build {build_id})")
    return BuildReport(
        build_id, output, settings.datenstand, results, time.perf_counter() - started
    )


def fsync_file(path: Path) -> None:
    """Flush a file's data to disk (before an atomic rename makes it visible)."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
