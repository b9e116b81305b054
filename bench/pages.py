"""Page load in Chromium: our pages against a hello-world Streamlit page, side by side.

    uv run python bench/pages.py [--runs 5] [--skip-national]

For each page the time runs from navigation until the page's key content is visible:
Überblick – the first key figure; Karte – MapLibre has drawn the commune points; Fortschritt –
the timeline chart. Überblick and Karte are cold loads of the public view. Fortschritt is for
programme staff only: the run signs in first (not timed) and then times the click on
"Fortschritt" until the timeline is drawn (a reload would end the session). The baseline is
`bench/hello.py` (title + one metric) served by the same Streamlit, measured as a cold load. Every
run uses a fresh browser context (cold cache). Page weight is what the browser received: HTTP
bodies plus WebSocket frames (Chrome DevTools Protocol).
Goal from issue #4: ≤ 1.5× hello-world at demo scale, ≤ 2× at national scale.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from playwright.sync_api import sync_playwright

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from dashboard.auth import add_account  # noqa: E402
from tests.e2e.conftest import CHROMIUM, start_app  # noqa: E402

NATIONAL_INPUT = ROOT / "data" / "bench" / "national"
NATIONAL_DB = ROOT / "data" / "bench" / "national.duckdb"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run"]

MAP_DRAWN = """() => { const g = [...document.querySelectorAll('.js-plotly-plot')]
  .find(g => g._fullLayout && g._fullLayout.map);
  if (!g) return false; const m = g._fullLayout.map._subplot.map;
  return m.loaded() && m.queryRenderedFeatures().some(f => f.layer.type === 'circle'); }"""

# page → (path or nav link to click after login, how to know the key content is visible)
TARGETS = {
    "Überblick": ("/", ("selector", '[data-testid="stMetricValue"]')),
    "Karte": ("/karte", ("function", MAP_DRAWN)),
    "Fortschritt": ("/login:Fortschritt",
                    ("function", "() => !!document.querySelector('.js-plotly-plot .scatterlayer "
                                 ".point')")),
}
BENCH_USER, BENCH_PASSWORD = "bench", "bench-passwort-123"
HELLO = ("/", ("selector", '[data-testid="stMetricValue"]'))
HELLO_PLOTLY = ("/", ("function", "() => !!document.querySelector('.js-plotly-plot .point')"))


def ensure_national_db() -> Path:
    if not NATIONAL_DB.exists():
        if not (NATIONAL_INPUT / "modulnutzung.csv").exists():
            subprocess.run([sys.executable, "-m", "tools.demo", "--kommunen", "11000", "--events",
                            "1000000", "--out", str(NATIONAL_INPUT)], check=True, cwd=ROOT)
        subprocess.run([sys.executable, "-m", "etl", "build", "--input", str(NATIONAL_INPUT),
                        "--output", str(NATIONAL_DB)], check=True, cwd=ROOT)
    return NATIONAL_DB


def measure(browser, url: str, ready: tuple[str, str]) -> tuple[float, int]:
    """Seconds until `ready` holds, and bytes received, in a fresh context."""
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    cdp = context.new_cdp_session(page)
    cdp.send("Network.enable")
    received = {"bytes": 0}
    cdp.on("Network.loadingFinished",
           lambda e: received.__setitem__("bytes", received["bytes"] + e["encodedDataLength"]))
    cdp.on("Network.webSocketFrameReceived",
           lambda e: received.__setitem__("bytes", received["bytes"]
                                          + len(e["response"]["payloadData"])))
    if "/login:" in url:
        base, link = url.split("/login:")
        page.goto(base + "/anmelden")
        page.get_by_label("Benutzername").fill(BENCH_USER)
        page.get_by_label("Passwort").fill(BENCH_PASSWORD)
        page.get_by_role("button", name="Anmelden").click()
        page.get_by_role("link", name=link).wait_for(timeout=60_000)
        received["bytes"] = 0
        started = time.perf_counter()
        page.get_by_role("link", name=link).click()
    else:
        started = time.perf_counter()
        page.goto(url)
    kind, what = ready
    if kind == "selector":
        page.wait_for_selector(what, state="visible", timeout=120_000)
    else:
        # poll gently: asking MapLibre for its features too often starves the render loop
        page.wait_for_function(what, timeout=120_000, polling=250)
    seconds = time.perf_counter() - started
    page.wait_for_timeout(300)  # let the last frames arrive for the weight
    context.close()
    return seconds, received["bytes"]


def run_series(browser, base: str, path: str, ready, runs: int) -> tuple[float, float]:
    measure(browser, base + path, ready)  # warm the server (first script run, caches)
    samples = [measure(browser, base + path, ready) for _ in range(runs)]
    return statistics.median(s[0] for s in samples), statistics.median(s[1] for s in samples)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--skip-national", action="store_true")
    args = parser.parse_args()
    scales = [("Demo", ROOT / "data" / "monitor.duckdb")]
    if not scales[0][1].exists():
        subprocess.run([sys.executable, "-m", "etl", "build", "--input", "data/demo",
                        "--output", str(scales[0][1])], check=True, cwd=ROOT)
    if not args.skip_national:
        scales.append(("National", ensure_national_db()))
    rows = []
    users = Path(tempfile.mkdtemp()) / "users.toml"
    add_account(BENCH_USER, BENCH_PASSWORD, "staff", path=users)
    os.environ["WK_USERS"] = str(users)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        hello_proc, hello_url = start_app(scales[0][1], "bench/hello.py")
        plotly_proc, plotly_url = start_app(scales[0][1], "bench/hello_plotly.py")
        try:
            p_s, p_b = run_series(browser, plotly_url, *HELLO_PLOTLY, args.runs)
            h_s, h_b = run_series(browser, hello_url, *HELLO, args.runs)
            rows.append(("–", "hello-world + 1 Plotly-Diagramm", p_s, h_s, p_b, h_b))
            for scale, db in scales:
                proc, url = start_app(db)
                try:
                    for name, (path, ready) in TARGETS.items():
                        # measure the baseline right before each page, so both see the same load
                        h_s, h_b = run_series(browser, hello_url, *HELLO, args.runs)
                        s, b = run_series(browser, url, path, ready, args.runs)
                        rows.append((scale, name, s, h_s, b, h_b))
                        print(f"{scale} {name}: {s:.2f} s vs hello {h_s:.2f} s", flush=True)
                finally:
                    proc.terminate()
        finally:
            hello_proc.terminate()
            plotly_proc.terminate()
            browser.close()
    print(f"\nMedian of {args.runs} cold loads in Chromium (time to key content; bytes received)\n")
    print("| scale | page | our page | hello-world | ratio | page weight | hello weight |")
    print("|---|---|---:|---:|---:|---:|---:|")
    for scale, name, s, h_s, b, h_b in rows:
        print(f"| {scale} | {name} | {s:.2f} s | {h_s:.2f} s | {s / h_s:.2f}× | "
              f"{b / 1e6:.1f} MB | {h_b / 1e6:.1f} MB |")


if __name__ == "__main__":
    main()
