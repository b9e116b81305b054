"""The app store (dashboard/store/db.py): migrations, audited transactions, two writing
processes, erasure that leaves no byte behind, and independence from the ETL."""

from __future__ import annotations

import datetime as dt
import json
import os
import sqlite3
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from dashboard import data
from dashboard.store import austausch, db, handlungsplan, notizen
from dashboard.store.db import StoreError
from etl.build import build

ROOT = Path(__file__).resolve().parent.parent.parent
LUEBECK, ZIETHEN, NIEBUELL = "01003000", "01053136", "01054088"
FIELD = "Zusammenhalt und Begegnung"


def _events() -> list[dict]:
    path = Path(os.environ["WK_AUDIT"])
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def _store_bytes() -> bytes:
    path = db.store_path()
    return b"".join(p.read_bytes() for p in (path, Path(f"{path}-wal"), Path(f"{path}-shm"))
                    if p.exists())


def test_migrations_numbered_and_applied_once():
    versions = [v for v, _, _ in db.migrations()]
    assert versions == sorted(set(versions)) and versions[0] == 1 and len(versions) >= 2
    assert db.schema_version() == versions[-1]
    db._migrated.clear()  # a second process start finds everything applied
    assert db.schema_version() == versions[-1]
    with sqlite3.connect(db.store_path()) as con:
        assert con.execute("pragma journal_mode").fetchone()[0] == "wal"
        assert con.execute("select count(*) from schema_version").fetchone()[0] == len(versions)


def test_split_statements_keeps_semicolons_inside_strings():
    assert db.split_statements("create table a (x text default ';');\n-- c\nselect 1;") == [
        "create table a (x text default ';');", "-- c\nselect 1;"]


def test_every_write_is_audited_and_a_failed_write_leaves_nothing():
    viewer = data.Viewer("kommune", LUEBECK)
    austausch.save_entry(viewer, "luebeck", LUEBECK, "angebot", FIELD, "Lange Tafel")
    events = _events()
    assert [e["aktion"] for e in events] == ["austausch_eintrag"]
    assert events[0]["benutzer"] == "luebeck" and events[0]["details"]["kommune_id"] == LUEBECK
    with pytest.raises(RuntimeError), db.write("luebeck", "test_abbruch") as tx:
        tx.run("austausch.delete_entry", {"kommune_id": LUEBECK, "art": "angebot",
                                          "handlungsfeld": FIELD})
        raise RuntimeError("mitten in der Transaktion")
    assert austausch.entries(data.STAFF)["beschreibung"].to_list() == ["Lange Tafel"]
    assert len(_events()) == 1  # the rolled-back write wrote no event


def test_role_checks_on_writes_and_reads():
    luebeck, ziethen = data.Viewer("kommune", LUEBECK), data.Viewer("kommune", ZIETHEN)
    with pytest.raises(PermissionError):
        austausch.save_entry(luebeck, "x", ZIETHEN, "gesuch", FIELD, "fremd")
    with pytest.raises(PermissionError):
        austausch.save_entry(data.PUBLIC, "x", ZIETHEN, "gesuch", FIELD, "fremd")
    austausch.save_entry(ziethen, "z", ZIETHEN, "gesuch", FIELD, "intern",
                         sichtbarkeit="programmteam")
    austausch.save_entry(ziethen, "z", ZIETHEN, "angebot", FIELD, "für alle")
    assert austausch.entries(luebeck)["beschreibung"].to_list() == ["für alle"]
    assert sorted(austausch.entries(ziethen)["beschreibung"]) == ["für alle", "intern"]
    assert austausch.entries(data.PUBLIC).is_empty()
    assert austausch.entries(data.STAFF).height == 2


@pytest.mark.parametrize(("name", "content", "message"), [
    ("bericht.exe", b"MZ", "nicht erlaubt"),
    ("bild.png", b"<script>alert(1)</script>", "passt nicht"),
    ("gross.pdf", b"%PDF-" + b"0" * austausch.MAX_FILE_BYTES, "höchstens"),
])
def test_uploads_are_checked_by_size_type_and_content(name, content, message):
    with pytest.raises(StoreError, match=message):
        austausch.check_file(name, content)


def test_upload_name_is_cleaned():
    assert austausch.check_file("../../etc/<x>.pdf", b"%PDF-1.7") == ("x.pdf", "application/pdf")


_WORKER = textwrap.dedent("""
    import sys
    from dashboard import data
    from dashboard.store import austausch
    from dashboard.store.db import StoreError
    me, rounds = sys.argv[1], int(sys.argv[2])
    viewer = data.Viewer("kommune", me)
    asker = data.Viewer("kommune", "01003000")
    won = 0
    for i in range(rounds):
        austausch.save_practice(viewer, me, me, "Zusammenhalt und Begegnung", f"{me}-{i}", "x")
        try:  # two sessions of one commune ask the same peer at once: one request may exist
            austausch.request_contact(asker, me, f"peer{i:03d}", "Zusammenhalt und Begegnung",
                                      "Hallo")
            won += 1
        except StoreError:
            pass
    print(won)
""")


