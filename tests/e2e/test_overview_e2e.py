"""The main journey in real Chromium: open the dashboard and read the key figures."""

from __future__ import annotations

import asyncio
import concurrent.futures

import duckdb
from playwright.sync_api import Page, expect

from dashboard import paint, ui
from tests.e2e.conftest import public_kommunen, screenshot


def _metric(page: Page, label: str) -> str:
    box = page.locator('[data-testid="stMetric"]').filter(has_text=label).first
    expect(box).to_be_visible(timeout=30_000)
    return box.locator('[data-testid="stMetricValue"]').inner_text().strip()


def test_overview_shows_key_figures_and_stays_offline(page: Page, app_url: str, demo_db):
    outside: list[str] = []
    page.on("request", lambda r: outside.append(r.url)
            if not r.url.startswith(("http://127.0.0.1", "http://localhost", "data:", "blob:"))
            else None)
    page.goto(app_url)
    expect(page.get_by_text("Beispieldaten (synthetisch)")).to_be_visible(timeout=30_000)
    con = duckdb.connect(str(demo_db), read_only=True)
    finished = con.execute(
        "select count(*) filter (where ende_ist is not null) from mart_kommune").fetchone()[0]
    assert _metric(page, "Kommunen") == public_kommunen(demo_db)
    assert _metric(page, "davon abgeschlossen") == str(finished)
    # the page's language for screen readers (Streamlit's own page says "en")
    expect(page.locator("html")).to_have_attribute("lang", "de", timeout=30_000)
    screenshot(page, "ueberblick")
    assert outside == []


def test_the_key_figures_are_drawn_before_plotly_is_loaded(page: Page, app_url: str):
    """The overview's first run sends its charts only after the browser reported the key
    figures drawn (`ui.key_figures_sent`): the figures are in the page before the browser even
    asks for Plotly's script (4.7 MB), instead of waiting until it is loaded and run. Fails when
    the charts travel with the figures."""
    page.add_init_script("""new MutationObserver(() => {
        if (!window.__wkMetricAt && document.querySelector('[data-testid="stMetricValue"]'))
            window.__wkMetricAt = performance.now();
    }).observe(document, {subtree: true, childList: true});""")
    page.goto(app_url)
    expect(page.locator(".js-plotly-plot .main-svg").first).to_be_visible(timeout=60_000)
    metric_at = page.evaluate("window.__wkMetricAt")
    plotly = page.evaluate("""() => performance.getEntriesByType('resource')
        .filter(e => /PlotlyChart[.][^/]*[.]js$/.test(e.name)).map(e => e.startTime)""")
    assert metric_at is not None and len(plotly) == 1
    assert metric_at < plotly[0]


def test_a_light_client_reports_the_figures_drawn_as_a_browser_does(app_url: str):
    """bench/load.py's light sessions answer the page's report request, as the browser's
    script does (otherwise every first page view of the load test waits `paint.MAX_WAIT`)."""
    from bench import stclient

    async def two_runs():
        session = await stclient.Session(app_url).open()
        try:
            return await session.rerun(), await session.rerun()
        finally:
            await session.close()

    # in a thread of its own: the browser tests before this one left an event loop in this one
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        first, second = pool.submit(asyncio.run, two_runs()).result()
    assert not first.errors and len(first.metrics) >= 7
    assert len(first.paint_reports) == 1 and "/gezeichnet/" in first.paint_reports[0]
    assert not second.errors and second.paint_reports == []  # the figures are still shown


def _frames_and_reports(page: Page, figure_after_ms: int | None) -> tuple[int, int, int]:
    """Run the report script on a bare page whose key figure appears after `figure_after_ms`
    (never if None); (animation frames asked for until 1 s past the deadline, the same 1 s
    later, reports sent)."""
    page.route("http://report.test/gezeichnet/**", lambda route: route.fulfill(status=204))
    page.route("http://report.test/page", lambda route: route.fulfill(
        status=200, content_type="text/html", body="<html><body></body></html>"))
    page.goto("http://report.test/page")  # a page of the report's origin
    page.evaluate("""() => {
        window.frames_asked = 0; window.reports = 0;
        const raf = window.requestAnimationFrame.bind(window);
        window.requestAnimationFrame = cb => { window.frames_asked++; return raf(cb); };
        const fetch_ = window.fetch.bind(window);
        window.fetch = (...a) => { window.reports++; return fetch_(...a); };
        document.body.innerHTML = '<div data-testid="stMain"></div>';
    }""")
    if figure_after_ms is not None:
        page.evaluate("""ms => setTimeout(() => document.querySelector('[data-testid="stMain"]')
            .insertAdjacentHTML('beforeend', '<div data-testid="stMetricValue">7</div>'), ms)""",
                      figure_after_ms)
    page.add_script_tag(content=ui.painted_script("http://report.test/gezeichnet/t", ui.KEY_METRIC)
                        .removeprefix("<script>").removesuffix("</script>"))
    page.wait_for_timeout(paint.MAX_WAIT * 1000 + 1000)
    first = page.evaluate("window.frames_asked")
    page.wait_for_timeout(1000)
    return first, page.evaluate("window.frames_asked"), page.evaluate("window.reports")


def test_the_report_script_reports_once_and_stops_when_the_server_stopped_waiting(page: Page):
    # the figure comes: one report, and no more frames asked for afterwards
    first, later, reports = _frames_and_reports(page, 300)
    assert reports == 1
    assert first == later
    # the figure never comes: no report, and the checks end with the server's wait
    first, later, reports = _frames_and_reports(page, None)
    assert reports == 0
    assert first > 10  # it did check, frame by frame
    assert later == first
