"""Table tabs on demand (`ui.chart_and_table`, the Karte's table expander): a table is built and
sent only while the reader has it open; the open tab stays across reruns, per chart."""

from __future__ import annotations

from tests.dashboard.pagetest import assert_ok, frames, metrics, open_tables, run_page

STATUS, MODULE = "tables_status", "tables_module"  # the Überblick's two charts
# communes the public sees (admitted; a dropout if its track had started)
ADMITTED = ("(status in ('aufgenommen', 'aktiv', 'abgeschlossen') "
            "or (status = 'ausgeschieden' and start_ist is not null))")


def _csv_buttons(at) -> list[str]:
    return [b.proto.label for b in at.get("download_button")]


def test_the_chart_is_open_first_and_no_table_is_sent(use_db, demo_db):
    at = run_page(use_db, demo_db, viewer=None)
    assert [t.label for t in at.tabs] == ["Diagramm", "Tabelle"] * 2  # the tabs are there
    assert at.session_state[STATUS] == at.session_state[MODULE] == "Diagramm"
    assert len(at.get("plotly_chart")) == 2
    assert not frames(at) and not _csv_buttons(at)


def test_opening_one_table_tab_shows_that_table_only_and_keeps_it_open(use_db, demo_db, sql):
    at = run_page(use_db, demo_db, viewer=None)
    at.session_state[STATUS] = "Tabelle"  # what a click on the status chart's "Tabelle" sends
    at.run()
    assert_ok(at)
    (table,) = frames(at)
    assert list(table.columns)[:2] == ["Status", "Kommunen"]
    assert _csv_buttons(at) == ["CSV herunterladen"]
    assert len(at.get("plotly_chart")) == 2  # both charts are still sent
    status_rows = table.copy()

    # a filter changes: the page reruns with the status table still open, the other closed
    land = sql(f"select bundesland from mart_kommune where {ADMITTED} group by 1 "
               "order by count(*) desc limit 1")[0][0]
    at.button_group(key="flt_bundesland").set_value([land]).run()
    assert_ok(at)
    assert at.session_state[STATUS] == "Tabelle" and at.session_state[MODULE] == "Diagramm"
    (table,) = frames(at)
    assert list(table.columns)[:2] == ["Status", "Kommunen"]
    # public figures are those of the whole programme, whatever the filter (data.load_report)
    assert table.equals(status_rows)
    assert any("gelten immer für das ganze Programm" in i.value for i in at.info)
    total = table.loc[table["Status"] == "Insgesamt", "Kommunen"].item()
    assert total == metrics(at)["Kommunen"]

    # back to the chart: the table is gone again
    at.session_state[STATUS] = "Diagramm"
    at.run()
    assert not frames(at) and not _csv_buttons(at)


def test_the_open_table_stays_open_after_a_language_switch(use_db, demo_db):
    at = run_page(use_db, demo_db, viewer=None)
    at.session_state[MODULE] = "Tabelle"
    at.run()
    german = frames(at)
    assert len(german) == 1
    at.radio(key="lang_choice").set_value("en").run()
    assert_ok(at)
    assert [t.label for t in at.tabs] == ["Chart", "Table"] * 2
    assert at.session_state[MODULE] == "Table" and at.session_state[STATUS] == "Chart"
    (english,) = frames(at)
    assert len(english) == len(german[0])  # the same rows, headed in English
    assert list(english.columns) != list(german[0].columns)


def test_open_tables_opens_every_table_tab(use_db, demo_db):
    at = open_tables(run_page(use_db, demo_db, viewer=None))
    assert len(frames(at)) == 2 and len(_csv_buttons(at)) == 2
    fresh = run_page(use_db, demo_db, viewer=None, tables=True)  # open from the first run
    assert [f.to_dict() for f in frames(fresh)] == [f.to_dict() for f in frames(at)]


def test_the_map_table_is_built_when_its_expander_opens(use_db, demo_db, sql):
    at = run_page(use_db, demo_db, page="karte", viewer=None)
    assert at.expander[0].label == "Tabelle" and not frames(at)
    at.session_state["tables_map_points"] = True  # the reader opens the expander
    at.run()
    assert_ok(at)
    public = sql(f"select count(*) from mart_kommune where {ADMITTED}")[0][0]
    assert len(frames(at)[0]) == public


def test_staff_module_tables_are_sent_only_when_their_boxes_open(use_db, demo_db, sql):
    """The per-commune matrix (one row per commune: 11,000 nationally) and the shared events
    are not part of a staff visit to Module until their boxes are opened."""
    at = run_page(use_db, demo_db, page="module")
    assert not any("AGS" in t.columns or "Veranstaltung" in t.columns for t in frames(at))
    at.session_state["tables_by_kommune"] = True
    at.run()
    assert_ok(at)
    matrix = next(t for t in frames(at) if "AGS" in t.columns)
    assert len(matrix) == sql("select count(distinct kommune_id) from modulnutzung")[0][0]
    assert not any("Veranstaltung" in t.columns for t in frames(at))
    at.session_state["tables_shared"] = True
    at.run()
    shared = next(t for t in frames(at) if "Veranstaltung" in t.columns)
    assert len(shared) == sql("select count(*) from (select veranstaltung_id from modulnutzung "
                              "group by 1 having count(*) > 1)")[0][0]


def test_downloads_made_on_click_start_no_script_run(use_db, demo_db):
    """Every download whose file is made on click (the tables' CSV, the report's XLSX and CSV
    archive, the Vernetzung's XLSX, a build's rejects) starts no script run when clicked: a run
    would replace the button's deferred file while the browser asks for it, and the download
    failed on a busy server."""
    at = open_tables(run_page(use_db, demo_db))
    pages = [run_page(use_db, demo_db, page) for page in ("bericht", "vernetzung", "daten")]
    buttons = [e.proto for page in (at, *pages) for e in page.get("download_button")]
    keys = {b.id.rsplit("-", 1)[-1] for b in buttons}
    assert {"report_xlsx", "report_csv", "peers_export_xlsx", "daten_version_rejects",
            "exchange_log_csv"} <= keys and len(buttons) >= 10
    assert all(b.ignore_rerun for b in buttons), [b.label for b in buttons if not b.ignore_rerun]
