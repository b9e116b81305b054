"""Sign in, reload, new tab, logout and a deep link, in real Chromium against a real server."""

from __future__ import annotations

from playwright.sync_api import Page, expect

from tests.e2e.conftest import PASSWORD, screenshot

# A sign-in reloads the page (to receive the cookie): a full page load, which took over 30 s
# on the shared 2-core machine at load average 20.
LOAD = 120_000


def _fill_login(page: Page, user: str = "team") -> None:
    # the first page of a fresh server can take longer than 30 s on a busy 2-core machine
    page.get_by_label("Benutzername").wait_for(timeout=120_000)
    page.get_by_label("Benutzername").fill(user)
    page.get_by_label("Passwort").fill(PASSWORD)
    page.get_by_role("button", name="Anmelden").click()


def test_login_survives_reload_and_new_tab_until_logout(page: Page, app_url: str):
    page.goto(f"{app_url}/anmelden")
    _fill_login(page)
    logout = page.get_by_role("button", name="Abmelden")
    expect(logout).to_be_visible(timeout=LOAD)
    cookies = {c["name"]: c for c in page.context.cookies()}
    assert cookies["wk_sitzung"]["httpOnly"] is True
    assert cookies["wk_sitzung"]["sameSite"] == "Lax"
    assert page.evaluate("document.cookie").find("wk_sitzung") == -1  # not readable by scripts

    page.reload()
    expect(logout).to_be_visible(timeout=LOAD)
    expect(page.get_by_role("link", name="Fortschritt", exact=True)).to_be_visible()

    tab = page.context.new_page()  # a bookmark opened in a new tab
    tab.goto(f"{app_url}/fortschritt")
    expect(tab.get_by_role("heading", name="Fortschritt").first).to_be_visible(timeout=LOAD)
    expect(tab.get_by_role("button", name="Abmelden")).to_be_visible()

    logout.click(timeout=LOAD)
    expect(page.get_by_role("link", name="Anmelden", exact=True)).to_be_visible(timeout=LOAD)
    for _ in range(100):  # the browser is sent to /sitzung/ende, which clears the cookie
        if "wk_sitzung" not in {c["name"] for c in page.context.cookies()}:
            break
        page.wait_for_timeout(100)
    assert "wk_sitzung" not in {c["name"] for c in page.context.cookies()}
    expect(logout).to_have_count(0)
    # the other tab's session was revoked on the server: its next click ends it
    tab.reload()
    expect(tab.get_by_text("ist nur nach der Anmeldung sichtbar")).to_be_visible(timeout=LOAD)
    tab.close()


def test_deep_link_leads_through_sign_in_to_the_filtered_page(page: Page, app_url: str):
    messages: list[str] = []
    page.on("console", lambda m: messages.append(m.text) if m.type == "error" else None)
    page.goto(f"{app_url}/fortschritt?bundesland=Bayern")
    expect(page.get_by_text("Die Seite „Fortschritt“ ist nur nach der Anmeldung sichtbar")
           ).to_be_visible()
    expect(page.get_by_text("Page not found")).to_have_count(0)
    screenshot(page, "sessions-deep-link-sign-in")
    _fill_login(page)
    expect(page.get_by_role("button", name="Abmelden")).to_be_visible(timeout=LOAD)
    expect(page.get_by_role("heading", name="Fortschritt").first).to_be_visible()
    page.wait_for_url("**/fortschritt?bundesland=Bayern*")
    screenshot(page, "sessions-deep-link-after-sign-in")
    assert not messages, messages


def test_direct_page_url_loads_without_console_errors(page: Page, app_url: str):
    failed: list[str] = []
    messages: list[str] = []
    page.on("console", lambda m: messages.append(m.text) if m.type == "error" else None)
    page.on("response", lambda r: failed.append(r.url) if r.status >= 400 else None)
    page.goto(f"{app_url}/karte")
    expect(page.get_by_role("heading", name="Karte").first).to_be_visible()
    page.wait_for_timeout(1000)
    # before: /karte/_stcore/health and /karte/_stcore/host-config answered 404
    assert not failed, failed
    assert not messages, messages


def test_phone_menu_closes_after_choosing_a_page_and_filters_stay_reachable(
        browser, app_url: str):
    context = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True,
                                  has_touch=True, locale="de-DE")
    page = context.new_page()
    sidebar = page.get_by_test_id("stSidebar")
    page.goto(app_url)
    expect(page.get_by_test_id("stMetricValue").first).to_be_visible()
    page.get_by_test_id("stExpandSidebarButton").click()
    menu = page.get_by_role("navigation", name="Seiten")
    expect(menu.get_by_role("heading", name="Programm")).to_be_in_viewport()
    expect(page.get_by_role("link", name="Karte", exact=True)).to_be_in_viewport()
    screenshot(page, "sessions-phone-menu-open")
    page.get_by_role("link", name="Karte", exact=True).click()
    expect(page.get_by_role("heading", name="Karte").first).to_be_visible()
    expect(page.get_by_role("link", name="Karte", exact=True)).not_to_be_in_viewport()
    screenshot(page, "sessions-phone-after-menu")
    # the filters: open the sidebar again, choose one; it stays open for the next choice
    page.get_by_test_id("stExpandSidebarButton").click()
    page.get_by_role("button", name="Bayern").click()
    page.wait_for_url("**/karte?bundesland=Bayern")
    expect(sidebar.get_by_role("button", name="Hessen")).to_be_in_viewport()
    context.close()
