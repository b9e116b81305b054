"""The input documentation covers every column the ETL reads and is up to date."""

from __future__ import annotations

from pathlib import Path

import duckdb
import polars as pl

from etl.docs import render_readme
from etl.schema import ENTITIES

ROOT = Path(__file__).resolve().parents[2]
SQL = ROOT / "etl" / "sql" / "staging"


def test_data_readme_is_generated_from_schema():
    committed = (ROOT / "data" / "README.md").read_text(encoding="utf-8")
    assert committed == render_readme(), "data/README.md is stale: run `make docs`"


# DuckDB types of the validated input columns (everything else arrives as text)
DUCKDB_TYPES = {"int": "integer", "decimal": "double", "date": "date", "bool": "boolean"}


def test_every_column_the_staging_sql_reads_is_documented():
    """The staging SQL runs on input tables that have exactly the documented columns, so a
    column it reads but the schema (and data/README.md) lacks fails to bind."""
    doc = (ROOT / "data" / "README.md").read_text(encoding="utf-8")
    con = duckdb.connect()
    for entity in ENTITIES:
        section = doc.split(f"### `{entity.name}.csv`")[1].split("### ")[0]
        for column in entity.columns:
            assert f"| `{column.name}` |" in section, f"{entity.name}.{column.name} undocumented"
        columns = ", ".join(f'"{c.name}" {DUCKDB_TYPES.get(c.type, "varchar")}'
                            for c in entity.columns)
        con.execute(f"create table raw_{entity.name} ({columns})")
    for entity in ENTITIES:
        try:
            con.execute((SQL / f"stg_{entity.name}.sql").read_text(encoding="utf-8"))
            con.execute(f"select * from stg_{entity.name}")
        except duckdb.BinderException as exc:
            raise AssertionError(f"stg_{entity.name}.sql reads an undocumented column: {exc}"
                                 ) from exc


def test_templates_have_every_column():
    for entity in ENTITIES:
        csv = pl.read_csv(ROOT / "data" / "vorlagen" / f"{entity.name}.csv", separator=";")
        xlsx = pl.read_excel(ROOT / "data" / "vorlagen" / f"{entity.name}.xlsx")
        assert csv.columns == entity.column_names
        assert xlsx.columns == entity.column_names
