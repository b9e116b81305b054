"""Handlungsplan, Fristen & Versand and the profile sections of issue #15 in real Chromium."""

from __future__ import annotations

import datetime as dt
import os
import subprocess

from playwright.sync_api import expect

from dashboard import data
from dashboard.store import demo_handlungsplan, notizen
from dashboard.store import watch as wstore
from dashboard.store.__main__ import demo_handlungsplan_inputs
from tests.e2e.conftest import login, open_page, screenshot, settled, start_app


def test_action_pages_in_the_browser(page, demo_db, e2e_accounts, use_db):
    use_db(demo_db)
    demo_handlungsplan.seed(*demo_handlungsplan_inputs(data))
    notizen.add_note(data.STAFF, "anna", e2e_accounts["kommune_id"], dt.date(2021, 3, 1),
                     dt.date(2021, 4, 15), "Kommunalwahl", "kommune")
    wstore.save_delivery(data.STAFF, "anna", "Quartalsbericht", "rat@example.org", "oeffentlich",
                         "quartalsende", ["xlsx"])
    proc, url = start_app(demo_db, WK_USERS=e2e_accounts["WK_USERS"],
                          WK_AUDIT=e2e_accounts["WK_AUDIT"], WK_STORE=os.environ["WK_STORE"])
    try:
        login(page, url, "team")
        open_page(page, "Handlungsplan")
        expect(page.get_by_text("Überblick über alle Kommunen")).to_be_visible()
        expect(page.get_by_text("Prioritäten ohne Maßnahme")).to_be_visible()
        screenshot(page, "action_handlungsplan_staff")
        open_page(page, "Fristen & Versand")
        expect(page.get_by_text("Regel: Ein Meilenstein gilt als überfällig")).to_be_visible()
        page.get_by_role("button", name="Jetzt prüfen").click()
        expect(page.get_by_text("neue Einträge gemeldet")).to_be_visible()
        # the message comes while the run goes on drawing the page: a form filled in before
        # that run has ended can be drawn anew under the test's hands (CI, busy machine)
        settled(page)
        screenshot(page, "action_fristen")
        # change a scheduled delivery: German confirmation after the save
        page.get_by_text("Bearbeiten").first.click()
        name = page.get_by_label("Name").first
        name.fill("Jahresbericht")
        expect(name).to_have_value("Jahresbericht")
        name.press("Tab")  # the field hands its value to the form before the click (busy CI)
        settled(page)
        page.get_by_role("button", name="Versand speichern").first.click()
        expect(page.get_by_text("Änderungen am Versand „Jahresbericht“ gespeichert.")
               ).to_be_visible()
        screenshot(page, "action_fristen_delivery_edited")
        open_page(page, "Fortschritt")
        expect(page.get_by_text("Notizen im gezeigten Zeitraum")).to_be_visible()
        screenshot(page, "action_fortschritt")
        page.get_by_role("button", name="Abmelden").click()
        # logout sends the browser through /sitzung/ende: let that navigation finish first
        expect(page.get_by_role("link", name="Anmelden")).to_be_visible(timeout=60_000)
        login(page, url, "kommune")
        expect(page.get_by_text("Vom Befund zur Maßnahme")).to_be_visible()
        page.get_by_role("heading", name="Zeitplan").first.scroll_into_view_if_needed()
        expect(page.locator(".js-plotly-plot").first).to_be_visible()
        page.mouse.wheel(0, 150)
        screenshot(page, "action_profile_timeline")
        expect(page.get_by_text("Notizen zur Zeitleiste")).to_be_visible()
        page.get_by_role("button", name="Sachstand erstellen").click()
        expect(page.get_by_role("button", name="Präsentation (PPTX)")).to_be_visible()
        screenshot(page, "action_profile_kommune")
        # the presentation is made before, its file handed over on click (no script run)
        with page.expect_download(timeout=30_000) as info:
            page.get_by_role("button", name="Präsentation (PPTX)").click()
        assert info.value.suggested_filename.endswith(".pptx")
        assert info.value.path().read_bytes().startswith(b"PK")  # a ZIP container
        # the .ics download is made on click (a deferred download): the commune's own file
        with page.expect_download(timeout=30_000) as info:
            page.get_by_role("button", name="Kalender (.ics) herunterladen").click()
        own = e2e_accounts["kommune_id"]
        assert info.value.suggested_filename == f"kalender_{own}.ics"
        ics = info.value.path().read_bytes()
        assert ics.startswith(b"BEGIN:VCALENDAR") and f"UID:{own}-".encode() in ics
        assert ics.count(b"BEGIN:VEVENT") == ics.count(f"UID:{own}-".encode()) > 0
        # the private calendar link: made on the profile, served by the same server
        page.get_by_role("button", name="Privaten Link erzeugen").click()
        link = page.locator("code").filter(has_text="/kalender/").first
        expect(link).to_be_visible()
        feed = page.request.get(link.inner_text().strip())
        assert feed.status == 200 and feed.headers["content-type"].startswith("text/calendar")
        assert b"BEGIN:VCALENDAR" in feed.body()
        link.scroll_into_view_if_needed()
        screenshot(page, "action_profile_calendar_link")
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:  # a busy machine: do not leave the server behind
            proc.kill()
            proc.wait(timeout=30)
