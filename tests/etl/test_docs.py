"""The input documentation covers every column the ETL reads and is up to date."""

from __future__ import annotations

import re
from pathlib import Path

import polars as pl

from etl.docs import render_readme
from etl.schema import ENTITIES

ROOT = Path(__file__).resolve().parents[2]
SQL = ROOT / "etl" / "sql" / "staging"


def test_data_readme_is_generated_from_schema():
    committed = (ROOT / "data" / "README.md").read_text(encoding="utf-8")
    assert committed == render_readme(), "data/README.md is stale: run `make docs`"


def test_every_column_the_staging_sql_reads_is_documented():
    doc = (ROOT / "data" / "README.md").read_text(encoding="utf-8")
    for entity in ENTITIES:
        sql = (SQL / f"stg_{entity.name}.sql").read_text(encoding="utf-8")
        renamed = sql.split("renamed as (")[1]
        read = set(re.findall(r"\b([a-z_]+)\b", renamed)) & set(entity.column_names)
        assert read, entity.name
        section = doc.split(f"### `{entity.name}.csv`")[1].split("### ")[0]
        for column in entity.column_names:
            assert f"| `{column}` |" in section, f"{entity.name}.{column} is not documented"


def test_templates_have_every_column():
    for entity in ENTITIES:
        csv = pl.read_csv(ROOT / "data" / "vorlagen" / f"{entity.name}.csv", separator=";")
        xlsx = pl.read_excel(ROOT / "data" / "vorlagen" / f"{entity.name}.xlsx")
        assert csv.columns == entity.column_names
        assert xlsx.columns == entity.column_names
