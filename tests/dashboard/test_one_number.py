"""One number everywhere: for several Stichtage the Überblick page, the Bericht's report, the XLSX
sheet and the CSV file show the same value for every headline figure, and it equals the
independent computation from the input files."""

from __future__ import annotations

import datetime as dt
import io

import openpyxl
import polars as pl
import pytest

from dashboard import data
from dashboard.report import csv as report_csv
from dashboard.report import definitions as rd
from dashboard.report import xlsx as report_xlsx
from tests.dashboard import kennzahlen_oracle as oracle
from tests.dashboard.pagetest import metrics, run_page

D = dt.date
SHOWN = ("kommunen_teilnehmend", "kommunen_aktiv", "kommunen_abgeschlossen", "tracks_gestartet",
         "median_dauer_monate", "anteil_im_ziel_prozent", "tracks_laufend_ueber_ziel",
         "veranstaltungen")


@pytest.mark.parametrize("stichtag", [D(2020, 7, 29), D(2020, 7, 30), D(2021, 6, 1),
                                      D(2021, 12, 15)])
def test_overview_report_xlsx_csv_and_oracle_agree(use_db, cohort_db, stichtag):
    at = run_page(use_db, cohort_db)
    at.date_input(key="overview_stichtag").set_value(stichtag).run()
    shown = metrics(at)
    report = data.load_report(data.STAFF, rd.PROGRAMMSTART, stichtag, stichtag)
    expected = {r["kennzahl"]: r for r in oracle.ueberblick(
        oracle.read_inputs(cohort_db.parent / "input"), rd.PROGRAMMSTART, stichtag, stichtag)}
    sheet = openpyxl.load_workbook(io.BytesIO(report_xlsx.xlsx_bytes(report)))["Überblick"]
    xlsx = {r[0]: r[1] if r[1] is not None else r[2]
            for r in sheet.iter_rows(min_row=2, values_only=True)}
    text = report_csv.csv_bytes(report["ueberblick"]).decode("utf-8-sig")
    csv = {r[0]: r[1] or r[2] for r in pl.read_csv(io.StringIO(text), separator=";",
                                                     infer_schema=False).iter_rows()}
    for key in SHOWN:
        figure = rd.FIGURE_BY_KEY[key]
        want = expected[key]["anzahl"] if expected[key]["anzahl"] is not None \
            else expected[key]["wert"]
        page = report.figure_text(key)
        assert shown[figure.label_de] == page, (key, stichtag)
        assert report.figure(key)[0] == want, (key, stichtag)
        assert xlsx[figure.label_de] == want, (key, stichtag)
        assert csv[figure.label_de] == (page if want is not None else None), (key, stichtag)


def test_public_overview_shows_the_whole_programme_whatever_the_filters(use_db, cohort_db):
    """The public Überblick with a filter shows the public report of the whole programme and
    says so (editions of two selections could be subtracted: `data.load_report`); staff see the
    report of their selection."""
    use_db(cohort_db)
    day = data.build_info().datenstand
    whole = data.load_report(data.PUBLIC, rd.PROGRAMMSTART, day, day)
    lands = ["Bayern", "Nordrhein-Westfalen", "Schleswig-Holstein"]  # three admitted communes
    for chosen in (lands, "Bayern"):  # München alone
        at = run_page(use_db, cohort_db, viewer=data.PUBLIC, bundesland=chosen)
        shown = metrics(at)
        for key in SHOWN:
            assert shown[rd.FIGURE_BY_KEY[key].label_de] == whole.figure_text(key), (chosen, key)
        assert any("gelten immer für das ganze Programm" in i.value for i in at.info)
    at = run_page(use_db, cohort_db, viewer=data.STAFF, bundesland=lands)
    selection = data.load_report(data.STAFF, rd.PROGRAMMSTART, day, day,
                                 data.Filters(bundesland=tuple(lands)))
    assert any(selection.figure_text(key) != whole.figure_text(key) for key in SHOWN)
    for key in SHOWN:
        assert metrics(at)[rd.FIGURE_BY_KEY[key].label_de] == selection.figure_text(key), key
    assert not any("gelten immer für das ganze Programm" in i.value for i in at.info)


def test_stichtag_control_stays_when_the_selection_is_empty(use_db, cohort_db):
    """The Stichtag control is sent after the key figures; on a page that ends early (no commune
    in the selection) it is still there, with the chosen date."""
    at = run_page(use_db, cohort_db)
    at.date_input(key="overview_stichtag").set_value(D(2021, 6, 30)).run()
    assert metrics(at)["Kommunen"] == "4"
    empty = run_page(use_db, cohort_db, bundesland="Bayern", status="abgeschlossen")
    assert not empty.metric
    assert empty.date_input(key="overview_stichtag").value == data.build_info().datenstand


@pytest.mark.parametrize(("page", "keys"), [
    ("module", ("veranstaltungen", "teilnehmende", "vernetzungsformate", "dialogveranstaltungen")),
    ("fortschritt", ("tracks_gestartet", "tracks_abgeschlossen", "median_dauer_monate",
                     "anteil_im_ziel_prozent", "tracks_laufend_ueber_ziel")),
])
def test_chart_pages_open_with_the_reports_figures(use_db, cohort_db, page, keys):
    """Module and Fortschritt open with the report's headline figures (text, before the charts):
    the staff's selection as the report of that selection at the data date, equal to the
    independent computation from the input files; the public Module the public edition of the
    whole programme, whatever the filters."""
    use_db(cohort_db)
    day = data.build_info().datenstand
    lands = ("Bayern", "Schleswig-Holstein")  # without Lemgo (NRW), started in October 2021
    selection = data.load_report(data.STAFF, rd.PROGRAMMSTART, day, day,
                                 data.Filters(bundesland=lands))
    whole = data.load_report(data.STAFF, rd.PROGRAMMSTART, day, day)
    assert any(selection.figure(k)[0] != whole.figure(k)[0] for k in keys)
    oracle_rows = {r["kennzahl"]: r for r in oracle.ueberblick(
        oracle.read_inputs(cohort_db.parent / "input"), rd.PROGRAMMSTART, day, day)}
    shown = metrics(run_page(use_db, cohort_db, page, bundesland=list(lands)))
    for key in keys:
        assert shown[rd.FIGURE_BY_KEY[key].label_de] == selection.figure_text(key), key
        want = oracle_rows[key]["anzahl"] if oracle_rows[key]["anzahl"] is not None \
            else oracle_rows[key]["wert"]
        assert whole.figure(key)[0] == want, key
    if page == "fortschritt":
        assert shown["Überfällige Meilensteine"] == str(
            data.key_figures(data.STAFF, data.Filters(bundesland=lands))
            .ueberfaellige_meilensteine)
        return
    public = data.load_report(data.PUBLIC, rd.PROGRAMMSTART, day, day)
    shown = metrics(run_page(use_db, cohort_db, page, viewer=data.PUBLIC,
                             bundesland=list(lands)))
    for key in keys:
        assert shown[rd.FIGURE_BY_KEY[key].label_de] == public.figure_text(key), key
