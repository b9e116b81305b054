"""Shared fixtures: databases built from text fixtures (no binary fixture is committed)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

# A UI string or data value missing in one language raises instead of showing German.
os.environ["WK_I18N_STRICT"] = "1"

from etl.build import build
from tests.cohort import write_cohort

ROOT = Path(__file__).resolve().parent.parent
DEMO_DIR = ROOT / "data" / "demo"


@pytest.fixture(scope="session")
def cohort_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The small hand-made cohort built into a database."""
    base = tmp_path_factory.mktemp("cohort")
    out = base / "cohort.duckdb"
    build(write_cohort(base / "input"), out)
    return out


@pytest.fixture(scope="session")
def demo_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The committed demo data built into a database."""
    out = tmp_path_factory.mktemp("demo") / "demo.duckdb"
    build(DEMO_DIR, out)
    return out


@pytest.fixture
def use_db(monkeypatch: pytest.MonkeyPatch):
    """Point the data layer at a database for one test: `use_db(path)`."""

    def _use(path: Path) -> Path:
        monkeypatch.setenv("WK_DB", str(path))
        return path

    return _use


@pytest.fixture(autouse=True)
def _isolated_store(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
                    ) -> Path:
    """Every test writes the app store (and its audit events) to a fresh folder, never to
    data/store.sqlite or data/audit.jsonl; a test may set WK_STORE/WK_AUDIT itself."""
    base = tmp_path_factory.mktemp("store")
    monkeypatch.setenv("WK_STORE", str(base / "store.sqlite"))
    monkeypatch.setenv("WK_AUDIT", str(base / "audit.jsonl"))
    return base / "store.sqlite"
