"""One page from two (or more) source trees against hello-world, round-robin, cold loads.

    python bench/pages_ab.py --runs 5 --path / --ready metric TREE_A TREE_B [...]

Made for before/after questions on a shared machine: every tree serves the same script
(`--script`, default the served app `dashboard/server.py`) on the demo database (or `--db`), and
each round loads hello-world, then the page from each tree in turn, in fresh browser contexts
(cold cache, new session), so all see the same machine load. A tree is a checkout of this
repository, e.g. `git worktree add --detach /tmp/before <commit>` with `.venv` linked to this
one's; its code is imported from it (`PYTHONPATH`). With `--staff`, every tree's server shares a
throw-away accounts file and each page load carries the session cookie of a real sign-in on that
server (as bench/pages.py); otherwise the public view.

Prints per tree the median seconds to the key content (`--ready`: metric, chart or map, as in
bench/pages.py), the ratio to hello-world, bytes received and the load average.
"""

from __future__ import annotations

import argparse
import os
import socket
import statistics
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from playwright.sync_api import sync_playwright

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from bench.pages import (  # noqa: E402
    ARGS,
    CHART,
    HELLO,
    MAP_DRAWN,
    METRIC,
    accounts,
    measure,
    measure_load,
    staff_cookies,
)
from tests.e2e.conftest import CHROMIUM, SERVER_LOG_DIR  # noqa: E402

READY = {"metric": METRIC, "chart": CHART, "map": MAP_DRAWN}


def serve(tree: Path, script: str, db: Path, env: dict[str, str] | None = None
          ) -> tuple[subprocess.Popen, str]:
    """`streamlit run script` from `tree` (its own code) on a free loopback port."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    log = open(SERVER_LOG_DIR / f"streamlit-{port}.log", "ab")  # noqa: SIM115
    proc = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", script, "--server.port", str(port),
         "--server.address", "127.0.0.1", "--server.headless", "true",
         "--browser.gatherUsageStats", "false"],
        cwd=tree, env={**os.environ, **(env or {}), "WK_DB": str(db), "PYTHONPATH": str(tree)},
        stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=1):
                return proc, url
        except OSError:
            time.sleep(0.2)
    proc.kill()
    raise RuntimeError(f"{tree}: Streamlit did not start (log {log.name})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("trees", nargs="+", type=Path)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--path", default="/")
    parser.add_argument("--ready", choices=READY, default="metric")
    parser.add_argument("--script", default="dashboard/server.py")
    parser.add_argument("--db", type=Path, default=ROOT / "data" / "monitor.duckdb")
    parser.add_argument("--staff", action="store_true", help="signed in as programme staff")
    args = parser.parse_args()
    env = accounts() if args.staff else None
    targets = [("hello-world", *serve(ROOT, HELLO[0], args.db), "/", METRIC)]
    targets += [(str(t), *serve(t.resolve(), args.script, args.db, env), args.path,
                 READY[args.ready]) for t in args.trees]
    cookies: dict[str, list[dict] | None] = {name: None for name, *_ in targets}
    samples: dict[str, list[tuple[float, int, float, float | None]]] = {
        name: [] for name, *_ in targets}
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
            for name, _proc, url, path, ready in targets:  # each server's first visit
                if args.staff and name != "hello-world":
                    cookies[name] = staff_cookies(browser, url)
                measure(browser, url + path, ready, cookies[name])
            for _ in range(args.runs):
                for name, _proc, url, path, ready in targets:
                    got = measure_load(browser, url + path, ready, cookies[name])
                    samples[name].append((got.seconds, got.received, os.getloadavg()[0],
                                          got.painted))
            browser.close()
    finally:
        for _name, proc, *_ in targets:
            proc.terminate()
    hello = statistics.median(r[0] for r in samples["hello-world"])
    hello_painted = statistics.median(r[3] for r in samples["hello-world"])
    who = "signed in as staff" if args.staff else "public"
    print(f"\n{args.path} ({args.ready}, {who}), median of {args.runs} cold loads, "
          "round-robin\n")
    print("| tree | seconds | ratio to hello-world | painted (in-page mark) | bytes | load avg | "
          "every run |")
    print("|---|---:|---:|---:|---:|---|---|")
    for name, rows in samples.items():
        s = statistics.median(r[0] for r in rows)
        painted = ("–" if None in (hello_painted, rows[0][3]) else
                   f"{statistics.median(r[3] for r in rows):.2f} s = "
                   f"{statistics.median(r[3] for r in rows) / hello_painted:.2f}×")
        print(f"| {name} | {s:.2f} s | {s / hello:.2f}× | {painted} | "
              f"{statistics.median(r[1] for r in rows) / 1e6:.1f} MB | "
              f"{min(r[2] for r in rows):.1f}–{max(r[2] for r in rows):.1f} | "
              f"{', '.join(f'{r[0]:.2f}' for r in rows)} |")

if __name__ == "__main__":
    main()
