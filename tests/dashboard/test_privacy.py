"""Erasure of a commune's personal data leaves nothing behind: every byte of every file under
the data folder (live database, all versions, stored inputs, reject reports, temp files of a
killed build, audit log) is scanned for the erased values afterwards."""

from __future__ import annotations

import datetime as dt
import io
import json
import os
import signal
import subprocess
import sys
import zipfile
from pathlib import Path

import duckdb
import polars as pl
import pytest

from dashboard import audit, data, imports, privacy
from dashboard.store import austausch
from dashboard.store import db as store_db
from etl.__main__ import main as etl_main
from tests.cohort import DATENSTAND, KOMMUNEN, MEILENSTEINE, write_cohort

ROOT = Path(__file__).resolve().parents[2]
KOMMUNE = "05766020"  # Lemgo in the hand-made cohort
LEMGO_OLD = "Lars Erfunden;lars@example.org;0000 2;nein;ja;ja;nein;ja;Notiz intern"
# distinctive values, so a match in a binary file is no accident
PERSON, EMAIL, PHONE = "Lars Quellmann-Erfunden", "lars.quellmann@example.org", "05261 4711-99"
NOTE, MS_NOTE = "Vertraulich: Lars Quellmann pflegt Angehörige", "Rückruf bei Herrn Quellmann"
BAD_EMAIL = "lars.quellmann(at)example.org"  # a rejected row quotes it in every reject report
ERASED = (PERSON, EMAIL, PHONE, NOTE, MS_NOTE, BAD_EMAIL)


def kommunen(email: str) -> str:
    return KOMMUNEN.replace(LEMGO_OLD, f"{PERSON};{email};{PHONE};nein;ja;ja;nein;ja;{NOTE}")


def meilensteine() -> str:
    return MEILENSTEINE.replace("05766020;Fragebogen;01.11.2021;;",
                                f"05766020;Fragebogen;01.11.2021;;{MS_NOTE}")


def upload(name: str, text: str) -> io.BytesIO:
    f = io.BytesIO(text.encode("utf-8"))
    f.name = name
    return f


def scan(folder: Path) -> dict[str, list[str]]:
    """{value: [files holding its bytes]} over every file below `folder`; the members of a zip
    file (a workbook) are scanned unpacked, as its bytes are compressed."""
    hits: dict[str, list[str]] = {}
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        content = path.read_bytes()
        if zipfile.is_zipfile(path):
            with zipfile.ZipFile(path) as zf:
                content += b"".join(zf.read(name) for name in zf.namelist())
        for value in ERASED:
            if value.encode("utf-8") in content:
                hits.setdefault(value, []).append(str(path.relative_to(folder)))
    return hits


def contact(db: Path) -> tuple:
    con = duckdb.connect(str(db), read_only=True)
    try:
        return con.execute("select ansprechperson, email, telefon, notiz from mart_kommune "
                           "where kommune_id = ?", [KOMMUNE]).fetchone()
    finally:
        con.close()


def kill_cli_build(input_dir: Path, db: Path) -> None:
    """Start `python -m etl build` and kill it in the middle of its SQL steps."""
    proc = subprocess.Popen([sys.executable, "-m", "etl", "build", "--input", str(input_dir),
                             "--output", str(db)], cwd=ROOT, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, env=os.environ.copy())
    assert proc.stdout is not None
    for line in proc.stdout:
        if line.startswith(b"SQL core/"):
            proc.send_signal(signal.SIGKILL)
            break
    proc.wait(timeout=60)
    assert proc.returncode == -signal.SIGKILL


@pytest.fixture
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "data"
    folder.mkdir()
    monkeypatch.setenv("WK_DB", str(folder / "monitor.duckdb"))
    monkeypatch.setenv("WK_AUDIT", str(folder / "audit.jsonl"))
    return folder