def test_two_processes_writing_at_once_lose_nothing(tmp_path):
    db.schema_version()  # create the file first, as the app does
    rounds = 60
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    procs = [subprocess.Popen([sys.executable, "-c", _WORKER, who, str(rounds)], cwd=ROOT,
                              env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for who in (LUEBECK, ZIETHEN)]
    results = [p.communicate(timeout=300) for p in procs]
    assert all(p.returncode == 0 for p in procs), [err for _, err in results]
    won = sum(int(out) for out, _ in results)
    cards = austausch.practices(data.STAFF)
    assert cards.height == 2 * rounds  # every card of both processes arrived
    assert sorted(cards["titel"]) == sorted(f"{k}-{i}" for k in (LUEBECK, ZIETHEN)
                                            for i in range(rounds))
    requests = austausch.requests(data.STAFF)
    # the check-then-insert ran under the write lock: never two requests to one peer
    assert requests.height == won == rounds
    assert requests["an_kommune_id"].n_unique() == requests.height
    assert db.revision("austausch") == 2 * rounds + won
    actions = [e["aktion"] for e in _events()]
    assert actions.count("praxis_gespeichert") == 2 * rounds
    assert actions.count("kontaktanfrage") == won


def _seed_secret(marker: str) -> None:
    viewer = data.Viewer("kommune", NIEBUELL)
    austausch.save_entry(viewer, "n", NIEBUELL, "gesuch", FIELD, f"Gesuch {marker}")
    austausch.save_practice(viewer, "n", NIEBUELL, FIELD, f"Titel {marker}", f"Was {marker}",
                            datei=("plan.pdf", f"%PDF-1.7 {marker} ".encode() * 50))
    request = austausch.request_contact(viewer, "n", LUEBECK, FIELD, f"Nachricht {marker}")
    austausch.answer_request(data.Viewer("kommune", LUEBECK), "l", request, "angenommen")
    import datetime as dt
    austausch.log_exchange(data.Viewer("kommune", LUEBECK), "l", request, dt.date(2026, 1, 5),
                           "Video", "ja", f"Notiz {marker}")
    # another commune's data must survive
    austausch.save_entry(data.Viewer("kommune", ZIETHEN), "z", ZIETHEN, "angebot", FIELD,
                         "Ziethen bleibt")


def test_erase_kommune_leaves_no_byte_in_file_or_wal():
    marker = "GEHEIM-7f3a91"
    _seed_secret(marker)
    assert marker.encode() in _store_bytes()
    deleted = db.erase_kommune(NIEBUELL, "anna")
    assert deleted == {"angebot_gesuch": 1, "kontaktanfrage": 1, "praxis": 1}
    assert marker.encode() not in _store_bytes()
    assert b"GEHEIM" not in _store_bytes()
    assert austausch.entries(data.STAFF)["beschreibung"].to_list() == ["Ziethen bleibt"]
    assert austausch.exchanges(data.STAFF).is_empty()  # the log went with the request (cascade)
    event = _events()[-1]
    assert event["aktion"] == "store_erase" and marker not in json.dumps(event)


def test_plain_delete_would_leave_the_bytes(tmp_path):
    """Control for the erasure test: without secure_delete and VACUUM the bytes stay."""
    marker = "GEHEIM-control"
    _seed_secret(marker)
    con = sqlite3.connect(db.store_path())
    con.execute("pragma secure_delete = off")
    con.execute("delete from praxis")
    con.commit()
    con.close()
    assert marker.encode() in _store_bytes()


def test_etl_rebuild_never_touches_the_store(tmp_path):
    austausch.save_entry(data.Viewer("kommune", LUEBECK), "l", LUEBECK, "angebot", FIELD, "x")
    before = _store_bytes()
    build(ROOT / "data" / "demo", tmp_path / "rebuilt.duckdb")
    assert _store_bytes() == before
    assert not any("store" in p.name for p in tmp_path.iterdir())


def test_a_deleted_practice_file_leaves_no_byte_in_file_or_wal():
    """A commune deletes its practice card with a file (a photo list, names of participants):
    nothing of the file may be left for someone who reads the store's files afterwards, neither
    in the database's freed pages nor in the write-ahead log."""
    marker = b"TEILNEHMENDE-Erika-Musterfrau-5d1c"
    viewer = data.Viewer("kommune", ZIETHEN)
    card = austausch.save_practice(viewer, "z", ZIETHEN, FIELD, "Forum", "Bericht",
                                   datei=("liste.pdf", b"%PDF-1.7 " + marker * 400))
    assert marker in _store_bytes()
    austausch.delete_practice(viewer, "z", card)
    assert austausch.practices(data.STAFF).is_empty()
    assert marker not in _store_bytes()
    assert b"Erika-Musterfrau" not in _store_bytes()


def test_a_replaced_or_deleted_practice_file_leaves_no_byte_while_others_use_the_store():
    """The same while another connection has the store open (the server's other sessions): the
    write-ahead log is not removed then, so replacing or deleting a file must clear it."""
    first, second = b"TEILNEHMENDE-Max-Mustermann-a81e", b"FOTOLISTE-Kim-Beispiel-77c0"
    viewer = data.Viewer("kommune", ZIETHEN)
    card = austausch.save_practice(viewer, "z", ZIETHEN, FIELD, "Forum", "Bericht",
                                   datei=("liste.pdf", b"%PDF-1.7 " + first * 400))
    other = sqlite3.connect(db.store_path())
    try:
        assert other.execute("select count(*) from praxis").fetchone() == (1,)
        assert first in _store_bytes()
        austausch.save_practice(viewer, "z", ZIETHEN, FIELD, "Forum", "Bericht",
                                datei=("liste.pdf", b"%PDF-1.7 " + second * 400),
                                practice_id=card)
        assert first not in _store_bytes() and second in _store_bytes()
        austausch.delete_practice(viewer, "z", card)
        assert second not in _store_bytes()
    finally:
        other.close()


def _note(viewer, secret: str, old=None):
    if old is None:
        return notizen.add_note(viewer, "z", ZIETHEN, dt.date(2024, 3, 1), None, secret)
    notizen.delete_note(viewer, "z", old)


def _measure(viewer, secret: str, old=None):
    if old is None:
        return handlungsplan.save_measure(viewer, "z", ZIETHEN, FIELD, secret)
    handlungsplan.save_measure(viewer, "z", ZIETHEN, FIELD, "Neuer Titel", measure_id=old)


def _measure_deleted(viewer, secret: str, old=None):
    if old is None:
        return handlungsplan.save_measure(viewer, "z", ZIETHEN, FIELD, secret)
    handlungsplan.delete_measure(viewer, "z", old)


def _entry(viewer, secret: str, old=None):
    austausch.save_entry(viewer, "z", ZIETHEN, "angebot", FIELD, secret if old is None else "")
    return "eintrag"


def _entry_replaced(viewer, secret: str, old=None):
    austausch.save_entry(viewer, "z", ZIETHEN, "angebot", FIELD,
                         secret if old is None else "Ein anderer Text")
    return "eintrag"


@pytest.mark.parametrize("change", [_note, _measure, _measure_deleted, _entry, _entry_replaced],
                         ids=lambda f: f.__name__.strip("_"))
def test_what_a_commune_deletes_or_overwrites_leaves_no_byte_while_others_use_the_store(change):
    """A note, a measure or an offer deleted or overwritten by the commune: its old text is gone
    from the store's files, although another session holds the store open meanwhile."""
    secret = "Ansprechperson Erika Musterfrau 0171-5550123"
    viewer = data.Viewer("kommune", ZIETHEN)
    old = change(viewer, secret)
    other = sqlite3.connect(db.store_path())
    try:
        other.execute("select count(*) from schema_version").fetchone()
        assert secret.encode() in _store_bytes()
        change(viewer, secret, old)
        assert secret.encode() not in _store_bytes()
        assert b"Erika Musterfrau" not in _store_bytes()
    finally:
        other.close()


def test_a_reader_holding_the_store_does_not_hold_up_a_deletion():
    """A session that keeps a read transaction open cannot hold a commune's deletion for long:
    the deletion is done, the WAL is cleared at the next chance (logged), and once the reader
    is gone nothing of the text stays."""
    secret = "Notiz mit Max Mustermann 0171-5550999"
    viewer = data.Viewer("kommune", ZIETHEN)
    note = notizen.add_note(viewer, "z", ZIETHEN, dt.date(2024, 3, 1), None, secret)
    reader = sqlite3.connect(db.store_path(), isolation_level=None)
    try:
        reader.execute("begin")
        reader.execute("select count(*) from zeitleisten_notiz").fetchone()  # snapshot: the note
        started = time.monotonic()
        notizen.delete_note(viewer, "z", note)
        assert time.monotonic() - started < db.CLEAR_WAL_WAIT_S + 3
        assert notizen.notes(viewer, ZIETHEN).is_empty()
    finally:
        reader.close()
    assert db.clear_wal() is True
    assert secret.encode() not in _store_bytes()
