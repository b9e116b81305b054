"""Page loads in Chromium: every page against a hello-world Streamlit page, interleaved.

    uv run python bench/pages.py [--runs 5] [--skip-national | --scales National]
                                 [--pages Überblick,Karte] [--no-first | --only-first]
                                 [--first-runs 3] [--no-warm]

Each figure is the time from navigation until the page's key content is visible (the first key
figure; on the Karte its points, drawn by the server as a preview image under the interactive
map), in a fresh browser context (cold cache, new Streamlit session). Module and Fortschritt
open with the report's figures as text; the rows "…: chart" time their first drawn chart as
well, the rows "Karte: interactive map" the map drawn by Plotly over the preview:

- public pages (Überblick, Karte, Module) are cold loads of the public view;
- staff pages are cold loads too, by a signed-in staff member: a bench account signs in once
  through the form, and every fresh context carries its session cookie, as a reload or a
  bookmark does (not in-app clicks, which would compare different things with cold loads).

Servers start as `make run` does (`python -m dashboard.serve dashboard/server.py`: the served
app with its routes, caches of the default views warmed in the background after the start and
after each build).
Warm visits: the server has served the page before; page and baseline alternate run by run, so
both see the same machine load. First visit: a freshly started server (and a freshly started
baseline server) serves its first request, after its warm-up reported ready (the time from
start to ready is listed); this is what the first visitor after a restart waits for. Single
first visits spread by up to ±1×, so there are `--first-runs` fresh servers per page (median and
every ratio printed).
The load average (1 min) is recorded with every figure: the machine may be shared.
The baseline is `bench/hello.py` (title + one metric). The row "Plotly floor" times
`bench/hello_plotly.py` (the baseline plus one small Plotly chart) until its chart is drawn: no
page whose key content is a chart can be faster than that; "Map floor" likewise with one small
map drawn as the Karte draws its interactive map (the floor of the rows "Karte: interactive map";
the Karte's points come first, as an image).
Goal (issue #16): ≤ 1.5× hello-world at demo scale, ≤ 2× at national scale, first visits included.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import NamedTuple

from playwright.sync_api import sync_playwright

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from bench import _measure  # noqa: E402
from tests.e2e.conftest import CHROMIUM, SERVER_LOG_DIR, start_app  # noqa: E402

NATIONAL_INPUT = ROOT / "data" / "bench" / "national"
NATIONAL_DB = ROOT / "data" / "bench" / "national.duckdb"
DEMO_DB = ROOT / "data" / "monitor.duckdb"  # also serves the baselines
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run"]

METRIC = ("selector", '[data-testid="stMetricValue"]')
CHART = ("function", "() => !!document.querySelector('.js-plotly-plot .cartesianlayer .trace')")
HEADING = ("function", "() => document.querySelectorAll('[data-testid=\"stMain\"] h3').length > 0")
# a circle drawn at the map's first point: queried in a 6-px box around it, because a query of the
# whole map builds every rendered feature (58 ms for 10,466 points, on the main thread the page
# needs, every 100 ms once the map has loaded) and so slowed what it measured
MAP_DRAWN = ("function", """() => { const g = [...document.querySelectorAll('.js-plotly-plot')]
  .find(g => g._fullLayout && g._fullLayout.map);
  if (!g) return false; const m = g._fullLayout.map._subplot.map;
  if (!m.loaded()) return false;
  const t = g._fullData.find(t => t.type === 'scattermap' && t.lon && t.lon.length);
  if (!t) return false; const p = m.project([t.lon[0], t.lat[0]]);
  return m.queryRenderedFeatures([[p.x - 3, p.y - 3], [p.x + 3, p.y + 3]])
    .some(f => f.layer.type === 'circle'); }""")

# the Karte's preview of its points (an image the server draws, under the interactive map),
# decoded and laid out (the paint mark finds the image and waits for its decoding)
PREVIEW_IMAGE = ("document.querySelector('[data-testid=\"stMain\"] .wk-map-preview img')")
MAP_PREVIEW = ("function", f"""() => {{ const i = {PREVIEW_IMAGE};
  return !!i && i.complete && i.naturalWidth > 0 && i.getClientRects().length > 0; }}""")

# name → (role, url path, key content)
PAGES = {
    "Überblick": ("public", "/", METRIC),
    "Karte": ("public", "/karte", MAP_PREVIEW),
    "Module": ("public", "/module", METRIC),
    "Überblick (Team)": ("staff", "/", METRIC),
    "Karte (Team)": ("staff", "/karte", MAP_PREVIEW),
    "Fortschritt (Team)": ("staff", "/fortschritt", METRIC),
    "Module (Team)": ("staff", "/module", METRIC),
    "Kommune (Team)": ("staff", "/kommune", METRIC),
    "Vernetzung (Team)": ("staff", "/vernetzung", HEADING),
    "Bericht (Team)": ("staff", "/bericht", METRIC),
    "Daten (Team)": ("staff", "/daten", HEADING),
    # the chart pages open with the report's figures as text; their first chart, for comparison
    # with the Plotly floor
    "Module: chart": ("public", "/module", CHART),
    "Fortschritt: chart (Team)": ("staff", "/fortschritt", CHART),
    "Module: chart (Team)": ("staff", "/module", CHART),
    # the Karte opens with a preview of its points; the interactive map drawn over it
    "Karte: interactive map": ("public", "/karte", MAP_DRAWN),
    "Karte: interactive map (Team)": ("staff", "/karte", MAP_DRAWN),
    # not a page: hello-world plus one small Plotly chart, timed until the chart is drawn – the
    # floor of every page whose key content is a chart (Plotly's 4.7 MB script)
    "Plotly floor": ("floor", "/", CHART),
    # the same with one small map (two points, white background) instead: the interactive map's
    # floor
    "Map floor": ("floor", "/?map=1", MAP_DRAWN),
}
FLOOR = "bench/hello_plotly.py"
SERVED = "dashboard/server.py"
HELLO = ("bench/hello.py", "/", METRIC)
STAFF_USER, STAFF_PASSWORD = "bench-team", "bench-passwort-123"


def ensure_national_db() -> Path:
    if not NATIONAL_DB.exists():
        if not (NATIONAL_INPUT / "modulnutzung.csv").exists():
            subprocess.run([sys.executable, "-m", "tools.demo", "--kommunen", "11000", "--events",
                            "1000000", "--out", str(NATIONAL_INPUT)], check=True, cwd=ROOT)
        subprocess.run([sys.executable, "-m", "etl", "build", "--input", str(NATIONAL_INPUT),
                        "--output", str(NATIONAL_DB), "--max-mb", "2048"], check=True, cwd=ROOT)
    return NATIONAL_DB


def load() -> float:
    return os.getloadavg()[0]


def accounts() -> dict[str, str]:
    """A throw-away accounts file with the bench's staff account (environment for the server)."""
    from dashboard.auth import add_account

    folder = Path(tempfile.mkdtemp(prefix="wk-bench-"))
    add_account(STAFF_USER, STAFF_PASSWORD, "staff", path=folder / "users.toml")
    return {"WK_USERS": str(folder / "users.toml"), "WK_AUDIT": str(folder / "audit.jsonl")}


