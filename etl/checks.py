"""Validation inside DuckDB: the files whose rules live in etl/sql/checks/ are read by DuckDB
(a UTF-8 CSV straight from disk, every other shape through the in-memory reader as Arrow),
checked there and loaded without passing through Python rows. Python only orchestrates:
it names the source, runs the rule files and collects the (few) reject lines.

Files not listed in `CHECKED_IN_SQL` are still checked by etl/validate.py (polars); both give
the same reject lines (file, row, column, value, German message).
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import duckdb
import polars as pl

from etl.read import ROW_COLUMN, CsvFile, InputLimits, RawTable, read_table
from etl.schema import DATE_MAX, DATE_MIN, ENTITIES, Entity
from etl.validate import (
    _TYPE_HINT,
    ART_FEHLER,
    ART_HINWEIS,
    MAX_CHARS,
    MAX_CHARS_BY_COLUMN,
    REJECT_SCHEMA,
    ValidationResult,
    _de_number,
)

CHECKS_DIR = Path(__file__).parent / "sql" / "checks"
CHECKED_IN_SQL = ("modulnutzung",)

_RULE_FIELDS = {
    "spalte": pl.String,
    "pflicht": pl.Boolean,
    "typ_hinweis": pl.String,
    "erlaubt": pl.List(pl.String),
    "minimum": pl.Float64,
    "maximum": pl.Float64,
    "minimum_text": pl.String,
    "maximum_text": pl.String,
    "max_zeichen": pl.Int64,
    "datum_min": pl.Date,
    "datum_max": pl.Date,
}


def rule_table() -> pl.DataFrame:
    """Each input column's rules from etl/schema.py (table `ref_spalte_regel`): datei, spalte and
    a struct `regel` the rule macros of etl/sql/checks/_regeln.sql read."""
    rows = [
        {
            "datei": entity.name,
            "spalte": col.name,
            "regel": {
                "spalte": col.name,
                "pflicht": col.required,
                "typ_hinweis": _TYPE_HINT.get(col.type),
                "erlaubt": list(col.allowed),
                "minimum": col.minimum,
                "maximum": col.maximum,
                "minimum_text": None if col.minimum is None else _de_number(col.minimum),
                "maximum_text": None if col.maximum is None else _de_number(col.maximum),
                "max_zeichen": MAX_CHARS_BY_COLUMN.get(col.name, MAX_CHARS),
                "datum_min": dt.date.fromisoformat(DATE_MIN),
                "datum_max": dt.date.fromisoformat(DATE_MAX),
            },
        }
        for entity in ENTITIES
        for col in entity.columns
    ]
    return pl.DataFrame(
        rows,
        schema={"datei": pl.String, "spalte": pl.String, "regel": pl.Struct(_RULE_FIELDS)},
    )


def _source_view(con: duckdb.DuckDBPyConnection, source: RawTable | CsvFile,
                 entity: Entity) -> None:
    """`pruef_roh`: the file's entity columns as text plus `_zeile`, the row as the spreadsheet
    shows it. For a CSV file DuckDB reads itself `_zeile` is null: the rule file writes the rows
    in file order (its query has no join, see etl/sql/checks/modulnutzung.sql), so the row number is
    the check table's rowid, and the file is read only once, straight into the check."""
    if isinstance(source, RawTable):
        con.register("pruef_roh", source.frame)
        return
    rel = con.read_csv(
        str(source.path),
        sep=source.separator,
        header=True,
        columns=dict.fromkeys(source.header, "VARCHAR"),
        auto_detect=False,
        quotechar='"',
        escapechar='"',
        # ragged lines or a stray quote stop DuckDB's reader; `validate_in_duckdb` then hands
        # the file to the in-memory reader, which decides as it always did
        strict_mode=True,
    )
    present = set(source.header)
    rel.select(
        f"null::bigint as {ROW_COLUMN}, "
        + ", ".join(c if c in present else f"null::varchar as {c}" for c in entity.column_names)
    ).create_view("pruef_roh", replace=True)


def run_rule_file(con: duckdb.DuckDBPyConnection, name: str) -> None:
    con.execute((CHECKS_DIR / f"{name}.sql").read_text(encoding="utf-8"))


def validate_in_duckdb(
    con: duckdb.DuckDBPyConnection,
    source: RawTable | CsvFile,
    entity: Entity,
    known_kommunen: pl.Series,
) -> ValidationResult:
    """Check one file inside `con`; afterwards the view `raw_<entity>` holds its good rows.

    `con` needs the table `ref_spalte_regel` (see `rule_table`)."""
    run_rule_file(con, "_regeln")
    con.register("pruef_kommunen", known_kommunen.to_frame("kommune_id"))
    try:
        _source_view(con, source, entity)
        run_rule_file(con, entity.name)
    except duckdb.InvalidInputException:
        if not isinstance(source, CsvFile):
            raise
        # a line with too few or too many cells, or an unterminated quote: the in-memory reader
        # fills short lines, drops surplus cells or stops with its German message, as before
        source = read_table(source.path, entity, InputLimits(max_bytes=source.path.stat().st_size))
        con.execute("drop view if exists pruef_roh")
        _source_view(con, source, entity)
        run_rule_file(con, entity.name)
    rejects = (
        con.sql(f"select zeile, spalte, wert, meldung from abgelehnt_{entity.name}")
        .pl()
        .select(pl.lit(source.path.name).alias("datei"), pl.all(), pl.lit(ART_FEHLER).alias("art"))
        .cast(REJECT_SCHEMA)
    )
    rows_read, loaded = con.execute(
        f"select gelesen, geladen from zahlen_{entity.name}").fetchall()[0]
    con.unregister("pruef_kommunen")
    return ValidationResult(entity.name, None, rejects, rows_read, loaded)


def validate_frame(raw: RawTable | CsvFile, entity: Entity, known_kommunen: pl.Series
                   ) -> ValidationResult:
    """`validate_in_duckdb` on a connection of its own (the import preview: a file already in
    memory; or a CSV on disk): the good rows come back as a typed frame like
    etl.validate.validate_table gives them."""
    con = duckdb.connect()
    try:
        con.register("ref_spalte_regel", rule_table())
        result = validate_in_duckdb(con, raw, entity, known_kommunen)
        valid = con.sql(f"select * from raw_{entity.name} order by {ROW_COLUMN}").pl()
    finally:
        con.close()
    return ValidationResult(entity.name, valid, result.rejects, result.rows_read)


def status_warnings(
    kommunen: pl.DataFrame, meilensteine: pl.DataFrame, file_name: str, datenstand: dt.date
) -> pl.DataFrame:
    """Warnings for register rows whose status no reached milestone proves by the Datenstand
    (etl/sql/checks/hinweise_status.sql); `kommunen` and `meilensteine` are validated frames."""
    con = duckdb.connect()
    try:
        con.register("hinweis_kommunen", kommunen.select(ROW_COLUMN, "kommune_id", "status"))
        con.register("hinweis_meilensteine",
                     meilensteine.select("kommune_id", "meilenstein", "erreicht_am"))
        con.execute("set variable datenstand = ?::date", [datenstand])
        run_rule_file(con, "hinweise_status")
        found = con.sql("select zeile, spalte, wert, meldung from hinweis_status").pl()
    finally:
        con.close()
    return found.select(
        pl.lit(file_name).alias("datei"), pl.all(), pl.lit(ART_HINWEIS).alias("art")
    ).cast(REJECT_SCHEMA)
