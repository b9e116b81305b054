"""Key figures first (`dashboard.paint`, `ui.key_figures_sent`): a page's first run sends its key
figures, waits until the browser reports them drawn, then sends its charts."""

from __future__ import annotations

import threading

import pytest
from starlette.requests import Request
from streamlit.delta_generator import DeltaGenerator

from dashboard import paint, server, sessions, ui
from dashboard.data import STAFF
from tests.dashboard.pagetest import assert_ok, run_page


def _post(token: str):
    return server.painted(Request({"type": "http", "method": "POST", "headers": [],
                                   "path_params": {"token": token}}))


def test_a_report_wakes_its_waiting_page():
    token = paint.expect()
    threading.Timer(0.05, paint.painted, args=(token,)).start()
    assert paint.wait(token, timeout=30)  # False only after 30 s without the report
    assert paint.waiting() == 0


def test_a_page_whose_browser_never_reports_goes_on_after_the_timeout():
    token = paint.expect()
    assert paint.wait(token, timeout=0.05) is False
    assert paint.waiting() == 0 and not paint.painted(token)  # forgotten


def test_the_route_answers_every_token_alike_and_wakes_only_its_own():
    """An unknown, guessed or used token gets the same empty 204 as a real one, and a report
    wakes only the page that sent the token."""
    mine, other = paint.expect(), paint.expect()
    for token in ("unbekannt", "../README.md", "<script>", mine):
        response = _post(token)
        assert response.status_code == 204 and response.body == b"", token
    assert paint.wait(mine, timeout=30)
    assert paint.wait(other, timeout=0.01) is False
    assert _post(mine).status_code == 204  # used: ignored, same answer


def test_importing_the_server_module_does_not_switch_the_routes_on():
    """`ROUTES_SERVED` is set when the server starts (its lifespan), not when a test imports
    `dashboard.server`: pages in later tests of the same process must not wait for a browser
    that is not there."""
    assert server.app is not None
    assert sessions.ROUTES_SERVED is False


def _element_order(at) -> list[str]:
    """The main area's elements in page order: "metric", "chart", "paint" (the report
    script), other types by name."""
    order = []

    def walk(node) -> None:
        children = getattr(node, "children", None)
        if children is not None:
            for child in children.values():
                walk(child)
            return
        kind = getattr(node, "type", "")
        if kind == "html" and paint.ROUTE in node.proto.body:
            order.append("paint")
        elif kind in ("metric", "plotly_chart"):
            order.append({"plotly_chart": "chart"}.get(kind, kind))

    walk(at.main)
    return order


def test_the_overview_sends_its_figures_waits_then_sends_its_charts(use_db, demo_db,
                                                                     monkeypatch):
    """Under the app server: metrics, then the report script, then the charts; the page's
    second run (a filter click keeps the figures on screen) waits for nothing."""
    monkeypatch.setattr(sessions, "ROUTES_SERVED", True)  # as under dashboard/server.py
    monkeypatch.setattr(paint, "MAX_WAIT", 0.05)  # no browser reports here
    at = run_page(use_db, demo_db, viewer=None)
    order = _element_order(at)
    assert order.count("paint") == 1
    cut = order.index("paint")
    assert set(order[:cut]) == {"metric"} and len(order[:cut]) >= 7
    assert set(order[cut + 1:]) == {"chart"} and len(order[cut + 1:]) == 2
    script = next(e.proto.body for e in at.get("html") if paint.ROUTE in e.proto.body)
    assert '"/gezeichnet/' in script and "stMetricValue" in script
    at.run()
    assert_ok(at)
    assert "paint" not in _element_order(at)
    assert paint.waiting() == 0


@pytest.mark.parametrize(("page", "viewer", "figures"), [
    ("fortschritt", STAFF, 6), ("module", STAFF, 4), ("module", None, 4)])