def test_erasure_leaves_no_byte_of_the_values_under_the_data_folder(data_dir, tmp_path):
    live = data_dir / "monitor.duckdb"
    # 1. the CLI builds from a folder where Lemgo's e-mail is invalid: its row is rejected and
    #    quoted in monitor.ablehnungen.csv and meta_ablehnungen
    inputs = write_cohort(tmp_path / "eingabe")
    (inputs / "kommunen.csv").write_text(kommunen(BAD_EMAIL), encoding="utf-8")
    (inputs / "meilensteine.csv").write_text(meilensteine(), encoding="utf-8")
    assert etl_main(["build", "--input", str(inputs), "--output", str(live)]) == 0
    first = imports.current_version(data.STAFF)  # registered with its input files
    assert first is not None and first.complete
    # 2. staff fix the e-mail on the Daten page: a second version, now live
    p = imports.preview(data.STAFF, [upload("kommunen.csv", kommunen(EMAIL))],
                        dt.date.fromisoformat(DATENSTAND))
    second = imports.apply(data.STAFF, "anna", p)
    assert contact(live) == (PERSON, EMAIL, PHONE, NOTE)
    # 3. a CLI build into the live folder is killed and leaves its temp file behind
    kill_cli_build(inputs, data_dir / "zweit.duckdb")
    leftovers = sorted(p.name for p in data_dir.glob(".zweit.duckdb.*"))
    assert any(n.endswith(".tmp") for n in leftovers), leftovers

    before = scan(data_dir)
    assert set(before) == set(ERASED), before  # the scan sees every value before
    assert any(f.endswith(".duckdb") for f in before[EMAIL])  # … also inside database files
    assert "monitor.ablehnungen.csv" in before[BAD_EMAIL]
    assert f"builds/{first.build_id}/ablehnungen.csv" in before[BAD_EMAIL]

    # the next build of that database removes the dead build's temp files
    assert etl_main(["build", "--input", str(inputs), "--output",
                     str(data_dir / "zweit.duckdb"), "--report", str(tmp_path / "r.csv")]) == 0
    assert not list(data_dir.glob(".zweit.duckdb.*"))
    (data_dir / "zweit.duckdb").unlink()
    kill_cli_build(inputs, live)  # and one more dead build beside the live database
    assert list(data_dir.glob(".monitor.duckdb.*.tmp"))

    report = privacy.delete_personal_data(data.STAFF, "anna", KOMMUNE)

    assert scan(data_dir) == {}
    assert report.versions_rebuilt == 2 and report.versions_removed == 0
    assert report.reports_cleaned == 1
    assert not [p.name for p in data_dir.iterdir() if p.name.startswith(".monitor")]
    # the live database is the same version, rebuilt without the values
    assert data.build_info().build_id == second.build_id
    assert contact(live) == (None, None, None, None)
    profile = data.load_kommune_profile(data.STAFF, KOMMUNE)
    assert profile.facts["name"] == "Lemgo" and len(profile.milestones) == 5
    flensburg = data.load_kommune_profile(data.STAFF, "01001000").facts
    assert flensburg["ansprechperson"] == "Frida Fiktiv"  # other communes untouched
    # rollback keeps working (checksums rewritten); the first version is clean as well, and its
    # once rejected Lemgo row now loads without contact data
    imports.rollback(data.STAFF, "anna", first.build_id)
    assert data.build_info().build_id == first.build_id
    assert contact(live) == (None, None, None, None)
    assert "[gelöscht]" in (data_dir / "monitor.ablehnungen.csv").read_text(encoding="utf-8-sig")
    events = [json.loads(line) for line in (data_dir / "audit.jsonl").read_text().splitlines()]
    deletion = [e["details"] for e in events if e["aktion"] == "delete_personal"]
    assert [d["schritt"] for d in deletion] == ["beginn", "ende"]
    assert deletion[1]["versionen_neu_gebaut"] == 2
    # a second run finds nothing more and rebuilds nothing
    again = privacy.delete_personal_data(data.STAFF, "anna", KOMMUNE)
    assert again.values == 0 and again.versions_rebuilt == 0


def test_erasers_hook_runs_with_the_commune_key(data_dir, tmp_path):
    live = data_dir / "monitor.duckdb"
    etl_main(["build", "--input", str(write_cohort(tmp_path / "in")), "--output", str(live)])
    seen: list[tuple[str, str]] = []

    def eraser(key: str, user: str) -> None:
        seen.append((key, user))

    privacy.ERASERS.append(eraser)
    try:
        privacy.delete_personal_data(data.STAFF, "anna", "5766020")  # Excel dropped the zero
    finally:
        privacy.ERASERS.remove(eraser)
    assert seen == [(KOMMUNE, "anna")]
    assert contact(live) == (None, None, None, None)


