"""Bisect what delays the first metric in the browser: hello-world plus one ingredient at a time.

    uv run python bench/first_figure.py [--runs 5]

Serves `bench/first_figure_app.py` once and loads each variant cold (fresh browser context),
round-robin, so every variant sees the same machine load; prints the median time until the first
metric is visible, its ratio to plain hello-world, and the load average.
Variants: hello; pills (sidebar filter pills); chart (one Plotly chart after the metric); tabs
(that chart inside st.tabs); table (st.dataframe + download button); full (pills, six metrics,
two chart/table tab pairs: Überblick's shape); lazy (the same with the table tabs on demand);
lazy_late (lazy, the sidebar pills sent after the page content); lazy_nopills (lazy, no pills);
eager_ui (the project's `ui.table_with_download` in plain tabs, pills last: Überblick's shape
before the table tabs on demand); ui (the project's `ui.chart_and_table`, pills last); date (a
date input before the metric, as Überblick's Stichtag); chart_pause, ui_pause (chart, ui with
a pause of `?pause=` seconds, default 0.15, between the figures and the charts: what
`ui.key_figures_sent` does with the browser's report instead of a fixed pause).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
from pathlib import Path

from playwright.sync_api import sync_playwright

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from bench.pages import ARGS, METRIC, measure  # noqa: E402
from tests.e2e.conftest import CHROMIUM, start_app  # noqa: E402

VARIANTS = ("hello", "pills", "chart", "tabs", "table", "full", "lazy", "lazy_late",
            "lazy_nopills", "eager_ui", "ui", "date",
            "chart_pause", "ui_pause")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--variants", default=",".join(VARIANTS))
    args = parser.parse_args()
    variants = ["hello", *(v for v in args.variants.split(",") if v in VARIANTS and v != "hello")]
    samples: dict[str, list[tuple[float, int, float]]] = {v: [] for v in variants}
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        proc, url = start_app(ROOT / "data" / "monitor.duckdb", "bench/first_figure_app.py")
        try:
            for v in variants:  # the first run of each variant warms the server
                measure(browser, f"{url}/?v={v}", METRIC)
            for _ in range(args.runs):
                for v in variants:
                    s, b = measure(browser, f"{url}/?v={v}", METRIC)
                    samples[v].append((s, b, os.getloadavg()[0]))
        finally:
            proc.terminate()
            browser.close()
    hello = statistics.median(s for s, _, _ in samples["hello"])
    print(f"\nMedian of {args.runs} cold loads, round-robin (time to the first metric)\n")
    print("| variant | first metric | ratio to hello | bytes received | load avg |")
    print("|---|---:|---:|---:|---|")
    for v, rows in samples.items():
        s = statistics.median(r[0] for r in rows)
        b = statistics.median(r[1] for r in rows)
        lo, hi = min(r[2] for r in rows), max(r[2] for r in rows)
        print(f"| {v} | {s:.2f} s | {s / hello:.2f}× | {b / 1e6:.1f} MB | {lo:.1f}–{hi:.1f} |")


if __name__ == "__main__":
    main()
