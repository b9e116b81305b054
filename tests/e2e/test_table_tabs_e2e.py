"""Table tabs on demand in real Chromium: the page arrives without its tables; a keyboard user
opens a chart's "Tabelle" tab, gets the table and its CSV, and the page still passes axe."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.conftest import screenshot, serious_violations

GRID = '[data-testid="stDataFrame"]'


@pytest.mark.parametrize(("stem", "first_row"), [("", "aufgenommen"), ("module", "1 Selbstcheck")])
def test_keyboard_opens_the_table_tab_with_its_csv(page: Page, app_url: str, tmp_path,
                                                   e2e_accounts: dict, stem: str,
                                                   first_row: str):
    name = stem or "ueberblick"
    page.goto(f"{app_url}/{stem}")
    expect(page.locator(".js-plotly-plot").first).to_be_visible(timeout=90_000)  # cold server
    page.wait_for_timeout(1000)  # let a late table arrive, if one were sent
    expect(page.locator(GRID)).to_have_count(0)  # no table until a reader asks for one
    screenshot(page, f"{name}_tabelle_zu")

    tab = page.get_by_role("tab", name="Tabelle").first
    tab.focus()
    page.keyboard.press("Enter")
    expect(tab).to_have_attribute("aria-selected", "true")
    grid = page.locator(GRID)
    expect(grid).to_have_count(1)  # this chart's table, the others stay closed
    # the grid draws on a canvas; its cells exist for screen readers
    expect(grid.locator('[role="gridcell"]').filter(has_text=first_row).first).to_be_attached()
    page.wait_for_timeout(500)
    screenshot(page, f"{name}_tabelle_offen")
    assert serious_violations(page) == []

    with page.expect_download(timeout=30_000) as info:
        page.get_by_role("button", name="CSV herunterladen").first.click()
    path = tmp_path / info.value.suggested_filename
    info.value.save_as(path)
    assert first_row in path.read_bytes().decode("utf-8-sig")
    # the file made on click is in the audit log (made outside any script run)
    logged = [json.loads(line) for line in Path(e2e_accounts["WK_AUDIT"]).read_text(
        encoding="utf-8").splitlines()]
    assert {"benutzer": "öffentlich", "aktion": "export",
            "details": {"datei": path.name}} in [
        {k: e[k] for k in ("benutzer", "aktion", "details")} for e in logged]

    page.get_by_role("tab", name="Diagramm").first.click()
    expect(page.locator(GRID)).to_have_count(0)