def test_erasure_covers_what_the_commune_wrote_in_the_app_store(data_dir, tmp_path):
    """The commune's offers and needs in the app store (SQLite) are gone, byte for byte."""
    live = data_dir / "monitor.duckdb"
    etl_main(["build", "--input", str(write_cohort(tmp_path / "in")), "--output", str(live)])
    marker = "Geheimprojekt-Lemgo-7f3a"
    own = data.Viewer("kommune", KOMMUNE)
    austausch.save_entry(own, "lemgo", KOMMUNE, "angebot", "Zusammenhalt und Begegnung",
                         f"Wir bieten {marker}")
    store = store_db.store_path()
    assert marker.encode() in store.read_bytes()  # the scan can find it before
    privacy.delete_personal_data(data.STAFF, "anna", KOMMUNE)
    assert austausch.all_entries_unchecked().filter(
        pl.col("kommune_id") == KOMMUNE).is_empty()
    for path in store.parent.glob(store.name + "*"):
        assert marker.encode() not in path.read_bytes(), path


def test_unwritable_audit_log_stops_the_erasure_before_anything_changes(data_dir, tmp_path,
                                                                          monkeypatch):
    live = data_dir / "monitor.duckdb"
    etl_main(["build", "--input", str(write_cohort(tmp_path / "in")), "--output", str(live)])
    blocker = tmp_path / "kein_ordner"
    blocker.write_text("eine Datei, kein Ordner")  # the log's folder cannot be created
    monkeypatch.setenv("WK_AUDIT", str(blocker / "audit.jsonl"))
    before = live.read_bytes()
    with pytest.raises(audit.AuditUnwritable, match="Prüfprotokoll .* kann nicht geschrieben"):
        privacy.delete_personal_data(data.STAFF, "anna", KOMMUNE)
    assert live.read_bytes() == before
    assert contact(live)[0] == "Lars Erfunden"


def test_live_version_without_inputs_is_refused_without_change(data_dir, tmp_path):
    live = data_dir / "monitor.duckdb"
    inputs = write_cohort(tmp_path / "in")
    etl_main(["build", "--input", str(inputs), "--output", str(live)])
    (inputs / "kommunen.csv").write_text("geändert", encoding="utf-8")  # no longer the source
    before = live.read_bytes()
    with pytest.raises(imports.ImportFailed, match="Eingabedateien nicht gespeichert.*nichts "
                                                   "geändert"):
        privacy.delete_personal_data(data.STAFF, "anna", KOMMUNE)
    assert live.read_bytes() == before


def test_only_staff_may_delete(data_dir, tmp_path):
    live = data_dir / "monitor.duckdb"
    etl_main(["build", "--input", str(write_cohort(tmp_path / "in")), "--output", str(live)])
    with pytest.raises(PermissionError):
        privacy.delete_personal_data(data.Viewer("kommune", KOMMUNE), "x", KOMMUNE)
    assert contact(live)[0] == "Lars Erfunden"


def test_command_line_reports_german_and_exit_codes(data_dir, tmp_path, capsys):
    live = data_dir / "monitor.duckdb"
    etl_main(["build", "--input", str(write_cohort(tmp_path / "in")), "--output", str(live)])
    assert privacy.main(["delete", "--kommune", "abc", "--user", "anna", "--yes"]) == 1
    assert "kein gültiger Gemeindeschlüssel" in capsys.readouterr().err
    assert privacy.main(["delete", "--kommune", KOMMUNE, "--user", "anna", "--yes"]) == 0
    assert "Gelöscht für 05766020" in capsys.readouterr().out


def test_xlsx_inputs_are_blanked_and_other_cells_keep_their_text(data_dir, tmp_path):
    from etl.read import read_csv_text

    live = data_dir / "monitor.duckdb"
    inputs = write_cohort(tmp_path / "in")
    frame, _ = read_csv_text(kommunen(EMAIL).encode("utf-8"), "kommunen.csv")
    (inputs / "kommunen.csv").unlink()
    frame.write_excel(inputs / "kommunen.xlsx", worksheet="kommunen")
    assert etl_main(["build", "--input", str(inputs), "--output", str(live)]) == 0
    imports.current_version(data.STAFF)
    assert any(f.endswith("kommunen.xlsx") for f in scan(data_dir)[EMAIL])  # the scan sees it
    report = privacy.delete_personal_data(data.STAFF, "anna", KOMMUNE)
    assert report.input_files == 1 and report.versions_rebuilt == 1
    assert not {v for v in scan(data_dir) if v in (PERSON, EMAIL, PHONE, NOTE)}
    con = duckdb.connect(str(live), read_only=True)
    try:  # a formula-like name stays text through the rewrite of the workbook
        names = [r[0] for r in con.execute("select name from kommune order by 1").fetchall()]
    finally:
        con.close()
    assert "=SUM(1) Göttingen" in names
    assert contact(live) == (None, None, None, None)
