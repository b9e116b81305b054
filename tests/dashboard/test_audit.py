"""The audit log: append-only JSON lines, newest first, safe with concurrent writers, and free of
personal data."""

from __future__ import annotations

import datetime as dt
import json
import multiprocessing
import threading
from pathlib import Path

import pytest

from dashboard import audit


@pytest.fixture
def log_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "audit.jsonl"
    monkeypatch.setenv("WK_AUDIT", str(path))
    return path


def test_events_are_appended_and_read_newest_first(log_file: Path):
    audit.log_event("anna", "login_ok", {"role": "staff"})
    audit.log_event("anna", "import", {"build_id": "B1", "zeilen": {"kommunen": 4}})
    audit.log_event("ben", "logout", {})
    events = audit.read_events()
    assert events.get_column("aktion").to_list() == ["logout", "import", "login_ok"]
    assert events.get_column("benutzer").to_list() == ["ben", "anna", "anna"]
    assert json.loads(events.item(1, "details")) == {"build_id": "B1", "zeilen": {"kommunen": 4}}
    first = events.item(2, "zeit")
    assert first.tzinfo is not None
    assert abs(dt.datetime.now(dt.UTC) - first) < dt.timedelta(minutes=1)
    assert audit.read_events(limit=2).height == 2
    # append-only: the earlier lines are still there, byte for byte
    lines = log_file.read_text(encoding="utf-8").splitlines()
    assert len(lines) == 3 and json.loads(lines[0])["aktion"] == "login_ok"


def test_missing_log_reads_as_empty(log_file: Path):
    assert audit.read_events().is_empty()


def test_torn_or_edited_line_is_skipped(log_file: Path):
    audit.log_event("anna", "login_ok", {})
    with log_file.open("a", encoding="utf-8") as fh:
        fh.write('{"zeit": "2026-01-01T00:00:00+00:00", "benutz')  # a crash mid-line
    assert audit.read_events().height == 1
    audit.log_event("anna", "logout", {})  # the next event still lands on its own line
    assert audit.read_events().get_column("aktion").to_list() == ["logout", "login_ok"]


def test_action_must_be_a_simple_name(log_file: Path):
    with pytest.raises(ValueError):
        audit.log_event("anna", "import\nfake line", {})
    assert not log_file.exists()


def test_no_personal_data_or_secrets_are_written(log_file: Path):
    audit.log_event("anna", "login_failed", {
        "passwort": "Sommer2024!", "Password": "hunter2", "email": "frida@example.org",
        "telefon": "0171 1234567", "ansprechperson": "Frida Fiktiv",
        "grund": "Falsches Passwort für frida@example.org", "liste": ["lars@example.org", 3],
        "kontakt_geloescht": True,
    })
    text = log_file.read_text(encoding="utf-8")
    for secret in ("Sommer2024!", "hunter2", "frida@example.org", "0171 1234567",
                   "Frida Fiktiv", "lars@example.org"):
        assert secret not in text
    details = json.loads(audit.read_events().item(0, "details"))
    assert details["grund"] == "Falsches Passwort für [entfernt]"
    assert details["kontakt_geloescht"] is True  # a flag is no personal data
    assert details["liste"] == ["[entfernt]", 3]


def test_user_name_with_newline_cannot_forge_a_line(log_file: Path):
    audit.log_event('mallory"}\n{"aktion":"rollback', "login_failed", {})
    lines = log_file.read_text(encoding="utf-8").splitlines()
    assert len(lines) == 1
    assert json.loads(lines[0])["aktion"] == "login_failed"


# 20 kB per line, far above PIPE_BUF: without the lock, long lines could interleave
_PAYLOAD = ["x" * 400] * 50


def _write_many(writer: str, n: int) -> None:
    for i in range(n):
        audit.log_event(writer, "export", {"nr": i, "fuell": _PAYLOAD})


def test_concurrent_threads_and_processes_never_interleave(log_file: Path):
    threads = [threading.Thread(target=_write_many, args=(f"t{i}", 50)) for i in range(4)]
    ctx = multiprocessing.get_context("fork")
    procs = [ctx.Process(target=_write_many, args=(f"p{i}", 50)) for i in range(3)]
    for worker in (*threads, *procs):
        worker.start()
    for worker in (*threads, *procs):
        worker.join(timeout=60)
    assert all(p.exitcode == 0 for p in procs)
    lines = log_file.read_bytes().split(b"\n")
    assert lines[-1] == b""
    records = [json.loads(line) for line in lines[:-1]]  # every line is one whole event
    assert len(records) == 7 * 50
    by_writer: dict[str, list[int]] = {}
    for r in records:
        assert r["details"]["fuell"] == _PAYLOAD
        by_writer.setdefault(r["benutzer"], []).append(r["details"]["nr"])
    # each writer's events arrive complete and in its own order
    assert all(nrs == list(range(50)) for nrs in by_writer.values()), by_writer.keys()
    assert len(by_writer) == 7


def test_a_file_made_on_click_is_logged_once_made(log_file: Path):
    """Downloads made on click are logged by the function that makes them (their click starts
    no script run: `ui.download_on_click`); a file that could not be made is not logged."""
    from dashboard import ui

    made = ui.logged_export(lambda: b"a;b\r\n", "anna", "tabelle.csv")
    assert not log_file.exists()
    assert made() == b"a;b\r\n"
    events = audit.read_events()
    assert events.get_column("aktion").to_list() == ["export"]
    assert events.item(0, "benutzer") == "anna"
    assert json.loads(events.item(0, "details")) == {"datei": "tabelle.csv"}

    def broken() -> bytes:
        raise RuntimeError("voll")

    with pytest.raises(RuntimeError):
        ui.logged_export(broken, "anna", "kaputt.csv")()
    assert audit.read_events().height == 1
