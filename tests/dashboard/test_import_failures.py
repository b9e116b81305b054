"""Imports and rollbacks under real faults: a full disk (small tmpfs), a read-only version folder
(read-only bind mount), an unwritable audit log. Each asserts the German message, what the audit
log holds and that the live version is unchanged."""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import json
import shutil
from pathlib import Path

import pytest

from dashboard import audit, data, imports
from dashboard.imports import ImportFailed
from tests.cohort import DATENSTAND, KOMMUNEN, write_cohort
from tests.fsfaults import fill_up, read_only, small_filesystem

STICHTAG = dt.date.fromisoformat(DATENSTAND)


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def upload() -> list[io.BytesIO]:
    f = io.BytesIO(KOMMUNEN.replace("Lippe;40.696;", "Lippe;41.000;").encode("utf-8"))
    f.name = "kommunen.csv"
    return [f]


def events(log: Path) -> list[dict]:
    if not log.exists():
        return []
    return [json.loads(line) for line in log.read_text(encoding="utf-8").splitlines()]


def setup_live(folder: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    from etl.build import build

    db = folder / "monitor.duckdb"
    build(write_cohort(tmp_path / "eingabe"), db)
    monkeypatch.setenv("WK_DB", str(db))
    monkeypatch.setenv("WK_AUDIT", str(tmp_path / "audit.jsonl"))
    assert imports.current_version(data.STAFF) is not None  # registered, with its inputs
    return db


def test_full_disk_import_keeps_the_live_version(tmp_path, monkeypatch):
    with small_filesystem(tmp_path / "daten", "64m") as disk:
        live = setup_live(disk, tmp_path, monkeypatch)
        before, versions = sha(live), imports.list_versions(data.STAFF)
        p = imports.preview(data.STAFF, upload(), STICHTAG)
        assert p.can_apply
        fill_up(disk, keep=128 << 10)
        with pytest.raises(ImportFailed, match="Speicherplatz auf dem Server ist voll.*Bitte "
                                               "geben Sie Speicherplatz frei.*bisherige Version "
                                               "bleibt aktiv"):
            imports.apply(data.STAFF, "anna", p)
        assert sha(live) == before
        assert imports.list_versions(data.STAFF) == versions
        assert not [p.name for p in disk.iterdir() if p.name.startswith(".monitor")]
        assert sorted(c.name for c in imports.builds_dir().iterdir() if c.is_dir()) == [
            v.build_id for v in versions]
    log = events(tmp_path / "audit.jsonl")
    assert [e["aktion"] for e in log] == ["import_failed"]
    assert "Speicherplatz" in log[0]["details"]["meldung"]


def test_read_only_version_folder_import_and_rollback(tmp_path, monkeypatch):
    folder = tmp_path / "daten"
    folder.mkdir()
    live = setup_live(folder, tmp_path, monkeypatch)
    first = imports.current_version(data.STAFF)
    second = imports.apply(data.STAFF, "anna", imports.preview(data.STAFF, upload(), STICHTAG))
    before = sha(live)
    p = imports.preview(data.STAFF, upload(), STICHTAG)
    with read_only(imports.builds_dir()):
        with pytest.raises(ImportFailed, match="Versionsordner .* nicht nutzbar: Der "
                                               "Datenordner ist schreibgeschützt"):
            imports.apply(data.STAFF, "anna", p)
        with pytest.raises(ImportFailed, match="schreibgeschützt"):
            imports.rollback(data.STAFF, "anna", first.build_id)
    assert sha(live) == before and data.build_info().build_id == second.build_id
    log = events(tmp_path / "audit.jsonl")
    assert [e["aktion"] for e in log] == ["import", "import_failed"]
    assert "schreibgeschützt" in log[-1]["details"]["meldung"]


def test_unwritable_audit_log_stops_the_import_before_the_switch(tmp_path, monkeypatch):
    folder = tmp_path / "daten"
    folder.mkdir()
    live = setup_live(folder, tmp_path, monkeypatch)
    first = imports.current_version(data.STAFF)
    imports.apply(data.STAFF, "anna", imports.preview(data.STAFF, upload(), STICHTAG))
    before, versions = sha(live), imports.list_versions(data.STAFF)
    p = imports.preview(data.STAFF, upload(), STICHTAG)
    log_dir = tmp_path / "protokoll"
    log_dir.mkdir()
    monkeypatch.setenv("WK_AUDIT", str(log_dir / "audit.jsonl"))
    with read_only(log_dir):
        with pytest.raises(ImportFailed, match="Prüfprotokoll .* kann nicht geschrieben werden: "
                                               "Der Datenordner ist schreibgeschützt.*nicht "
                                               "ausgeführt; die bisherige Version bleibt aktiv"):
            imports.apply(data.STAFF, "anna", p)
        with pytest.raises(ImportFailed, match="Prüfprotokoll"):
            imports.rollback(data.STAFF, "anna", first.build_id)
    assert sha(live) == before
    assert imports.list_versions(data.STAFF) == versions
    assert events(log_dir / "audit.jsonl") == []  # nothing took effect, nothing to log


def test_switch_failing_after_the_audit_is_recorded_as_failed(tmp_path, monkeypatch):
    folder = tmp_path / "daten"
    folder.mkdir()
    live = setup_live(folder, tmp_path, monkeypatch)
    before = sha(live)
    p = imports.preview(data.STAFF, upload(), STICHTAG)
    real_copy = shutil.copyfile

    def disk_full_on_switch(src, dst, *args, **kwargs):
        if "wechsel" in str(dst):
            raise OSError(28, "No space left on device", str(dst))
        return real_copy(src, dst, *args, **kwargs)

    monkeypatch.setattr(imports.versions.shutil, "copyfile", disk_full_on_switch)
    with pytest.raises(ImportFailed, match="Speicherplatz"):
        imports.apply(data.STAFF, "anna", p)
    assert sha(live) == before
    log = events(tmp_path / "audit.jsonl")
    assert [e["aktion"] for e in log] == ["import", "import_failed"]  # consistent: both said
    assert log[0]["details"]["build_id"] == log[1]["details"]["build_id"]
    assert audit.read_events().item(0, "aktion") == "import_failed"
