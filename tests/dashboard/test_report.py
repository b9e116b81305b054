"""NAP-I key figures: the SQL macros equal an independent polars computation from the input
CSVs (hand-made cohort and demo data), Stichtag semantics, small cells, the data layer and the
Bericht page (AppTest)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import duckdb
import polars as pl
import pytest
from streamlit.testing.v1 import AppTest

from dashboard import data
from dashboard.report import definitions as rd
from tests.conftest import DEMO_DIR
from tests.dashboard import kennzahlen_oracle as oracle
from tests.dashboard.test_definitions import tables as sql_tables  # the macros as SQL returns them

APP = "../../dashboard/app.py"
D = dt.date


def cohort_input(cohort_db: Path) -> Path:
    return cohort_db.parent / "input"


def key_columns(table: rd.Table) -> list[str]:
    """Descriptive columns identify a row; figure columns (with a basis) are compared."""
    return [c.name for c in table.columns if not c.basis]


def assert_same_figures(got: dict[str, list[dict]], expected: dict[str, list[dict]]) -> None:
    """Every table, row and value equal (rows matched by their descriptive columns)."""
    assert set(got) == set(expected) == {t.key for t in rd.TABLES}
    for table in rd.TABLES:
        keys = key_columns(table)

        def index(rows: list[dict], keys: list[str] = keys) -> dict[tuple, dict]:
            return {tuple(r[k] for k in keys): r for r in rows}

        got_rows, want_rows = index(got[table.key]), index(expected[table.key])
        assert len(got_rows) == len(got[table.key]), f"{table.key}: duplicate rows"
        assert got_rows.keys() == want_rows.keys(), table.key
        for row_key, want in want_rows.items():
            have = got_rows[row_key]
            for column in (c.name for c in table.columns if c.basis):
                a, b = have[column], want[column]
                if isinstance(a, float) or isinstance(b, float):
                    assert a is not None and b is not None and abs(a - b) < 1e-9 or a == b, (
                        table.key, row_key, column, a, b)
                else:
                    assert a == b, (table.key, row_key, column, a, b)


COHORT_CASES = [
    (D(2019, 11, 5), D(2021, 12, 15), D(2021, 12, 15)),  # whole programme to the data date
    (D(2021, 1, 1), D(2021, 12, 31), D(2021, 12, 31)),  # a calendar year
    (D(2019, 11, 5), D(2020, 12, 31), D(2020, 7, 29)),  # period end cut at an early Stichtag
    (D(2020, 3, 1), D(2020, 3, 31), D(2021, 3, 1)),  # short period, Stichtag later
    (D(2019, 11, 5), D(2019, 12, 31), D(2019, 12, 31)),  # before anything happened
]


def test_cohort_build_has_no_rejects(cohort_db):
    """The comparison reads the raw CSVs, so every row must have been loaded."""
    con = duckdb.connect(str(cohort_db), read_only=True)
    assert con.execute("select count(*) from meta_ablehnungen").fetchone()[0] == 0


@pytest.mark.parametrize(("von", "bis", "stichtag"), COHORT_CASES)
def test_cohort_figures_equal_independent_computation(cohort_db, von, bis, stichtag):
    expected = oracle.compute(cohort_input(cohort_db), von, bis, stichtag)
    assert_same_figures(sql_tables(cohort_db, von, bis, stichtag), expected)


def test_cohort_known_answers(cohort_db):
    """Hand-checked values of the small cohort (data date 15.12.2021)."""
    t = sql_tables(cohort_db, D(2019, 11, 5), D(2021, 12, 15), D(2021, 12, 15))
    status = {r["status"]: r["kommunen"] for r in t["kommunen_status"]}
    assert status == {"noch nicht im Programm": 0, "interessiert": 0, "beworben": 0,
                      "aufgenommen": 0, "aktiv": 2, "abgeschlossen": 1, "ausgeschieden": 1,
                      "Insgesamt": 4}
    head = {r["kennzahl"]: r for r in t["ueberblick"]}
    # Lemgo 40.696 + München 1.488.202 (aktiv) + Flensburg 89.934 (abgeschlossen)
    assert head["einwohner_erreicht"]["anzahl"] == 1_618_832
    assert head["median_dauer_monate"]["wert"] == 5.5  # 15.02.–30.07.2020 = 166 days
    assert head["veranstaltungen"]["anzahl"] == 4  # V1–V4, V2 shared by two communes
    assert head["teilnehmende"]["anzahl"] == 4 + 6 + 9 + 40 + 3
    assert head["vernetzungsformate"]["anzahl"] == 1
    assert head["dialogveranstaltungen"]["anzahl"] == 1
    dialog = {r["format"]: r for r in t["dialog_vernetzung"]}
    assert dialog["Webinar"]["kommunenuebergreifend"] == 1
    assert dialog["Webinar"]["kommunen"] == 2
    schritte = {r["schritt"]: r for r in t["selbstcheck_schritte"]}
    assert schritte["Fragebogen"]["median_tage_seit_beginn"] == (34 + 39) / 2


@pytest.mark.parametrize(("von", "bis", "stichtag"), [
    (D(2019, 11, 5), D(2022, 3, 15), D(2022, 3, 15)),
    (D(2021, 1, 1), D(2021, 12, 31), D(2021, 12, 31)),
    (D(2020, 4, 1), D(2020, 9, 30), D(2020, 9, 30)),
])
def test_demo_figures_equal_independent_computation(demo_db, von, bis, stichtag):
    con = duckdb.connect(str(demo_db), read_only=True)
    assert con.execute("select count(*) from meta_ablehnungen").fetchone()[0] == 0
    con.close()
    expected = oracle.compute(DEMO_DIR, von, bis, stichtag)
    assert_same_figures(sql_tables(demo_db, von, bis, stichtag), expected)


# ---- Stichtag semantics --------------------------------------------------------------------------


def _head(db: Path, stichtag: D) -> dict:
    rows = sql_tables(db, D(2019, 11, 5), D(2021, 12, 31), stichtag)["ueberblick"]
    return {r["kennzahl"]: r for r in rows}


def test_moving_the_stichtag_before_a_milestone_removes_it(cohort_db):
    # Flensburg: Workshop 02.06.2020, Abschluss 30.07.2020
    assert _head(cohort_db, D(2020, 7, 30))["kommunen_abgeschlossen"]["anzahl"] == 1
    before = _head(cohort_db, D(2020, 7, 29))
    assert before["kommunen_abgeschlossen"]["anzahl"] == 0
    assert before["kommunen_aktiv"]["anzahl"] == 1  # still counted, as aktiv
    assert before["tracks_abgeschlossen"]["anzahl"] == 0
    assert before["median_dauer_monate"]["wert"] is None
    assert _head(cohort_db, D(2020, 6, 2))["selbstcheck_workshop"]["anzahl"] == 1
    assert _head(cohort_db, D(2020, 6, 1))["selbstcheck_workshop"]["anzahl"] == 0


def test_events_after_the_stichtag_are_not_counted(cohort_db):
    # the shared webinar V2 took place on 10.03.2020
    assert _head(cohort_db, D(2020, 3, 10))["vernetzungsformate"]["anzahl"] == 1
    assert _head(cohort_db, D(2020, 3, 9))["vernetzungsformate"]["anzahl"] == 0


def test_commune_before_its_first_milestone_is_not_counted(cohort_db):
    # Lemgo (aktiv, Erstgespräch 05.10.2021) has no earlier milestone
    rows = sql_tables(cohort_db, D(2019, 11, 5), D(2021, 10, 4), D(2021, 10, 4))
    land = {r["auspraegung"]: r for r in rows["kommunen_merkmale"] if r["merkmal"] == "Bundesland"}
    assert land["Nordrhein-Westfalen"]["teilnehmend"] == 0
    rows = sql_tables(cohort_db, D(2019, 11, 5), D(2021, 10, 5), D(2021, 10, 5))
    land = {r["auspraegung"]: r for r in rows["kommunen_merkmale"] if r["merkmal"] == "Bundesland"}
    assert land["Nordrhein-Westfalen"]["teilnehmend"] == 1


def test_left_commune_counts_as_active_until_its_estimated_exit(cohort_db):
    # Göttingen: Erstgespräch 02.03.2021, Fragebogen planned 01.04.2021 never reached
    def status(stichtag: D) -> dict:
        rows = sql_tables(cohort_db, D(2019, 11, 5), stichtag, stichtag)["kommunen_status"]
        return {r["status"]: r["kommunen"] for r in rows}

    assert status(D(2021, 3, 31))["ausgeschieden"] == 0
    assert status(D(2021, 4, 1))["ausgeschieden"] == 1


# ---- small cells ---------------------------------------------------------------------------------


def test_small_cells_primary_rule():
    frame = pl.DataFrame({"name": ["a", "b", "c", "d"], "kommunen": [0, 1, 2, 3],
                          "einwohner": [0, 500, 900, 12_000]})
    shown, hidden = rd.suppress_small_cells(
        frame, {"kommunen": ["kommunen"], "einwohner": ["kommunen"]})
    assert hidden["kommunen"].to_list() == [False, True, True, False]
    assert hidden["einwohner"].to_list() == [False, True, True, False]
    assert shown["kommunen"].to_list() == [0, None, None, 3]
    assert shown["einwohner"].to_list() == [0, None, None, 12_000]
    assert "name" not in hidden.columns
    assert shown["name"].to_list() == frame["name"].to_list()


def test_small_cells_basis_can_be_a_sum_of_columns():
    frame = pl.DataFrame({"aktiv": [1, 2], "abgeschlossen": [1, 0], "einwohner": [10, 20]})
    _, hidden = rd.suppress_small_cells(frame, {"einwohner": ["aktiv", "abgeschlossen"]})
    assert hidden["einwohner"].to_list() == [True, True]
    frame = pl.DataFrame({"aktiv": [1, None], "abgeschlossen": [2, 4], "einwohner": [10, 20]})
    _, hidden = rd.suppress_small_cells(frame, {"einwohner": ["aktiv", "abgeschlossen"]})
    assert hidden["einwohner"].to_list() == [False, False]


def test_small_cells_secondary_rule_protects_a_single_hidden_cell_per_group():
    frame = pl.DataFrame({
        "gruppe": ["x", "x", "x", "x", "y", "y", "y"],
        "kommunen": [1, 7, 4, 0, 1, 2, 9],
    })
    _, hidden = rd.suppress_small_cells(frame, {"kommunen": ["kommunen"]}, groups=["gruppe"])
    # x: 1 is hidden, the smallest other positive cell (4) too; the 0 stays; y has two already
    assert hidden["kommunen"].to_list() == [True, False, True, False, True, True, False]
    _, whole = rd.suppress_small_cells(frame, {"kommunen": ["kommunen"]}, groups=())
    assert whole["kommunen"].sum() == 3  # three primary cells in one group: nothing added
    _, none = rd.suppress_small_cells(frame, {"kommunen": ["kommunen"]}, groups=None)
    assert none["kommunen"].to_list() == [True, False, False, False, True, True, False]


def test_public_viewer_gets_small_cells_hidden_staff_sees_numbers(use_db, cohort_db):
    use_db(cohort_db)
    args = (D(2019, 11, 5), D(2021, 12, 15), D(2021, 12, 15))
    staff = data.load_report(data.STAFF, *args)
    public = data.load_report(data.STAFF, *args, public=True)  # staff publishing it
    assert not staff.public and staff["kommunen_status"].hidden is None
    assert public.public
    status = public["kommunen_status"]
    aktiv = status.frame["status"].to_list().index("aktiv")
    assert bool(status.is_hidden("kommunen")[aktiv]) and status.frame["kommunen"][aktiv] is None
    staff_rows = staff["kommunen_status"].frame
    assert staff_rows["kommunen"][staff_rows["status"].to_list().index("aktiv")] == 2
    # four communes: no value of 1 or 2 communes is readable
    markers = (rd.SMALL_CELL_TEXT,)
    assert public.figure("kommunen_aktiv")[0] is None
    assert public.figure("kommunen_aktiv")[1] in markers
    assert staff.figure("kommunen_aktiv") == (2, None)
    text = public["kommunen_status"].as_text("de")
    assert text["Kommunen"][aktiv] in markers
    assert public.protection is not None and public.protection.audit_passed


def test_readers_get_one_public_edition_and_no_other_period(use_db, cohort_db):
    """The public and a commune read the public edition from the programme start to the data
    date, the one staff publish for that period. Another period or Stichtag is refused: two
    Stichtage could be subtracted (what happened between them, maybe at one commune)."""
    use_db(cohort_db)
    day = data.build_info().datenstand
    readers = (data.PUBLIC, data.Viewer("kommune", "05766020"))
    published = data.load_report(data.STAFF, rd.PROGRAMMSTART, day, day, public=True)
    for viewer in readers:
        edition = data.load_report(viewer, rd.PROGRAMMSTART, day, day)
        assert edition.public
        assert {k: t.frame.to_dicts() for k, t in edition.tables.items()} == \
            {k: t.frame.to_dicts() for k, t in published.tables.items()}
        earlier = day - dt.timedelta(days=30)
        for period in ((rd.PROGRAMMSTART, earlier, earlier), (earlier, day, day),
                       (rd.PROGRAMMSTART, earlier, day)):
            with pytest.raises(PermissionError, match="nur für das ganze Programm"):
                data.load_report(viewer, *period)


def test_period_must_not_be_reversed(use_db, cohort_db):
    use_db(cohort_db)
    with pytest.raises(ValueError, match="Berichtszeitraum beginnt"):
        data.load_report(data.STAFF, D(2021, 1, 1), D(2020, 1, 1), D(2021, 1, 1))


def test_every_table_and_column_is_defined():
    """Definitions are the single source for page, XLSX and PDF: no column without one."""
    names = {c.name for t in rd.TABLES for c in t.columns}
    assert len({t.sheet for t in rd.TABLES}) == len(rd.TABLES)
    for table in rd.TABLES:
        assert len(table.sheet) <= 31 and table.title_de and table.description_de
        for column in table.columns:
            assert column.definition_de and column.definition_en, (table.key, column.name)
            assert all(b in names for b in column.basis)


def test_macros_return_the_defined_columns(cohort_db):
    got = sql_tables(cohort_db, D(2019, 11, 5), D(2021, 12, 15), D(2021, 12, 15))
    con = duckdb.connect(str(cohort_db), read_only=True)
    for table in rd.TABLES:
        columns = con.sql(f"select * from {table.macro}(date '2020-01-01', date '2020-12-31', "
                          "date '2020-12-31') limit 0").columns
        assert columns == [c.name for c in table.columns], table.key
    heads = [r["kennzahl"] for r in got["ueberblick"]]
    assert heads == [f.key for f in rd.FIGURES]


# ---- the Bericht page ----------------------------------------------------------------------------


def _page(use_db, db: Path) -> AppTest:
    use_db(db)
    at = AppTest.from_file(APP, default_timeout=60)
    at.session_state["viewer"] = data.STAFF  # the Bericht page is for the programme team
    at.run()
    at.switch_page("../pages/bericht.py").run()
    assert not at.exception
    return at


def test_page_is_not_offered_to_the_public(use_db, cohort_db):
    use_db(cohort_db)
    at = AppTest.from_file(APP, default_timeout=60).run()
    with pytest.raises(ValueError, match="bericht"):  # not in the public navigation
        at.switch_page("../pages/bericht.py")


def test_page_shows_the_figures_of_the_report(use_db, cohort_db):
    at = _page(use_db, cohort_db)
    metrics = {m.label: m.value for m in at.metric}
    expected = {r["kennzahl"]: r for r in oracle.compute(
        cohort_input(cohort_db), D(2019, 11, 5), D(2021, 12, 15), D(2021, 12, 15))["ueberblick"]}
    assert metrics["Teilnehmende Modellkommunen"] == str(expected["kommunen_teilnehmend"]["anzahl"])
    assert metrics["Erreichte Einwohnerinnen und Einwohner"] == "1.618.832"
    assert metrics["Teilnehmende im Zeitraum"] == str(expected["teilnehmende"]["anzahl"])
    assert metrics["Mittlere Prozessdauer (Median, Monate)"] == "5,5"
    assert [d.value for d in at.date_input] == [D(2019, 11, 5), D(2021, 12, 15), D(2021, 12, 15)]
    labels = [d.proto.label for d in at.get("download_button")]
    assert "Excel (XLSX)" in labels and "CSV (ZIP, alle Tabellen)" in labels
    assert any(b.label == "Diagramme und PDF erzeugen" for b in at.button)


def test_page_moves_the_stichtag(use_db, cohort_db):
    at = _page(use_db, cohort_db)
    at.date_input(key="report_stichtag").set_value(D(2020, 7, 29)).run()
    assert not at.exception
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["davon abgeschlossen"] == "0"
    assert metrics["Mittlere Prozessdauer (Median, Monate)"] == "–"
    assert metrics["Abschluss in ≤ 6 Monaten (%)"] == "–"


def test_page_reports_a_reversed_period(use_db, cohort_db):
    at = _page(use_db, cohort_db)
    at.date_input(key="report_von").set_value(D(2022, 1, 1)).run()
    assert not at.exception
    assert any("Berichtszeitraum beginnt" in e.value for e in at.error)
    # the period stays there to be mended, and the figures come back with a valid one
    assert [d.value for d in at.date_input] == [D(2022, 1, 1), D(2021, 12, 15), D(2021, 12, 15)]
    assert not at.metric
    at.date_input(key="report_von").set_value(D(2019, 11, 5)).run()
    assert not at.error
    assert {m.label: m.value for m in at.metric}["Teilnehmende Modellkommunen"] == "3"


def test_page_in_english(use_db, cohort_db):
    use_db(cohort_db)
    at = AppTest.from_file(APP, default_timeout=60)
    at.query_params["lang"] = "en"
    at.session_state["viewer"] = data.STAFF
    at.run()
    at.switch_page("../pages/bericht.py").run()
    assert not at.exception
    assert {m.label: m.value for m in at.metric}["Participating communes"] == "3"


def test_the_report_page_warns_before_publishing_another_period(use_db, cohort_db):
    """Staff choosing the public edition of another period than the public pages' one are told
    that editions of two periods can be subtracted; the pages' own period and the internal
    edition need no such warning."""
    from tests.dashboard.pagetest import run_page

    warned = "Vorsicht beim Veröffentlichen"
    cases = (({"report_edition": "public"}, False),
             ({"report_edition": "public", "report_von": D(2021, 1, 1)}, True),
             ({"report_edition": "internal", "report_von": D(2021, 1, 1)}, False))
    for state, expected in cases:
        at = run_page(use_db, cohort_db, "bericht", state=state)
        assert any(warned in w.value for w in at.warning) is expected, state
