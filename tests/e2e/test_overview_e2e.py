"""The main journey in real Chromium: open the dashboard and read the key figures."""

from __future__ import annotations

import duckdb
from playwright.sync_api import Page, expect

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
    screenshot(page, "ueberblick")
    assert outside == []
