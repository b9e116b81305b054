"""Vernetzung in real Chromium: staff pick a commune and see the engine's suggestions with
reasons; a commune signs in and sees only its own suggestions from consenting peers; offline."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import duckdb
import polars as pl
import pytest
from playwright.sync_api import Page, expect

from dashboard import auth, peers
from tests.e2e.conftest import screenshot, start_app

LOCAL = ("http://127.0.0.1", "http://localhost", "data:", "blob:")
STAFF_USER, KOMMUNE_USER = "vernetzung.team", "vernetzung.kommune"
PASSWORD = "ein-langes-testpasswort-5"


def _frame(db: Path) -> pl.DataFrame:
    with duckdb.connect(str(db), read_only=True) as con:
        return con.sql("select * from mart_peer_merkmale order by name").pl()


def _kommune_with_selbstcheck(frame: pl.DataFrame) -> dict:
    """A consenting commune with priorities that is not the preselected (first) one."""
    return frame.filter(pl.col("prioritaeten").list.len() > 0,
                        pl.col("vernetzung_zustimmung")).row(-1, named=True)


@pytest.fixture(scope="module")
def peer_app(demo_db: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The dashboard on the demo data with a staff and a commune account (temporary file)."""
    base = tmp_path_factory.mktemp("vernetzung_e2e")
    users = base / "users.toml"
    auth.add_account(STAFF_USER, PASSWORD, "staff", path=users)
    auth.add_account(KOMMUNE_USER, PASSWORD, "kommune",
                     kommune_id=_kommune_with_selbstcheck(_frame(demo_db))["kommune_id"],
                     path=users)
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("WK_USERS", str(users))
        mp.setenv("WK_AUDIT", str(base / "audit.jsonl"))
        proc, url = start_app(demo_db)
    yield url
    proc.terminate()
    proc.wait(timeout=10)


def _sign_in(page: Page, url: str, user: str) -> None:
    page.goto(f"{url}/anmelden")
    page.get_by_label("Benutzername").fill(user)
    page.get_by_label("Passwort").fill(PASSWORD)
    page.get_by_role("button", name="Anmelden").click()
    expect(page.get_by_role("link", name="Vernetzung")).to_be_visible(timeout=30_000)
    page.get_by_role("link", name="Vernetzung").click()
    expect(page.get_by_role("heading", name="Vernetzung", exact=True)).to_be_visible(
        timeout=30_000)


def _card(page: Page, name: str, first_reason: str):
    # the innermost block holding both the name and the first reason is the card
    return page.locator('[data-testid="stVerticalBlock"]').filter(
        has_text=first_reason).filter(has_text=name).last


def test_staff_pick_a_commune_and_see_suggestions_with_reasons(page: Page, peer_app: str,
                                                               demo_db):
    outside: list[str] = []
    page.on("request", lambda r: None if r.url.startswith(LOCAL) else outside.append(r.url))
    frame = _frame(demo_db)
    kommune = _kommune_with_selbstcheck(frame)
    expected = peers.suggest(peers.PeerFeatures.from_frame(frame), kommune["kommune_id"], n=6)
    first, reasons = expected["name"][0], expected["gruende"][0]

    _sign_in(page, peer_app, STAFF_USER)
    chooser = page.locator('[data-testid="stMain"] [data-testid="stSelectbox"]').first
    expect(chooser).to_contain_text("Kommune", timeout=30_000)
    chooser.click()
    page.keyboard.type(kommune["name"])
    page.keyboard.press("Enter")

    expect(page.get_by_role("heading", name=f"Vorschläge für {kommune['name']}")).to_be_visible(
        timeout=30_000)
    card = _card(page, first, reasons[0])
    expect(card).to_be_visible(timeout=30_000)
    for reason in reasons:
        expect(card).to_contain_text(reason)
    expect(card.get_by_role("link", name="Profil ansehen")).to_be_visible()
    assert f"kommune={kommune['kommune_id']}" in page.url
    expect(page.get_by_role("heading", name="Austauschgruppen bilden")).to_be_visible()
    # Streamlit scrolls inside <main>, so a tall viewport shows cards, map and list at once;
    # the offline map has drawn (MapLibre canvas) before the screenshot
    page.set_viewport_size({"width": 1400, "height": 3200})
    page.get_by_role("heading", name="Karte der Vorschläge").scroll_into_view_if_needed()
    expect(page.locator(".maplibregl-canvas").first).to_be_visible(timeout=30_000)
    page.wait_for_timeout(1500)
    screenshot(page, "vernetzung")
    assert outside == []


def test_commune_sees_only_its_own_suggestions_from_consenting_peers(page: Page, peer_app: str,
                                                                     demo_db):
    outside: list[str] = []
    page.on("request", lambda r: None if r.url.startswith(LOCAL) else outside.append(r.url))
    frame = _frame(demo_db)
    kommune = _kommune_with_selbstcheck(frame)
    expected = peers.suggest(peers.PeerFeatures.from_frame(frame), kommune["kommune_id"], n=6,
                             only_consenting=True)

    _sign_in(page, peer_app, KOMMUNE_USER)
    expect(page.get_by_text(f"Vorschläge für Ihre Kommune: {kommune['name']}")).to_be_visible(
        timeout=30_000)
    expect(page.locator('[data-testid="stMain"] [data-testid="stSelectbox"]').first
           ).not_to_contain_text("Kommune")  # no commune chooser, the first one is "Thema"
    for name, reasons in zip(expected["name"], expected["gruende"], strict=True):
        expect(_card(page, name, reasons[0])).to_be_visible(timeout=30_000)
    refusing = frame.filter(~pl.col("vernetzung_zustimmung"))["name"].to_list()
    main = page.locator('[data-testid="stMain"]')
    cards_text = main.inner_text()
    assert not [n for n in refusing if f"\n{n}\n" in cards_text]
    expect(page.get_by_role("heading", name="Austauschgruppen bilden")).to_have_count(0)
    screenshot(page, "vernetzung_kommune")
    assert outside == []