def test_chart_pages_send_their_figures_wait_then_send_their_charts(use_db, demo_db, monkeypatch,
                                                                    page, viewer, figures):
    """Module and Fortschritt open with the report's figures as text: sent first, then the
    wait for the browser's report, then the charts (Plotly's script would hold the figures
    back)."""
    monkeypatch.setattr(sessions, "ROUTES_SERVED", True)
    monkeypatch.setattr(paint, "MAX_WAIT", 0.05)
    order = _element_order(run_page(use_db, demo_db, page, viewer=viewer))
    assert order[:figures + 1] == ["metric"] * figures + ["paint"]
    assert order.count("paint") == 1 and set(order[figures + 1:]) == {"chart"}


def test_the_map_page_sends_its_preview_waits_then_sends_its_map(use_db, demo_db, monkeypatch):
    """The Karte's key content is its points: first their preview (an image the server draws),
    then the wait for the browser's report that it is drawn, then the interactive map, which
    covers it. A rerun (a filter click) keeps the drawn map: an empty box, no wait."""
    monkeypatch.setattr(sessions, "ROUTES_SERVED", True)
    monkeypatch.setattr(paint, "MAX_WAIT", 0.05)
    sent: list[str] = []
    enqueue = DeltaGenerator._enqueue

    def spy(self, delta_type, element_proto, *args, **kwargs):
        body = getattr(element_proto, "body", "") if delta_type == "html" else ""
        if paint.ROUTE in body:
            sent.append("paint")
        elif "wk-map-preview" in body:
            sent.append("preview" if "<img" in body else "box")
        elif delta_type == "plotly_chart":
            sent.append("map")
        return enqueue(self, delta_type, element_proto, *args, **kwargs)

    at = run_page(use_db, demo_db)  # the Überblick first, as a visitor comes
    monkeypatch.setattr(DeltaGenerator, "_enqueue", spy)
    at.switch_page("../pages/karte.py").run()
    assert_ok(at)
    assert sent == ["preview", "paint", "map"]
    script = next(e.proto.body for e in at.get("html") if paint.ROUTE in e.proto.body)
    assert ui.KEY_MAP_PREVIEW in script.replace("\\", "")
    sent.clear()
    at.run()
    assert_ok(at)
    assert sent == ["box", "map"]
    assert paint.waiting() == 0


def test_without_the_app_server_no_page_waits(use_db, demo_db):
    """`streamlit run dashboard/app.py` and AppTest: nothing reports, so nothing waits."""
    for page in (None, "kommune", "bericht", "module", "fortschritt", "karte"):
        at = run_page(use_db, demo_db, page)
        assert "paint" not in _element_order(at), page


def test_the_report_sends_its_figures_before_its_period_and_edition(use_db, demo_db,
                                                                      monkeypatch):
    """Bericht: the period, Stichtag and edition stand above the figures (page order) but are
    sent after the browser reported the figures drawn (send order): their scripts would hold
    the figures back."""
    monkeypatch.setattr(sessions, "ROUTES_SERVED", True)
    monkeypatch.setattr(paint, "MAX_WAIT", 0.05)
    sent: list[str] = []
    enqueue = DeltaGenerator._enqueue

    def spy(self, delta_type, element_proto, *args, **kwargs):
        is_report = delta_type == "html" and paint.ROUTE in element_proto.body
        sent.append("paint" if is_report else delta_type)
        return enqueue(self, delta_type, element_proto, *args, **kwargs)

    at = run_page(use_db, demo_db)  # the Überblick first, as a visitor comes
    monkeypatch.setattr(DeltaGenerator, "_enqueue", spy)
    at.switch_page("../pages/bericht.py").run()
    assert_ok(at)
    mine = [k for k in sent if k in ("metric", "date_input", "button_group", "paint")]
    assert mine[:9] == ["metric"] * 8 + ["paint"]
    assert mine[9:13] == ["date_input"] * 3 + ["button_group"]
    # on screen the controls still stand above the figures
    main = [getattr(e, "type", "") for e in at.main]
    assert main.index("date_input") < main.index("metric")
    assert [d.label for d in at.date_input] == ["Berichtszeitraum von", "Berichtszeitraum bis",
                                                "Stichtag"]
