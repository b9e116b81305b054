# ruff: noqa: E501 (CSV fixture rows are kept verbatim, one row per line)
"""Each definition case of the NAP-I figures on a hand-made cohort, expected values by hand.

The base cohort is tests/cohort.py (data date 15.12.2021): Flensburg abgeschlossen (Beginn
15.02.2020, Abschluss 30.07.2020), Lemgo aktiv (Beginn 05.10.2021), München aktiv (Beginn
01.06.2021), Göttingen ausgeschieden (Beginn 02.03.2021, Fragebogen planned 01.04.2021).
Each test adds the rows of its case and builds its own database.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import duckdb
import pytest

from dashboard.report import definitions as rd
from etl.build import build
from tests import cohort
from tests.dashboard import kennzahlen_oracle as oracle

D = dt.date
START = D(2019, 11, 5)

# Potsdam: register says abgeschlossen, but Abschluss is only planned; Aufnahme on 01.06.2021 is
# its first reached milestone. Bonn: no Erstgespräch; its track begins with the Fragebogen.
EXTRA_KOMMUNEN = """\
12054000;Potsdam;kreisfreie Stadt;Brandenburg;Potsdam;180.334;52,39886;13,06566;abgeschlossen;01.05.2021;;;;nein;ja;ja;ja;ja;
05314000;Bonn;kreisfreie Stadt;Nordrhein-Westfalen;Bonn;330.579;50,73438;7,09549;aktiv;01.01.2021;;;;nein;ja;ja;ja;ja;
"""
EXTRA_MEILENSTEINE = """\
12054000;Aufnahme;01.06.2021;01.06.2021;
12054000;Abschluss;30.11.2021;;
05314000;Fragebogen;01.02.2021;10.02.2021;
05314000;Auswertung;01.03.2021;05.03.2021;
"""
# V5 is shared: Flensburg on 30.06.2021, Bonn only on 15.07.2021 (after the period Q2 2021)
EXTRA_MODULNUTZUNG = """\
01001000;V5;2;Vernetzungstreffen;Engagement und Beteiligung;30.06.2021;5;5;0;0;0;0
05314000;V5;2;Vernetzungstreffen;Engagement und Beteiligung;15.07.2021;7;7;0;0;0;0
"""


@pytest.fixture(scope="module")
def case_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    base = tmp_path_factory.mktemp("cases")
    folder = cohort.write_cohort(
        base / "input",
        kommunen=cohort.KOMMUNEN + EXTRA_KOMMUNEN,
        meilensteine=cohort.MEILENSTEINE + EXTRA_MEILENSTEINE,
        modulnutzung=cohort.MODULNUTZUNG + EXTRA_MODULNUTZUNG,
    )
    out = base / "cases.duckdb"
    build(folder, out)
    return out


def tables(db: Path, von: D, bis: D, stichtag: D) -> dict[str, list[dict]]:
    con = duckdb.connect(str(db), read_only=True)
    try:
        return {t.key: con.sql(f"select * from {t.macro}(?, ?, ?)",
                               params=[von, bis, stichtag]).pl().to_dicts()
                for t in rd.TABLES}
    finally:
        con.close()


def by(rows: list[dict], key: str, value: str = "kommunen") -> dict:
    return {r[key]: r[value] for r in rows}


def head(t: dict) -> dict:
    return {r["kennzahl"]: r["anzahl"] if r["anzahl"] is not None else r["wert"]
            for r in t["ueberblick"]}


def test_register_status_without_proving_date_does_not_count(case_db):
    # 31.05.2021: Potsdam has reached nothing yet -> not yet in the programme (not abgeschlossen)
    t = tables(case_db, START, D(2021, 5, 31), D(2021, 5, 31))
    status = by(t["kommunen_status"], "status")
    # Potsdam, Lemgo (Beginn 05.10.2021) and München (Beginn 01.06.2021)
    assert status["noch nicht im Programm"] == 3
    assert status["abgeschlossen"] == 1  # Flensburg only
    # 15.12.2021: Aufnahme proves "aufgenommen"; the planned Abschluss proves nothing
    t = tables(case_db, START, D(2021, 12, 15), D(2021, 12, 15))
    status = by(t["kommunen_status"], "status")
    assert status["aufgenommen"] == 1
    assert status["abgeschlossen"] == 1
    assert status["noch nicht im Programm"] == 0
    assert status["Insgesamt"] == 6 == sum(v for k, v in status.items() if k != "Insgesamt")


def test_track_without_first_meeting_begins_with_its_first_selfcheck_step(case_db):
    t = tables(case_db, D(2021, 1, 1), D(2021, 3, 31), D(2021, 12, 15))
    schritte = {r["schritt"]: r for r in t["selbstcheck_schritte"]}
    # Q1 2021: Göttingen (Erstgespräch 02.03.) and Bonn (Fragebogen 10.02.) begin
    assert schritte["Beginn"]["im_zeitraum"] == 2
    assert schritte["Erstgespräch"]["im_zeitraum"] == 1
    # Bonn: Auswertung 23 days after its Beginn; Flensburg 55, München 61 -> median 55
    assert schritte["Auswertung"]["median_tage_seit_beginn"] == 55
    for merkmal in ("Art", "Größenklasse", "Bundesland"):
        rows = [r for r in t["kommunen_merkmale"] if r["merkmal"] == merkmal]
        assert sum(r["gestartet_im_zeitraum"] for r in rows) == 2, merkmal
    assert head(t)["tracks_gestartet"] == 2
    # Bonn is aktiv from 10.02.2021 on, not before
    assert by(tables(case_db, START, D(2021, 2, 9), D(2021, 2, 9))["kommunen_status"],
              "status")["aktiv"] == 0
    assert by(tables(case_db, START, D(2021, 2, 10), D(2021, 2, 10))["kommunen_status"],
              "status")["aktiv"] == 1


def test_shared_event_rows_after_the_period_do_not_count(case_db):
    # Period Q2 2021: V5 is Flensburg's event only, whatever the Stichtag after the period
    for stichtag in (D(2021, 6, 30), D(2021, 7, 15), D(2021, 12, 15)):
        t = tables(case_db, D(2021, 4, 1), D(2021, 6, 30), stichtag)
        webinar = {r["format"]: r for r in t["dialog_vernetzung"]}["Vernetzungstreffen"]
        assert webinar["veranstaltungen"] == 1
        assert webinar["kommunenuebergreifend"] == 0
        assert webinar["teilnehmende"] == 5
    # Period Q2–Q3 2021: both rows known, one event in Q2, shared, 12 participants
    t = tables(case_db, D(2021, 4, 1), D(2021, 9, 30), D(2021, 12, 15))
    webinar = {r["format"]: r for r in t["dialog_vernetzung"]}["Vernetzungstreffen"]
    assert (webinar["veranstaltungen"], webinar["kommunenuebergreifend"],
            webinar["teilnehmende"]) == (1, 1, 12)
    modul2 = [r for r in t["veranstaltungen"] if r["merkmal"] == "Modul"
              and r["auspraegung"].startswith("2")]
    assert by(modul2, "quartal", "veranstaltungen") == {"2021-Q2": 1, "Zeitraum": 1}


def test_davon_aktiv_is_one_figure_on_every_sheet(case_db):
    t = tables(case_db, START, D(2021, 12, 15), D(2021, 12, 15))
    aktiv = head(t)["kommunen_aktiv"]
    assert aktiv == 3  # Lemgo, München, Bonn
    assert by(t["kommunen_status"], "status")["aktiv"] == aktiv
    for merkmal in ("Art", "Größenklasse", "Bundesland"):
        assert sum(r["aktiv"] for r in t["kommunen_merkmale"] if r["merkmal"] == merkmal) == aktiv


def test_durations_against_the_target_band(case_db):
    t = tables(case_db, START, D(2021, 12, 15), D(2021, 12, 15))
    dauer = {r["gruppe"]: r for r in t["prozessdauer"]}
    # Flensburg 166 days = 5.45 months
    fertig = dauer["abgeschlossen bis Stichtag"]
    assert (fertig["unter_ziel"], fertig["im_zielband"], fertig["ueber_ziel"]) == (0, 1, 0)
    # running on 15.12.2021: Lemgo 71 days (2.3 months), München 197 days (6.5), Bonn 308 (10.1)
    laufend = dauer["laufend am Stichtag"]
    assert (laufend["unter_ziel"], laufend["im_zielband"], laufend["ueber_ziel"]) == (1, 0, 2)
    assert head(t)["tracks_laufend_ueber_ziel"] == 2


def test_exit_date_from_ausgeschieden_am(tmp_path):
    kommunen = cohort.KOMMUNEN.replace(";notiz\n", ";notiz;ausgeschieden_am\n")
    lines = kommunen.splitlines()
    kommunen = "\n".join([lines[0], *(
        line + (";15.05.2021" if line.startswith("03159") else ";") for line in lines[1:]
    )]) + "\n"
    folder = cohort.write_cohort(tmp_path / "input", kommunen=kommunen)
    db = build(folder, tmp_path / "exit.duckdb") and tmp_path / "exit.duckdb"

    def left(stichtag: D) -> int:
        return by(tables(db, START, stichtag, stichtag)["kommunen_status"],
                  "status")["ausgeschieden"]

    # the estimate would be 01.04.2021 (planned Fragebogen); the exact date wins
    assert left(D(2021, 4, 1)) == 0
    assert left(D(2021, 5, 14)) == 0
    assert left(D(2021, 5, 15)) == 1
    assert oracle.communes_at(oracle.read_inputs(folder), D(2021, 5, 15))[3][
        "status_stichtag"] == "ausgeschieden"


@pytest.mark.parametrize("stichtag", [D(2021, 2, 9), D(2021, 6, 1), D(2021, 7, 15),
                                      D(2021, 12, 15)])
def test_cases_equal_independent_computation(case_db, stichtag):
    from tests.dashboard.test_report import assert_same_figures

    folder = case_db.parent / "input"
    assert_same_figures(tables(case_db, START, stichtag, stichtag),
                        oracle.compute(folder, START, stichtag, stichtag))