def staff_cookies(browser, url: str) -> list[dict]:
    """Sign the bench account in through the form; its session cookie (valid for every server
    started with the same accounts file)."""
    context = browser.new_context()
    page = context.new_page()
    page.goto(f"{url}/anmelden")
    page.get_by_label("Benutzername").fill(STAFF_USER)
    page.get_by_label("Passwort").fill(STAFF_PASSWORD)
    page.get_by_role("button", name="Anmelden").click()
    page.get_by_role("button", name="Abmelden").wait_for(timeout=60_000)
    cookies = context.cookies()
    context.close()
    return cookies


# In the page, from its start: the first frame after the key content is in the document and
# laid out. Playwright's own check (`seconds`) polls from outside and can be held up by the work
# the page does after that frame (the charts' scripts arriving next); this mark is not. It waits
# for the frame and then for the next task, so a frame is never counted before it was drawn.
PAINT_MARK = """(() => {
  window.__wkPainted = null;
  const ready = %s;
  new MutationObserver((_, observer) => {
    const found = ready();
    if (!found) return;
    observer.disconnect();
    Promise.resolve(found.decode ? found.decode().catch(() => {}) : null).then(() =>
      requestAnimationFrame(() => setTimeout(() => { window.__wkPainted = performance.now(); })));
  }).observe(document, {subtree: true, childList: true});
})();"""


