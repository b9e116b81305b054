"""Vernetzung in real Chromium: staff see the engine's suggestions and build groups on demand; a
commune asks a peer for an exchange and the peer accepts (double opt-in: the peer's contact
details are in neither the page HTML nor any WebSocket message before), all offline."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from dashboard import auth, data, peers
from dashboard.store import austausch, demo
from tests.e2e.conftest import screenshot, start_app

LOCAL = ("http://127.0.0.1", "http://localhost", "data:", "blob:")
STAFF_USER, ASKER_USER, PEER_USER = "vernetzung.team", "vernetzung.a", "vernetzung.p"
PASSWORD = "ein-langes-testpasswort-5"
ENGAGEMENT = "Engagement und Beteiligung"
KOMMUNE = "01003000"  # Lübeck: consenting, with Selbstcheck; has one open request in the demo


@pytest.fixture(scope="module")
def exchange_app(demo_db: Path, tmp_path_factory: pytest.TempPathFactory
                 ) -> Iterator[dict[str, str]]:
    """The dashboard on the demo data and a demo store, with a staff account and accounts for two
    communes without consent to networking (the asker and the asked peer)."""
    base = tmp_path_factory.mktemp("vernetzung_e2e")
    users, store = base / "users.toml", base / "store.sqlite"
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("WK_DB", str(demo_db))
        mp.setenv("WK_STORE", str(store))
        mp.setenv("WK_USERS", str(users))
        mp.setenv("WK_AUDIT", str(base / "audit.jsonl"))
        demo.seed(data.query("select * from mart_peer_merkmale order by kommune_id"))
        refusing = data.query("select kommune_id from mart_kommune where not "
                              "vernetzung_zustimmung and status <> 'ausgeschieden' "
                              "order by kommune_id")["kommune_id"].to_list()
        asker, peer = refusing[0], refusing[1]
        austausch.save_entry(data.Viewer("kommune", asker), "x", asker, "gesuch", ENGAGEMENT,
                             "Wir suchen Ideen für Beteiligung")
        austausch.save_entry(data.Viewer("kommune", peer), "x", peer, "angebot", ENGAGEMENT,
                             "Beteiligungsformat im Rathaus")
        contacts = data.peer_contacts(data.STAFF, [asker, peer])
        auth.add_account(STAFF_USER, PASSWORD, "staff", path=users)
        auth.add_account(ASKER_USER, PASSWORD, "kommune", kommune_id=asker, path=users)
        auth.add_account(PEER_USER, PASSWORD, "kommune", kommune_id=peer, path=users)
        names = data.kommune_names()
        proc, url = start_app(demo_db)
    by_id = {r["kommune_id"]: r for r in contacts.iter_rows(named=True)}
    yield {"url": url, "store": str(store), "db": str(demo_db), "asker": asker, "peer": peer,
           "asker_name": names[asker], "peer_name": names[peer],
           "peer_email": by_id[peer]["email"], "peer_phone": by_id[peer]["telefon"],
           "peer_person": by_id[peer]["ansprechperson"], "asker_email": by_id[asker]["email"]}
    proc.terminate()
    proc.wait(timeout=10)


def _sign_in(page: Page, url: str, user: str, menu: str = "Vernetzung") -> None:
    page.goto(f"{url}/anmelden")
    # the first page of a fresh server compiles and loads everything: slow on a busy machine
    expect(page.get_by_label("Benutzername")).to_be_visible(timeout=120_000)
    page.get_by_label("Benutzername").fill(user)
    page.get_by_label("Passwort").fill(PASSWORD)
    page.get_by_role("button", name="Anmelden").click()
    # the menu's link (the start page may link to the same page in its content)
    link = page.get_by_test_id("stSidebarUserContent").get_by_role("link", name=menu)
    expect(link).to_be_visible(timeout=30_000)
    link.click()
    expect(page.get_by_role("heading", name="Vernetzung", exact=True)).to_be_visible(
        timeout=30_000)


def _card(page: Page, name: str, first_reason: str):
    # the innermost block holding both the name and the first reason is the card
    return page.locator('[data-testid="stVerticalBlock"]').filter(
        has_text=first_reason).filter(has_text=name).last


def _expected_staff(app: dict[str, str], kid: str) -> tuple[str, str, list[str]]:
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("WK_DB", app["db"])
        mp.setenv("WK_STORE", app["store"])
        frame = data.query("select p.*, k.groessenklasse from mart_peer_merkmale p join "
                           "mart_kommune k using (kommune_id) order by kommune_id")
        f = peers.PeerFeatures.from_frame(frame, austausch.all_entries_unchecked(),
                                          austausch.all_practices_unchecked())
        expected = peers.suggest(f, kid, n=6, staff=True)
        name = data.kommune_names()[kid]
    return name, expected["name"][0], expected["gruende"][0].to_list()


def test_staff_see_suggestions_network_and_build_groups_on_demand(page: Page,
                                                                   exchange_app: dict):
    outside: list[str] = []
    page.on("request", lambda r: None if r.url.startswith(LOCAL) else outside.append(r.url))
    name, first, reasons = _expected_staff(exchange_app, KOMMUNE)
    _sign_in(page, exchange_app["url"], STAFF_USER)
    chooser = page.locator('[data-testid="stMain"] [data-testid="stSelectbox"]').first
    expect(chooser).to_contain_text("Kommune", timeout=90_000)
    chooser.click()
    page.keyboard.type(name)
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name=f"Vorschläge für {name}")).to_be_visible(
        timeout=90_000)
    card = _card(page, first, reasons[0])
    expect(card).to_be_visible(timeout=90_000)
    for reason in reasons:
        expect(card).to_contain_text(reason)
    page.set_viewport_size({"width": 1400, "height": 3200})
    expect(page.locator(".maplibregl-canvas").first).to_be_visible(timeout=30_000)
    page.wait_for_timeout(1500)
    screenshot(page, "vernetzung")

    page.get_by_role("tab", name="Netzwerk (Programmteam)").click()
    expect(page.get_by_role("heading", name="Austauschnetzwerk")).to_be_visible()
    expect(page.get_by_role("heading", name="Gesuche, die noch kein Angebot abdeckt")
           ).to_be_visible()
    page.wait_for_timeout(1500)
    screenshot(page, "vernetzung_netzwerk")

    page.get_by_role("tab", name="Austauschgruppen").click()
    expect(page.get_by_text("erst auf Knopfdruck berechnet")).to_be_visible()
    page.get_by_role("button", name="Gruppen bilden").click()
    expect(page.get_by_text("Gruppen für").first).to_be_visible(timeout=60_000)
    screenshot(page, "vernetzung_gruppen")
    assert outside == []


def test_a_commune_asks_and_the_peer_accepts_before_anyone_sees_contacts(
        browser: Browser, exchange_app: dict, browser_context_args: dict):
    app = exchange_app
    secrets = [app["peer_email"], app["peer_phone"], app["peer_person"]]
    asker_ctx = browser.new_context(**browser_context_args)
    peer_ctx = browser.new_context(**browser_context_args)
    try:
        asker = asker_ctx.new_page()
        frames: list[bytes | str] = []
        asker.on("websocket", lambda ws: ws.on("framereceived", lambda p: frames.append(p)))
        _sign_in(asker, app["url"], ASKER_USER)
        card = asker.locator('[data-testid="stVerticalBlock"]').filter(
            has_text=app["peer_name"]).filter(has_text="Austausch anfragen").last
        expect(card).to_be_visible(timeout=90_000)
        expect(card).to_contain_text("Kontaktdaten erst nach angenommener Anfrage")
        card.locator("summary").filter(has_text="Austausch anfragen").dispatch_event("click")
        card.get_by_role("button", name="Anfrage senden").click()
        expect(asker.get_by_text(f"Anfrage an {app['peer_name']} gesendet")).to_be_visible(
            timeout=30_000)
        asker.wait_for_timeout(1000)
        html = asker.content()
        received = b"".join(f if isinstance(f, bytes) else f.encode() for f in frames)
        assert received  # the session did talk over the WebSocket
        assert not [s for s in secrets if s in html or s.encode() in received]
        screenshot(asker, "vernetzung_anfrage_gesendet")

        peer = peer_ctx.new_page()
        _sign_in(peer, app["url"], PEER_USER, menu="Vernetzung (1)")  # the count in the menu
        peer.get_by_role("tab", name="Anfragen (1)").click()
        expect(peer.get_by_text(f"{app['asker_name']} fragt an zu")).to_be_visible()
        assert app["asker_email"] not in peer.content()
        screenshot(peer, "vernetzung_posteingang")
        peer.get_by_role("button", name="Annehmen").click()
        expect(peer.get_by_text("Angenommen. Sie sehen jetzt die Kontaktdaten")).to_be_visible(
            timeout=30_000)
        expect(peer.get_by_text(app["asker_email"]).first).to_be_attached(timeout=30_000)

        # the asker sees the peer's contact details after the next run of its page
        asker.get_by_role("link", name="Vernetzung").click()
        asker.wait_for_timeout(2000)  # the page reruns after the navigation
        expect(asker.get_by_text(app["peer_email"]).first).to_be_attached(timeout=60_000)
        screenshot(asker, "vernetzung_kontakt_nach_zusage")
    finally:
        asker_ctx.close()
        peer_ctx.close()
    assert os.path.exists(app["store"])
