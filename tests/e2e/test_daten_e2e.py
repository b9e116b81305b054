"""Daten page in real Chromium: staff upload the four demo files with one row changed, see the
preview, apply it, and every session sees the new build."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest
from playwright.sync_api import Browser, Page, expect

from dashboard import auth
from tests.conftest import DEMO_DIR
from tests.e2e.conftest import screenshot, start_app

PASSWORD = "e2e-passwort-123"


def _build_id(db: Path) -> str:
    con = duckdb.connect(str(db), read_only=True)
    try:
        return con.execute("select build_id from meta_build").fetchone()[0]
    finally:
        con.close()


@pytest.fixture
def staff_app(tmp_path: Path, demo_db: Path, monkeypatch: pytest.MonkeyPatch
              ) -> Iterator[tuple[str, Path]]:
    """A server of its own (the test changes its database) with a staff account."""
    db = tmp_path / "live" / "monitor.duckdb"
    db.parent.mkdir()
    shutil.copyfile(demo_db, db)
    users = tmp_path / "users.toml"
    auth.add_account("e2e-team", PASSWORD, "staff", path=users)
    monkeypatch.setenv("WK_USERS", str(users))
    monkeypatch.setenv("WK_AUDIT", str(tmp_path / "audit.jsonl"))
    proc, url = start_app(db)
    yield url, db
    proc.terminate()
    proc.wait(timeout=10)


def _login(page: Page, url: str) -> None:
    page.goto(f"{url}/anmelden")
    page.get_by_label("Benutzername").fill("e2e-team")
    page.get_by_label("Passwort").fill(PASSWORD)
    page.get_by_role("button", name="Anmelden").click()
    expect(page.get_by_text("e2e-team")).to_be_visible(timeout=30_000)


def test_upload_preview_apply_and_all_sessions_see_the_new_build(
        page: Page, browser: Browser, staff_app, tmp_path: Path):
    url, db = staff_app
    old = _build_id(db)
    files = []
    for source in sorted(DEMO_DIR.glob("*.csv")):
        target = tmp_path / "upload" / source.name
        target.parent.mkdir(exist_ok=True)
        text = source.read_text(encoding="utf-8-sig")
        if source.name == "kommunen.csv":  # one commune changes its status
            header, first, rest = text.split("\n", 2)
            assert ";aktiv;" in first or ";abgeschlossen;" in first
            changed = (first.replace(";aktiv;", ";ausgeschieden;") if ";aktiv;" in first
                       else first.replace(";abgeschlossen;", ";ausgeschieden;"))
            text = "\n".join([header, changed, rest])
        target.write_text(text, encoding="utf-8")
        files.append(str(target))

    other = browser.new_page()  # a second, anonymous session reading the dashboard
    other.goto(url)
    expect(other.get_by_text(f"Build {old}")).to_be_visible(timeout=30_000)

    _login(page, url)
    page.get_by_role("link", name="Daten").click()  # a new page load would be a new session
    expect(page.get_by_role("heading", name="Daten", exact=True)).to_be_visible(timeout=30_000)
    expect(page.get_by_text(f"Aktuelle Version: {old}")).to_be_visible(timeout=30_000)
    page.locator('[data-testid="stFileUploaderDropzoneInput"]').set_input_files(files)

    changed = page.locator('[data-testid="stMetric"]').filter(has_text="Geänderte Kommunen")
    expect(changed.locator('[data-testid="stMetricValue"]')).to_have_text("1", timeout=60_000)
    for name in ("kommunen.csv", "meilensteine.csv", "modulnutzung.csv", "selbstcheck.csv"):
        expect(page.locator('[data-testid="stMetric"]').filter(has_text=name)).to_be_visible()
    expect(page.get_by_text("Keine Zeile wird abgelehnt.")).to_be_visible()
    page.get_by_text("Geänderte Kommunen: 1").click()
    # the grid draws on a canvas; its cells exist for screen readers
    expect(page.locator('[role="gridcell"]').filter(has_text="→ ausgeschieden").first
           ).to_be_attached()
    assert _build_id(db) == old  # the preview changes nothing
    page.set_viewport_size({"width": 1400, "height": 2000})  # Streamlit scrolls inside <main>
    screenshot(page, "daten_vorschau")

    page.get_by_role("button", name="Übernehmen").click()
    expect(page.get_by_text("ist aktiv. Alle Seiten zeigen ab sofort diese Daten.")).to_be_visible(
        timeout=60_000)
    new = _build_id(db)
    assert new != old
    expect(page.get_by_text(f"Die neue Version {new} ist aktiv.")).to_be_visible()
    expect(page.get_by_text(f"Aktuelle Version: {new}")).to_be_visible()
    screenshot(page, "daten")

    other.reload()  # the other session gets the new build without a server restart
    expect(other.get_by_text(f"Build {new}")).to_be_visible(timeout=30_000)
    other.close()