def paint_mark(ready: tuple[str, str]) -> str | None:
    """The init script that sets `window.__wkPainted` for `ready`, or None where the key content
    is not in the document tree (the map's points are drawn on a canvas)."""
    kind, what = ready
    if kind == "selector":
        test = (f"() => {{ const el = document.querySelector({json.dumps(what)}); "
                "return !!el && el.getClientRects().length > 0; }")
    elif ready in (CHART, HEADING):
        test = what
    elif ready == MAP_PREVIEW:
        test = f"() => {PREVIEW_IMAGE}"
    else:
        return None
    return PAINT_MARK % test


class Load(NamedTuple):
    seconds: float  # until Playwright saw the key content (from before the navigation)
    received: int  # bytes
    painted: float | None  # the in-page paint mark, seconds from the navigation (not maps)


def measure_load(browser, url: str, ready: tuple[str, str], cookies: list[dict] | None = None
                 ) -> Load:
    """One cold load in a fresh context (with `cookies`: a signed-in visitor's)."""
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    if cookies:
        context.add_cookies(cookies)
    page = context.new_page()
    kind, what = ready
    if (mark := paint_mark(ready)) is not None:
        page.add_init_script(mark)
    cdp = context.new_cdp_session(page)
    cdp.send("Network.enable")
    received = {"bytes": 0}
    cdp.on("Network.loadingFinished",
           lambda e: received.__setitem__("bytes", received["bytes"] + e["encodedDataLength"]))
    cdp.on("Network.webSocketFrameReceived",
           lambda e: received.__setitem__("bytes", received["bytes"]
                                          + len(e["response"]["payloadData"])))
    started = time.perf_counter()
    page.goto(url)
    if kind == "selector":
        page.wait_for_selector(what, state="visible", timeout=120_000)
    else:
        # poll gently: asking MapLibre for its features too often starves the render loop
        page.wait_for_function(what, timeout=120_000, polling=100)
    seconds = time.perf_counter() - started
    painted = None
    if mark is not None:
        painted = page.wait_for_function("window.__wkPainted", timeout=30_000).json_value() / 1000
    page.wait_for_timeout(300)  # let the last frames arrive for the weight
    context.close()
    return Load(seconds, received["bytes"], painted)


def measure(browser, url: str, ready: tuple[str, str], cookies: list[dict] | None = None
            ) -> tuple[float, int]:
    """Seconds until `ready` holds, and bytes received, in a fresh context (with `cookies`: a
    signed-in visitor's)."""
    load_ = measure_load(browser, url, ready, cookies)
    return load_.seconds, load_.received


def painted_ratio(pairs: list[tuple[Load, Load, float]]) -> str | None:
    """Median of page and baseline by the in-page paint mark and their ratio, as text (None
    where the key content has no mark: the map)."""
    if any(page.painted is None for page, *_ in pairs):
        return None
    page = statistics.median(p.painted for p, *_ in pairs)
    hello = statistics.median(h.painted for _, h, _ in pairs)
    return f"{page:.2f} s vs {hello:.2f} s = {page / hello:.2f}×"


def warm_row(scale: str, name: str, pairs: list[tuple[Load, Load, float]]) -> tuple:
    """(scale, name, page s, hello s, page bytes, hello bytes, load, median ratio, lowest load,
    highest load, painted ratio text) from interleaved (page, hello, load) samples."""
    med = statistics.median
    return (scale, name, med(p.seconds for p, *_ in pairs), med(h.seconds for _, h, _ in pairs),
            med(p.received for p, *_ in pairs), med(h.received for _, h, _ in pairs),
            med(ld for *_, ld in pairs), med(p.seconds / h.seconds for p, h, _ in pairs),
            min(ld for *_, ld in pairs), max(ld for *_, ld in pairs), painted_ratio(pairs))


