"""Helpers for AppTest page tests: run the app on a database, switch pages, read values."""

from __future__ import annotations

from streamlit.testing.v1 import AppTest

from dashboard.data import STAFF

APP = "../../dashboard/app.py"


def run_page(use_db, db, page: str | None = None, viewer=STAFF, check: bool = True,
             state: dict | None = None, **params: str | list[str]) -> AppTest:
    """Run the app on `db` as `viewer` (staff unless given; None = not signed in) with URL
    parameters and widget `state` (by key) and open `page`; with `check`, fail on an exception
    or error box."""
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
