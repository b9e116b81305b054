"""Helpers for AppTest page tests: run the app on a database, switch pages, read values."""

from __future__ import annotations

from streamlit.testing.v1 import AppTest

from dashboard.data import STAFF
from dashboard.i18n import translate
from dashboard.ui import TABLE_SWITCH

APP = "../../dashboard/app.py"


def run_page(use_db, db, page: str | None = None, viewer=STAFF, check: bool = True,
             state: dict | None = None, tables: bool = False,
             **params: str | list[str]) -> AppTest:
    """Run the app on `db` as `viewer` (staff unless given; None = not signed in) with URL
    parameters and widget `state` (by key) and open `page`; with `check`, fail on an exception
    or error box. With `tables`, every table tab is open from the first run (a probe run finds
    them), as `open_tables` without a rerun: AppTest cannot rerun an English page with radios
    (it runs their format_func outside the page, where the session's language is unknown)."""
    if tables:
        probe = run_page(use_db, db, page, viewer, check, state, **params)
        state = {**(state or {}), **_table_switches(probe)}
    use_db(db)
    at = AppTest.from_file(APP, default_timeout=60)
    for key, value in params.items():
        at.query_params[key] = value
    if viewer is not None:
        at.session_state["viewer"] = viewer
    for key, value in (state or {}).items():
        at.session_state[key] = value
    at.run()
    if page:
        at.switch_page(f"../pages/{page}.py").run()
    if check:
        assert_ok(at)
    return at


def assert_ok(at: AppTest) -> None:
    """No exception and no German error box."""
    assert not at.exception, at.exception
    assert not at.error, [e.value for e in at.error]


def metrics(at: AppTest) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


def frames(at: AppTest) -> list:
    """The pandas frames of all st.dataframe elements, in page order."""
    return [d.value for d in at.dataframe]



def _table_switches(at: AppTest) -> dict[str, object]:
    """The session-state values that open every table tab and table expander of the page `at`
    shows, as a reader's click on "Tabelle" would set them (`ui.chart_and_table` and the Karte
    build a table only while it is open; AppTest cannot click a tab)."""
    table = translate(at.session_state.get("lang", "de"), "common.table")
    return {key: table if isinstance(value, str) else True
            for key, value in at.session_state.items() if key.startswith(TABLE_SWITCH)}


def open_tables(at: AppTest) -> AppTest:
    """Open every table tab and table expander on the page and run it again."""
    for key, value in _table_switches(at).items():
        at.session_state[key] = value
    at.run()
    assert_ok(at)
    return at