def wait_warm(url: str, started: float, timeout: float = 600) -> float:
    """Seconds from `started` until the server's warm-up reported its caches ready."""
    _measure.wait_warm(SERVER_LOG_DIR / f"streamlit-{url.rsplit(':', 1)[1]}.log", timeout)
    return time.perf_counter() - started


def first_visit(browser, db: Path, script: str, path: str, ready, warm: bool,
                cookies: list[dict] | None = None, env: dict[str, str] | None = None
                ) -> tuple[Load, float, float | None]:
    """The first request a freshly started server answers: its load, the load average, and
    (with `warm`) seconds from the start until the background warm-up was done; the visit comes
    after it, like a visitor arriving after the server has been up for that long."""
    started = time.perf_counter()
    proc, url = start_app(db, script, warm=warm, **(env or {}))
    try:
        warmed = wait_warm(url, started) if warm else None
        before = load()
        visit = measure_load(browser, url + path, ready, cookies)
        return visit, max(before, load()), warmed
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def warm_visits(args, browser, scale: str, db: Path, names: list[str], hello_url: str,
                env: dict[str, str], warm: list[tuple]) -> dict[str, list[dict] | None]:
    """Every page of `names` at `scale`, interleaved with the baseline, into `warm`; returns the
    cookies of each role (the staff's signed in on this server)."""
    started = time.perf_counter()
    proc, server_url = start_app(db, SERVED, warm=not args.no_warm, **env)
    floor_proc, floor_url = start_app(DEMO_DB, FLOOR)
    if not args.no_warm:  # visits during the warm-up would compete with it
        wait_warm(server_url, started)
    cookies = {"public": None, "staff": staff_cookies(browser, server_url), "floor": None}
    try:
        for name in names:
            role, path, ready = PAGES[name]
            url = (floor_url if role == "floor" else server_url) + path
            measure(browser, url, ready, cookies[role])  # fill the server's caches
            pairs = []
            for _ in range(args.runs):  # interleaved: baseline, page, baseline, …
                h = measure_load(browser, hello_url, HELLO[2])
                pairs.append((measure_load(browser, url, ready, cookies[role]), h, load()))
            row = warm_row(scale, name, pairs)
            warm.append(row)
            print(f"{scale} {name}: {row[2]:.2f} s vs hello {row[3]:.2f} s "
                  f"({row[7]:.2f}×, painted {row[10] or '–'}, "
                  f"load {row[8]:.1f}–{row[9]:.1f})", flush=True)
    finally:
        proc.terminate()
        floor_proc.terminate()
    return cookies


