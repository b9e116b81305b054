"""Fixtures for the dashboard tests."""

from __future__ import annotations

import duckdb
import pytest


@pytest.fixture(scope="module")
def sql(demo_db):
    """Independent SQL on the demo database: `sql(query, *params)` → rows."""
    con = duckdb.connect(str(demo_db), read_only=True)
    yield lambda q, *p: con.execute(q, list(p)).fetchall()
    con.close()
