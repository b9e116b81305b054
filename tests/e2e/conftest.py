"""End-to-end fixtures: a real Streamlit server on a free port and Debian's Chromium."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest
from playwright.sync_api import expect

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
# Streamlit reruns after every click; on a busy 2-core CI machine 5 s (Playwright's default) is
# too short for a page with charts, so every expectation waits up to 30 s.
expect.set_options(timeout=30_000)

SHOTS = ROOT / "test-screenshots"  # pytest-playwright wipes test-results/ at start
SERVER_LOG_DIR = ROOT / "test-screenshots" / "server-logs"
SERVER_LOG_DIR.mkdir(parents=True, exist_ok=True)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "tests/e2e/" in str(item.fspath):
            item.add_marker(pytest.mark.e2e)


@pytest.fixture(scope="session")
def browser_type_launch_args() -> dict:
    """pytest-playwright: use Debian's Chromium; Playwright's own download does not work here."""
    if not Path(CHROMIUM).exists():
        pytest.fail(f"Chromium fehlt unter {CHROMIUM}: bitte `make browser` ausführen.")
    return {
        "executable_path": CHROMIUM,
        "args": ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"],
    }


@pytest.fixture(scope="session")
def browser_context_args() -> dict:
    return {"viewport": {"width": 1400, "height": 1000}, "locale": "de-DE"}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_app(db: Path, script: str = "dashboard/server.py", warm: bool = False,
              base_path: str = "", **env_vars: str
              ) -> tuple[subprocess.Popen, str]:
    """Start `streamlit run` on a free port against `db`; return the process and base URL.

    With `warm`, start it as `make run` does (`dashboard.serve`: caches warmed in the
    background); with `base_path` (e.g. `monitor`) served below it (`server.baseUrlPath`, as
    behind a proxy), and the URL returned ends with it."""
    port = _free_port()
    env = {**os.environ, "WK_DB": str(db), **env_vars}
    # The server log goes to a file: an unread pipe fills up and stalls the server, and the log
    # holds the traceback behind a German error box.
    log = open(SERVER_LOG_DIR / f"streamlit-{port}.log", "ab")  # noqa: SIM115
    proc = subprocess.Popen(
        [sys.executable, "-m", *(("dashboard.serve",) if warm else ("streamlit", "run")), script,
         "--server.port", str(port),
         "--server.address", "127.0.0.1", "--server.headless", "true",
         "--browser.gatherUsageStats", "false",
         *(("--server.baseUrlPath", base_path) if base_path else ())],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}" + (f"/{base_path.strip('/')}" if base_path else "")
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=1) as r:
                if r.status == 200:
                    return proc, url
        except OSError:
            time.sleep(0.2)
    proc.kill()
    log.close()
    text = (SERVER_LOG_DIR / f"streamlit-{port}.log").read_text(errors="replace")
    raise RuntimeError(f"Streamlit did not start: {text[-2000:]}")


PASSWORD = "e2e-passwort-123"


@pytest.fixture(scope="session")
def e2e_accounts(tmp_path_factory: pytest.TempPathFactory, demo_db: Path) -> dict[str, str]:
    """Accounts for the browser tests: `team` (staff) and `kommune` (a consenting commune)."""

    from dashboard.auth import add_account

    base = tmp_path_factory.mktemp("accounts")
    users = base / "users.toml"
    kommune_id = duckdb.connect(str(demo_db), read_only=True).execute(
        "select kommune_id from kommune where vernetzung_zustimmung order by 1 limit 1"
    ).fetchone()[0]
    add_account("team", PASSWORD, "staff", path=users)
    add_account("kommune", PASSWORD, "kommune", kommune_id, path=users)
    return {"WK_USERS": str(users), "WK_AUDIT": str(base / "audit.jsonl"),
            "kommune_id": kommune_id}


@pytest.fixture(scope="session")
def app_url(demo_db: Path, e2e_accounts: dict[str, str]) -> Iterator[str]:
    """The dashboard served on the demo database (with the e2e accounts)."""
    proc, url = start_app(demo_db, WK_USERS=e2e_accounts["WK_USERS"],
                          WK_AUDIT=e2e_accounts["WK_AUDIT"])
    yield url
    proc.terminate()
    proc.wait(timeout=10)


def login(page, app_url: str, user: str = "team") -> None:
    """Sign in through the form; the browser then reloads with the session cookie."""
    page.goto(f"{app_url}/anmelden")
    page.get_by_label("Benutzername").fill(user)
    page.get_by_label("Passwort").fill(PASSWORD)
    page.get_by_role("button", name="Anmelden").click()
    expect(page.get_by_role("button", name="Abmelden")).to_be_visible(timeout=30_000)


def open_page(page, title: str) -> None:
    """Go to a page through the sidebar navigation (keeps the signed-in session)."""
    page.get_by_role("link", name=title, exact=True).first.click()


# Streamlit's marks of a script run in progress: the running indicator (its faded "Running..."
# text) and elements faded as "stale" until the run redraws them
BUSY = '[data-testid="stStatusWidgetRunningIcon"], [data-stale="true"]'
AXE_OPTIONS = {
    "runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]},
    "resultTypes": ["violations"],
}


def settled(page, quiet_ms: int = 800, timeout: int = 30_000) -> None:
    """Wait until no script run is in progress: no running indicator and no faded element for
    `quiet_ms` in a row. (A click's rerun can start a moment after the click, and on a busy
    machine a run outlasts the next step of a test.)"""
    page.evaluate("() => { window.__wkQuietSince = performance.now(); }")
    page.wait_for_function(
        """([busy, quiet]) => {
            const now = performance.now();
            if (document.querySelector(busy)) { window.__wkQuietSince = now; return false; }
            return now - window.__wkQuietSince >= quiet;
        }""", arg=[BUSY, quiet_ms], polling=100, timeout=timeout)


def serious_violations(page) -> list[str]:
    """axe's serious and critical WCAG 2.1 AA findings once the page is settled (axe would
    otherwise measure the faded text of a run in progress, 2.2:1, instead of the page's)."""
    from axe_playwright_python.sync_playwright import Axe

    settled(page)
    results = Axe().run(page, options=AXE_OPTIONS)
    return [
        f"{v['id']} ({v['impact']}): {v['help']} – {[n['target'] for n in v['nodes'][:3]]}"
        for v in results.response["violations"]
        if v["impact"] in ("serious", "critical")
    ]


def screenshot(page, name: str) -> Path:
    """Save a full-page screenshot into test-screenshots/ (kept as test output)."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    path = SHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def public_kommunen(db, bundesland: str | None = None, staff: bool = False) -> str:
    """The "Kommunen" figure at the Datenstand as the audited public report has it (admitted
    communes; "x" where the protection hides it: the whole programme, filters apply to staff
    only), or with `staff` as staff see it for the selection."""
    from dashboard import data
    from dashboard.report.definitions import PROGRAMMSTART

    before = os.environ.get("WK_DB")
    os.environ["WK_DB"] = str(db)
    try:
        day = data.build_info().datenstand
        filters = data.Filters(bundesland=(bundesland,)) if bundesland else data.NO_FILTERS
        report = data.load_report(data.STAFF if staff else data.PUBLIC, PROGRAMMSTART, day, day,
                                  filters)
    finally:
        if before is None:
            os.environ.pop("WK_DB")
        else:
            os.environ["WK_DB"] = before
    status = report["kommunen_status"]
    i = status.frame["status"].to_list().index("Insgesamt")
    return status.marker("kommunen", i) or str(status.frame["kommunen"][i])