def first_row(scale: str, name: str, visits: list[tuple[Load, Load, float, float | None]]
              ) -> tuple:
    """(scale, name, page s, hello s, median ratio, every ratio as text, painted ratio text,
    load range, longest warm-up) of one page's first visits, each (page, hello, load,
    warm-up s)."""
    med = statistics.median
    loads = [ld for *_, ld, _ in visits]
    warmed = [w for *_, w in visits if w is not None]
    ratios = [s.seconds / h.seconds for s, h, *_ in visits]
    return (scale, name, med(s.seconds for s, *_ in visits), med(h.seconds for _, h, *_ in visits),
            med(ratios), ", ".join(f"{r:.2f}" for r in ratios),
            painted_ratio([(s, h, ld) for s, h, ld, _ in visits]),
            f"{min(loads):.1f}–{max(loads):.1f}", max(warmed) if warmed else None)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--skip-national", action="store_true")
    parser.add_argument("--scales", default="Demo,National", help="Demo, National or both")
    parser.add_argument("--pages", default=",".join(PAGES),
                        help="comma-separated page names (default: all)")
    parser.add_argument("--no-first", action="store_true", help="skip first visits")
    parser.add_argument("--only-first", action="store_true", help="first visits only")
    parser.add_argument("--first-runs", type=int, default=3,
                        help="first visits per page (each on a freshly started server)")
    parser.add_argument("--no-warm", action="store_true",
                        help="start servers with plain `streamlit run` (no warm-up), as before")
    args = parser.parse_args()
    names = [n.strip() for n in args.pages.split(",")]
    unknown = set(names) - set(PAGES)
    if unknown:
        parser.error(f"unknown pages {sorted(unknown)}; known: {', '.join(PAGES)}")
    demo = DEMO_DB
    if not demo.exists():
        subprocess.run([sys.executable, "-m", "etl", "build", "--input", "data/demo",
                        "--output", str(demo)], check=True, cwd=ROOT)
    wanted = {w.strip() for w in args.scales.split(",")} - ({"National"} if args.skip_national
                                                             else set())
    scales = [("Demo", demo)] if "Demo" in wanted else []
    if "National" in wanted:
        scales.append(("National", ensure_national_db()))
    warm, first = [], []
    env = accounts()
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        hello_proc, hello_url = start_app(demo, HELLO[0])
        try:
            measure(browser, hello_url, HELLO[2])  # the baseline's own first visit
            for scale, db in scales:
                if args.only_first:
                    proc, server_url = start_app(db, SERVED, **env)
                    try:
                        cookies = {"public": None, "floor": None,
                                   "staff": staff_cookies(browser, server_url)}
                    finally:
                        proc.terminate()
                else:
                    cookies = warm_visits(args, browser, scale, db, names, hello_url, env, warm)
                if args.no_first:
                    continue
                for name in names:  # a fresh page server and a fresh baseline server each
                    role, path, ready = PAGES[name]
                    if role == "floor":
                        continue
                    visits = []
                    for _ in range(args.first_runs):
                        h, h_load, _ = first_visit(browser, demo, HELLO[0], "/", HELLO[2],
                                                   False)
                        s, s_load, warmed = first_visit(browser, db, SERVED, path, ready,
                                                        not args.no_warm, cookies[role], env)
                        visits.append((s, h, max(h_load, s_load), warmed))
                        print(f"{scale} {name} first visit: {s.seconds:.2f} s vs hello "
                              f"{h.seconds:.2f} s ({s.seconds / h.seconds:.2f}×, load "
                              f"{max(h_load, s_load):.1f}, warm-up {warmed or 0:.1f} s)",
                              flush=True)
                    first.append(first_row(scale, name, visits))
        finally:
            hello_proc.terminate()
            browser.close()
    if warm:
        print(f"\nWarm visits: median of {args.runs} cold browser loads, interleaved with the "
              "baseline (time to key content; bytes received)\n")
        print("| scale | page | our page | hello-world | ratio of medians | median ratio | "
              "painted (in-page mark) | page weight | load avg |")
        print("|---|---|---:|---:|---:|---:|---:|---:|---|")
    for scale, name, s, h, b, _hb, _l, ratio, lo, hi, painted in warm:
        print(f"| {scale} | {name} | {s:.2f} s | {h:.2f} s | {s / h:.2f}× | {ratio:.2f}× | "
              f"{painted or '–'} | {b / 1e6:.1f} MB | {lo:.1f}–{hi:.1f} |")
    if first:
        print(f"\nFirst visit after a server start, median of {args.first_runs} (one fresh server "
              "per visit, baseline too; the visit follows the background warm-up)\n")
        print("| scale | page | our page | hello-world | median ratio | every ratio | "
              "painted (in-page mark) | warm-up after start | load avg |")
        print("|---|---|---:|---:|---:|---|---:|---:|---|")
        for scale, name, s, h, ratio, ratios, painted, ld, warmed in first:
            print(f"| {scale} | {name} | {s:.2f} s | {h:.2f} s | {ratio:.2f}× | {ratios} | "
                  f"{painted or '–'} | {'–' if warmed is None else f'{warmed:.1f} s'} | {ld} |")


if __name__ == "__main__":
    main()
