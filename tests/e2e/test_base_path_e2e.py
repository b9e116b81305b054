"""Served below a base path (`--server.baseUrlPath=monitor`, as behind a proxy that forwards only
`/monitor/…`): the cookie sign-in, a reload, the logout and a deep link all stay below it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.conftest import PASSWORD, screenshot, start_app

LOAD = 120_000  # a sign-in is a full page load: slow on a busy 2-core machine


@pytest.fixture(scope="module")
def monitor_url(demo_db: Path, e2e_accounts: dict[str, str]) -> Iterator[str]:
    proc, url = start_app(demo_db, base_path="monitor", WK_USERS=e2e_accounts["WK_USERS"],
                          WK_AUDIT=e2e_accounts["WK_AUDIT"])
    yield url
    proc.terminate()
    proc.wait(timeout=10)


def _paths(page: Page, monitor_url: str) -> list[str]:
    """Every path the browser asks this server for (page loads, redirects, assets)."""
    origin = urlsplit(monitor_url).netloc
    seen: list[str] = []
    page.on("request", lambda r: seen.append(urlsplit(r.url).path)
            if urlsplit(r.url).netloc == origin else None)
    return seen


def _sign_in(page: Page) -> None:
    page.get_by_label("Benutzername").wait_for(timeout=LOAD)
    page.get_by_label("Benutzername").fill("team")
    page.get_by_label("Passwort").fill(PASSWORD)
    page.get_by_role("button", name="Anmelden").click()


def test_sign_in_reload_and_logout_stay_below_the_base_path(page: Page, monitor_url: str):
    paths = _paths(page, monitor_url)
    page.goto(f"{monitor_url}/anmelden")
    _sign_in(page)
    logout = page.get_by_role("button", name="Abmelden")
    expect(logout).to_be_visible(timeout=LOAD)
    cookie = {c["name"]: c for c in page.context.cookies()}["wk_sitzung"]
    assert cookie["path"] == "/monitor" and cookie["httpOnly"] is True
    assert "/monitor/sitzung/start" in paths

    page.reload()
    expect(logout).to_be_visible(timeout=LOAD)
    expect(page.get_by_role("link", name="Fortschritt", exact=True)).to_be_visible()
    # the menu's links (opened in a new tab, too) stay below the base path
    links = page.get_by_role("navigation", name="Seiten").get_by_role("link")
    hrefs = links.evaluate_all("links => links.map(a => a.href)")
    assert len(hrefs) == 10 and all(h.startswith(f"{monitor_url}/") for h in hrefs), hrefs

    logout.click()
    expect(page.get_by_role("link", name="Anmelden", exact=True)).to_be_visible(timeout=LOAD)
    for _ in range(100):  # the browser is sent to /monitor/sitzung/ende, which clears the cookie
        if "wk_sitzung" not in {c["name"] for c in page.context.cookies()}:
            break
        page.wait_for_timeout(100)
    assert "wk_sitzung" not in {c["name"] for c in page.context.cookies()}
    assert "/monitor/sitzung/ende" in paths
    page.reload()  # logged out for good: no cookie brings the login back
    expect(page.get_by_role("link", name="Anmelden", exact=True)).to_be_visible(timeout=LOAD)
    expect(logout).to_have_count(0)
    # nothing ever left the base path (a bare /sitzung/start would miss the app behind a proxy)
    assert paths and all(p.startswith("/monitor/") or p == "/monitor" for p in paths), paths


def test_deep_link_below_the_base_path_leads_through_sign_in_and_back(page: Page,
                                                                      monitor_url: str):
    paths = _paths(page, monitor_url)
    page.goto(f"{monitor_url}/fortschritt?bundesland=Bayern")
    expect(page.get_by_text("Die Seite „Fortschritt“ ist nur nach der Anmeldung sichtbar")
           ).to_be_visible(timeout=LOAD)
    expect(page.get_by_text("Page not found")).to_have_count(0)
    _sign_in(page)
    expect(page.get_by_role("button", name="Abmelden")).to_be_visible(timeout=LOAD)
    expect(page.get_by_role("heading", name="Fortschritt").first).to_be_visible(timeout=LOAD)
    page.wait_for_url(f"{monitor_url}/fortschritt?bundesland=Bayern*", timeout=LOAD)
    screenshot(page, "base-path-deep-link-after-sign-in")
    assert all(p.startswith("/monitor/") or p == "/monitor" for p in paths), paths


def test_the_paint_report_reaches_the_server_below_the_base_path(page: Page, monitor_url: str):
    """The Überblick's report that its key figures are drawn (`dashboard.paint`) goes to
    `/monitor/gezeichnet/<token>` and is answered there (204), so the page need not wait out
    `paint.MAX_WAIT` before its charts."""
    reports = []
    page.on("response", lambda r: reports.append((urlsplit(r.url).path, r.status))
            if "/gezeichnet/" in r.url else None)
    page.goto(f"{monitor_url}/")
    expect(page.locator(".js-plotly-plot .main-svg").first).to_be_visible(timeout=LOAD)
    assert len(reports) == 1
    path, status = reports[0]
    assert path.startswith("/monitor/gezeichnet/") and status == 204
