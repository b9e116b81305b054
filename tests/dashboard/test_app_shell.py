"""AppTest of the shell and the Überblick page on the hand-made cohort."""

from __future__ import annotations

import duckdb

from tests.dashboard.pagetest import metrics, run_page


def test_overview_shows_key_figures_of_the_database(use_db, cohort_db):
    at = run_page(use_db, cohort_db)
    m = metrics(at)
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
    at = run_page(use_db, cohort_db, bundesland="Bayern")
    assert metrics(at)["Kommunen"] == "1"
    assert at.button_group(key="flt_bundesland").value == ["Bayern"]


def test_empty_filter_result_shows_empty_state(use_db, cohort_db):
    at = run_page(use_db, cohort_db, bundesland="Bayern", status="abgeschlossen")
    assert any("Keine Kommunen für diese Filter" in w.value for w in at.warning)
    assert not at.metric


def test_english_switch(use_db, cohort_db):
    at = run_page(use_db, cohort_db, lang="en")
    assert metrics(at)["Municipalities"] == "4"


def test_missing_database_gives_german_message(use_db, tmp_path):
    at = run_page(use_db, tmp_path / "fehlt.duckdb", check=False)
    assert not at.exception
    assert any("noch keine Datenbank" in e.value for e in at.error)
