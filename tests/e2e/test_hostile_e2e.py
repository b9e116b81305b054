"""Data never makes the browser fetch anything: every page, as staff, commune and public, on a
database whose names are Markdown images and links, HTML, an RTL override, zero-width characters
and a 1 MB string; Chromium records every request, and none may leave localhost."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from dashboard.app import pages_for
from dashboard.i18n import translate
from etl.build import build
from tests.cohort import KOMMUNEN, MEILENSTEINE, MODULNUTZUNG, write_cohort
from tests.e2e.conftest import PASSWORD, login, open_page, screenshot, start_app

LOCAL = ("http://127.0.0.1", "http://localhost", "data:", "blob:", "about:")
EVIL = "evil.example"
IMAGE_NAME = f"![p](http://{EVIL}/name.png) Flensburg"
HOSTILE = {
    "Flensburg;kreisfreie": f"{IMAGE_NAME};kreisfreie",
    "Lemgo;Stadt": f'<img src="http://{EVIL}/img.png"> [Link](http://{EVIL}/l) Lem\u200bgo\u200d'
                   ";Stadt",
    "München <script>alert(1)</script>": f"\u202eMünchen <script>fetch('http://{EVIL}/s')"
                                         f"</script> :red[rot] $x^2$ <style>*{{background:url("
                                         f"http://{EVIL}/css.png)}}</style>",
    "=SUM(1) Göttingen": "G" * 1_000_000,  # rejected (longer than 200 characters)
    ";Lippe;": f";![k](http://{EVIL}/kreis.png);",
}
KOMMUNE = "01001000"  # Flensburg consents to exchange


def hostile_inputs(folder: Path) -> Path:
    write_cohort(folder)
    text = KOMMUNEN
    for old, new in HOSTILE.items():
        assert old in text, old
        text = text.replace(old, new)
    (folder / "kommunen.csv").write_text(text, encoding="utf-8")
    (folder / "meilensteine.csv").write_text(MEILENSTEINE.replace(
        "05766020;Fragebogen;01.11.2021;;", f"05766020;Fragebogen;01.11.2021;;![n](http://{EVIL}"
        "/notiz.png)"), encoding="utf-8")
    (folder / "modulnutzung.csv").write_text(MODULNUTZUNG.replace(
        "Zusammenhalt und Begegnung", f"<img src=http://{EVIL}/thema.png> Begegnung"),
        encoding="utf-8")
    return folder


@pytest.fixture(scope="module")
def hostile_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    from dashboard.auth import add_account

    base = tmp_path_factory.mktemp("hostile")
    db = base / "data" / "monitor.duckdb"
    report = build(hostile_inputs(base / "eingabe"), db)
    assert "name" in report.rejects.get_column("spalte").to_list()  # the 1 MB name
    users = base / "users.toml"
    add_account("team", PASSWORD, "staff", path=users)
    add_account("kommune", PASSWORD, "kommune", KOMMUNE, path=users)
    proc, url = start_app(db, WK_USERS=str(users), WK_AUDIT=str(base / "audit.jsonl"))
    yield url
    proc.terminate()
    proc.wait(timeout=10)


def _watch(page: Page) -> list[str]:
    outside: list[str] = []
    page.on("request", lambda r: None if r.url.startswith(LOCAL) else outside.append(r.url))
    return outside


def _settle(page: Page, title: str) -> None:
    expect(page.locator("h1", has_text=title).first).to_be_visible()
    expect(page.locator('[data-testid="stStatusWidget"]')).to_have_count(0, timeout=60_000)
    page.wait_for_timeout(1500)  # images and fonts a page asks for come right after render


@pytest.mark.parametrize("role", ["staff", "kommune", "public"])
def test_no_page_makes_the_browser_fetch_from_outside(hostile_app: str, page: Page, role: str):
    outside = _watch(page)
    # the watcher sees an image request to another host (control)
    page.goto(hostile_app)
    page.evaluate(f"new Image().src = 'http://{EVIL}/control.png'")
    page.wait_for_timeout(500)
    assert any("control.png" in u for u in outside), outside
    outside.clear()
    if role != "public":
        login(page, hostile_app, {"staff": "team", "kommune": "kommune"}[role])
    seen = []
    for stem in pages_for(role):
        if stem == "anmelden":
            continue
        title = translate("de", f"nav.{stem}")
        open_page(page, title)
        _settle(page, title)
        screenshot(page, f"hostile-{role}-{stem}")
        seen.append(stem)
        assert outside == [], f"{role}/{stem}: {outside}"
        # nothing from data became an element that can load something
        loaders = page.locator(f'img[src*="{EVIL}"], a[href*="{EVIL}"], script[src*="{EVIL}"]')
        assert loaders.count() == 0, [h[:300] for h in loaders.evaluate_all(
            "els => els.map(e => e.outerHTML)")]
    assert len(seen) >= 3
    if role != "public":
        # the name is shown literally, not swallowed (Kommune page header, staff and commune)
        open_page(page, translate("de", "nav.kommune"))
        if role == "staff":
            page.get_by_role("combobox").first.click()
            page.get_by_role("option", name=f"{IMAGE_NAME} ({KOMMUNE})").click()
        page.wait_for_timeout(1500)
        headings = page.locator("h1, h2, h3").evaluate_all(
            "els => els.map(e => e.innerText.replaceAll('\u2060', ''))")
        assert IMAGE_NAME in headings, headings  # word joiners keep `http://` from linking
        assert outside == []
