"""AppTest of the shell and the Überblick page on the hand-made cohort."""

from __future__ import annotations

import duckdb
from streamlit.testing.v1 import AppTest

from dashboard.data import STAFF

APP = "../../dashboard/app.py"


def _run(use_db, db, **params) -> AppTest:
    use_db(db)
    at = AppTest.from_file(APP, default_timeout=60)
    for key, value in params.items():
        at.query_params[key] = value
    at.session_state["viewer"] = STAFF
    return at.run()


def _metrics(at: AppTest) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


def test_overview_shows_key_figures_of_the_database(use_db, cohort_db):
    at = _run(use_db, cohort_db)
    assert not at.exception
    m = _metrics(at)
    assert m["Kommunen"] == "4"
    assert m["Gestartete Prozessbegleitungen im Zeitraum"] == "4"
    assert m["davon abgeschlossen"] == "1"
    assert m["Abschluss in ≤ 6 Monaten (%)"] == "100,0"
    # Flensburg: Erstgespräch 15.02.2020 → Abschluss 30.07.2020 = 166 days = 5,5 months
    assert m["Mittlere Prozessdauer (Median, Monate)"] == "5,5"
    con = duckdb.connect(str(cohort_db), read_only=True)
    overdue = con.execute("select count(*) from meilenstein m join kommune k using (kommune_id) "
                          "where erreicht_am is null and geplant_am < date '2021-12-15' "
                          "and k.status <> 'ausgeschieden'").fetchone()[0]
    assert m["Überfällige Meilensteine"] == str(overdue) == "4"


def test_filter_from_url_changes_values(use_db, cohort_db):
    at = _run(use_db, cohort_db, bundesland="Bayern")
    assert not at.exception
    assert _metrics(at)["Kommunen"] == "1"
    assert at.button_group(key="flt_bundesland").value == ["Bayern"]


def test_empty_filter_result_shows_empty_state(use_db, cohort_db):
    at = _run(use_db, cohort_db, bundesland="Bayern", status="abgeschlossen")
    assert not at.exception
    assert any("Keine Kommunen für diese Filter" in w.value for w in at.warning)
    assert not at.metric


def test_english_switch(use_db, cohort_db):
    at = _run(use_db, cohort_db, lang="en")
    assert not at.exception
    assert _metrics(at)["Municipalities"] == "4"


def test_missing_database_gives_german_message(use_db, tmp_path):
    at = _run(use_db, tmp_path / "fehlt.duckdb")
    assert not at.exception
    assert any("noch keine Datenbank" in e.value for e in at.error)
