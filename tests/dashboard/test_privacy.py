"""The documented deletion of a commune's personal data reaches every copy."""

from __future__ import annotations

import shutil
from pathlib import Path

import duckdb
import pytest

from dashboard import data, imports, privacy
from etl.build import build
from tests.cohort import write_cohort

KOMMUNE = "05766020"  # Lemgo in the hand-made cohort: contact person and an internal note


@pytest.fixture
def live(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    db = tmp_path / "live" / "monitor.duckdb"
    build(write_cohort(tmp_path / "in"), db)
    monkeypatch.setenv("WK_DB", str(db))
    monkeypatch.setenv("WK_AUDIT", str(tmp_path / "audit.jsonl"))
    return db


def _contact(db: Path) -> tuple:
    con = duckdb.connect(str(db), read_only=True)
    try:
        return con.execute("select ansprechperson, email, telefon, notiz from mart_kommune "
                           "where kommune_id = ?", [KOMMUNE]).fetchone()
    finally:
        con.close()


def test_deletes_from_live_database_versions_and_inputs(live: Path, tmp_path: Path):
    version = imports.current_version(data.STAFF)  # registers the live DB in the history
    assert version is not None and _contact(version.database)[0] == "Lars Erfunden"
    stored = version.folder / "eingabe" / "kommunen.csv"
    if not stored.exists():  # the cohort's inputs are outside the repo: keep a copy to check
        shutil.copyfile(tmp_path / "in" / "kommunen.csv", stored)
    old_build = data.build_info().build_id

    report = privacy.delete_personal_data(data.STAFF, "anna", KOMMUNE)

    assert _contact(live) == (None, None, None, None)
    assert _contact(version.database) == (None, None, None, None)
    text = stored.read_text(encoding="utf-8-sig")
    assert "Lars Erfunden" not in text and "lars@example.org" not in text
    assert "Frida Fiktiv" in text  # other communes untouched
    assert report.databases == 2 and report.input_files == 1
    assert data.build_info().build_id == old_build  # same version, just without the contact
    profile = data.load_kommune_profile(data.STAFF, KOMMUNE)
    assert profile.facts["email"] is None and len(profile.milestones) == 5
    log = (tmp_path / "audit.jsonl").read_text()
    assert '"delete_personal"' in log and "Lars" not in log
    # the version stays usable for rollback (checksums updated)
    imports.rollback(data.STAFF, "anna", version.build_id)
    assert _contact(live) == (None, None, None, None)


def test_only_staff_may_delete(live: Path):
    with pytest.raises(PermissionError):
        privacy.delete_personal_data(data.Viewer("kommune", KOMMUNE), "x", KOMMUNE)
    assert _contact(live)[0] == "Lars Erfunden"
