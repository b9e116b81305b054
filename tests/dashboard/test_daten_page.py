"""AppTest of the Daten page: staff only, upload → preview → Übernehmen, history with rollback,
quality report and audit log."""

from __future__ import annotations

import shutil
from pathlib import Path

import duckdb
import pytest
from streamlit.testing.v1 import AppTest

from dashboard import data, ui
from tests.cohort import KOMMUNEN, MEILENSTEINE
from tests.dashboard.pagetest import APP, assert_ok

PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01"
KOMMUNEN_NEU = KOMMUNEN.replace("Lippe;40.696;", "Lippe;41.000;")


@pytest.fixture
def live(tmp_path: Path, cohort_db: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    db = tmp_path / "live" / "monitor.duckdb"
    db.parent.mkdir()
    shutil.copyfile(cohort_db, db)
    monkeypatch.setenv("WK_DB", str(db))
    monkeypatch.setenv("WK_AUDIT", str(tmp_path / "live" / "audit.jsonl"))
    return db


def build_id(db: Path) -> str:
    con = duckdb.connect(str(db), read_only=True)
    try:
        return con.execute("select build_id from meta_build").fetchone()[0]
    finally:
        con.close()


def open_page(viewer: data.Viewer = data.STAFF, user: str = "anna") -> AppTest:
    at = AppTest.from_file(APP, default_timeout=60)
    at.session_state["viewer"] = viewer
    at.session_state["user"] = user
    at.run()
    at.switch_page("../pages/daten.py").run()
    assert_ok(at)
    return at


def texts(at: AppTest) -> str:
    return "\n".join([m.value for m in at.markdown] + [c.value for c in at.caption]
                     + [s.value for s in at.success] + [i.value for i in at.info])


def test_staff_sees_current_version_history_quality_report_and_log(live: Path):
    at = open_page()
    current = build_id(live)
    assert f"Aktuelle Version: **{current}**" in texts(at)
    assert [t.label for t in at.tabs] == ["Import", "Versionen", "Prüfbericht", "Protokoll"]
    assert at.file_uploader[0].accept_multiple_files
    assert at.file_uploader[0].allowed_type == [".csv", ".xlsx"]
    versions = at.dataframe[0].value
    assert versions["Version (Build)"].tolist() == [current]
    assert versions["Art"].tolist() == ["Vorhandene Datenbank"]
    assert versions["Aktuell"].tolist() == [True]
    assert at.button(key="daten_rollback_ask").disabled  # the live version
    assert at.get("download_button")[0].proto.label == "Prüfbericht dieser Version (CSV)"


def test_page_refuses_non_staff_even_if_opened_directly(live: Path):
    for viewer in (data.PUBLIC, data.Viewer("kommune", "05766020")):
        at = AppTest.from_file("../../pages/daten.py", default_timeout=30)
        at.session_state["viewer"] = viewer
        at.run()
        assert not at.exception
        assert [e.value for e in at.error] == ["Die Datenverwaltung ist nur für das Programmteam."]
        assert not at.file_uploader and not at.dataframe


def test_upload_preview_and_apply(live: Path):
    old = build_id(live)
    at = open_page()
    at.file_uploader[0].set_value([("kommunen.csv", KOMMUNEN_NEU.encode("cp1252"), "text/csv"),
                                   ("meilensteine.csv", MEILENSTEINE.encode(), "text/csv")])
    at.run()
    assert_ok(at)
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["kommunen.csv"] == "4" and metrics["meilensteine.csv"] == "18"
    assert metrics["modulnutzung.csv"] == "5"
    assert metrics["Geänderte Kommunen"] == "1" and metrics["Neue Kommunen"] == "0"
    changed = [e for e in at.expander if e.label == "Geänderte Kommunen: 1"]
    assert changed and changed[0].dataframe[0].value.iloc[0].tolist() == [
        "05766020", "Lemgo", "einwohner: 40696 → 41000"]
    assert build_id(live) == old  # nothing changes before Übernehmen

    at.button(key="daten_apply").click().run()
    assert_ok(at)
    new = build_id(live)
    assert new != old
    assert any(f"Die neue Version **{new}** ist aktiv." in s.value for s in at.success)
    assert not at.file_uploader[0].value  # the uploader is empty again
    assert at.dataframe[0].value["Version (Build)"].tolist() == [new, old]
    log = at.dataframe[-1].value
    assert log["Aktion"].tolist()[0] == "Import" and log["Benutzer"].tolist()[0] == "anna"


def test_refused_files_are_named_and_block_apply(live: Path):
    at = open_page()
    at.file_uploader[0].set_value([("../../x.csv", b"a;b\n1;2\n", "text/csv"),
                                   ("kommunen.csv", PNG, "text/csv")])
    at.run()
    assert not at.exception
    (box,) = at.error
    # file names and messages reach Markdown escaped (ui.md_escape): shown literally
    assert ui.md_escape("„x.csv“ (hochgeladen als „../../x.csv“) ist kein erlaubter "
                        "Dateiname") in box.value
    assert ui.md_escape("„kommunen.csv“ ist keine CSV-Textdatei") in box.value
    assert at.button(key="daten_apply").disabled


def test_rollback_needs_confirmation_and_restores_the_version(live: Path):
    old = build_id(live)
    at = open_page()
    at.file_uploader[0].set_value(("kommunen.csv", KOMMUNEN_NEU.encode(), "text/csv"))
    at.run()
    at.button(key="daten_apply").click().run()
    new = build_id(live)
    chooser = at.selectbox(key=f"daten_version_{new}")
    assert chooser.options[0].startswith(new) and chooser.options[0].endswith("aktuell")
    chooser.select(old).run()
    at.button(key="daten_rollback_ask").click().run()
    assert any("Wirklich auf Version" in w.value for w in at.warning)
    assert build_id(live) == new  # not before the confirmation
    at.button(key="daten_rollback_yes").click().run()
    assert_ok(at)
    assert build_id(live) == old
    assert any(f"Version **{old}** ist wieder aktiv." in s.value for s in at.success)
    assert at.dataframe[-1].value["Aktion"].tolist()[:2] == ["Zurücksetzen", "Import"]


def test_header_only_file_needs_a_named_confirmation(live: Path):
    old = build_id(live)
    at = open_page()
    header_only = MEILENSTEINE.split("\n", 1)[0] + "\n"
    at.file_uploader[0].set_value([("meilensteine.csv", header_only.encode(), "text/csv")])
    at.run()
    assert_ok(at)
    warning = next(w.value for w in at.warning if "leert Tabellen" in w.value)
    assert "- Meilensteine: 18 → 0 Zeilen" in warning
    assert at.button(key="daten_apply").disabled  # not before the confirmation
    at.checkbox(key="daten_drastic").check().run()
    assert not at.button(key="daten_apply").disabled
    at.button(key="daten_apply").click().run()
    assert_ok(at)
    assert build_id(live) != old


def test_duplicate_header_is_named_in_german(live: Path):
    at = open_page()
    doubled = KOMMUNEN.replace("kommune_id;name;", "kommune_id;Name;name;", 1)
    at.file_uploader[0].set_value([("kommunen.csv", doubled.encode(), "text/csv")])
    at.run()
    assert not at.exception
    box = next(e.value for e in at.error)
    assert ui.md_escape("kommt die Spalte „name“ mehrfach vor") in box
    assert at.button(key="daten_apply").disabled


def test_unwritable_audit_log_is_explained_and_nothing_switches(live: Path, tmp_path: Path,
                                                                  monkeypatch):
    old = build_id(live)
    blocker = tmp_path / "keine_mappe"
    blocker.write_text("eine Datei, wo der Protokollordner sein sollte")
    monkeypatch.setenv("WK_AUDIT", str(blocker / "audit.jsonl"))
    at = open_page()
    at.file_uploader[0].set_value([("kommunen.csv", KOMMUNEN_NEU.encode(), "text/csv")])
    at.run()
    at.button(key="daten_apply").click().run()
    assert not at.exception
    box = " ".join(e.value for e in at.error)
    assert ui.md_escape("Das Prüfprotokoll „") in box
    assert ui.md_escape("Die neue Version wurde deshalb nicht ausgeführt; die bisherige Version "
                        "bleibt aktiv.") in box
    assert build_id(live) == old


@pytest.mark.parametrize("demo", [True, False])
def test_beispieldaten_setting_defaults_to_the_current_version(tmp_path: Path, demo_db: Path,
                                                              cohort_db: Path, demo: bool,
                                                              monkeypatch: pytest.MonkeyPatch):
    """Staff who upload into demo data keep the demo flag unless they untick it, and real data
    stay real: the checkbox starts from what the live version is."""
    db = tmp_path / "live" / "monitor.duckdb"
    db.parent.mkdir()
    shutil.copyfile(demo_db if demo else cohort_db, db)
    monkeypatch.setenv("WK_DB", str(db))
    monkeypatch.setenv("WK_AUDIT", str(tmp_path / "live" / "audit.jsonl"))
    assert open_page().checkbox(key="daten_beispiel").value is demo


def test_preview_marks_a_status_without_proving_date_as_a_kept_warning(live: Path):
    """Issue #10: Lemgo says abgeschlossen while its Abschluss is only planned: the preview
    lists the row as a warning (Art „Hinweis“), the row is still counted as loaded."""
    kommunen = KOMMUNEN.replace("8,90061;aktiv;", "8,90061;abgeschlossen;")
    at = open_page()
    at.file_uploader[0].set_value([("kommunen.csv", kommunen.encode(), "text/csv")])
    at.run()
    assert_ok(at)
    assert {m.label: m.value for m in at.metric}["kommunen.csv"] == "4"  # kept
    assert "Zeilen der Art „Hinweis“ wurden übernommen" in texts(at)
    table = next(d.value for d in at.dataframe if "Meldung" in d.value.columns)
    assert table.columns[0] == "Art"
    row = table.iloc[0]
    assert (row["Art"], row["Zeile"], row["Spalte"], row["Wert"]) == (
        "Hinweis", 3, "status", "abgeschlossen")
    assert row["Meldung"].startswith("Der Status „abgeschlossen“ ist durch kein Datum belegt")
