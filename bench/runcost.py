"""CPU cost of one page script run, as the server runs it: `python bench/runcost.py [--db FILE]`.

Starts the deployed server (through bench/profserve.py), signs in a staff member and a commune
(bench/load.py), waits for the server's cache warm-up, then runs each page of the load mix
(bench/load.MIX) `--runs` times in one open session of its role, one run at a time: the first
run of each page is the warm-up, the others are timed on the client (ForwardMsgs until
`script_finished`). Prints p50 / min per page and the total, with the load average. With
`--profile N`, a second server runs every page N more times under cProfile and the N top
functions by own time and by cumulative time are printed per page, warm-up run included
(profiled times are inflated; compare the timed column, not these).

    .venv/bin/python bench/runcost.py --runs 6                                   # demo
    .venv/bin/python bench/runcost.py --db bench/out/national/monitor.duckdb --profile 25
"""

from __future__ import annotations

import argparse
import asyncio
import io
import os
import pstats
import signal
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench import load, stclient  # noqa: E402


def _load_avg() -> str:
    return " ".join(f"{x:.1f}" for x in os.getloadavg())


async def _runs(url: str, cookies: dict | None, page: str, n: int, timeout: float
                ) -> list[float]:
    session = await stclient.Session(url, cookies).open(timeout)
    try:
        seconds = []
        for _ in range(n):
            run = await session.rerun(page, timeout=timeout)
            if run.errors:
                raise RuntimeError(f"{page or 'start'}: {run.errors[:3]}")
            seconds.append(run.seconds)
        return seconds
    finally:
        await session.close()


ONLY: set[str] = set()  # --only: role/page names to run (empty: all)


async def _pages(url: str, cookies: dict[str, dict], runs: int, timeout: float,
                 after=None) -> dict[str, list[float]]:
    """Run every page of the mix `runs` times (after one warm-up run each). An idle session
    stays open throughout: with none open, Streamlit drops its compiled page scripts."""
    anchor = await stclient.Session(url).open(timeout)
    try:
        result = {}
        for role, pages in load.MIX:
            for page in pages:
                name = f"{role}/{page or 'start'}"
                if ONLY and name not in ONLY:
                    continue
                seconds = await _runs(url, cookies.get(role), page, runs + 1, timeout)
                result[name] = seconds[1:]
                if after is not None:
                    after(name, runs)
        return result
    finally:
        await anchor.close()


def timed(db: Path, runs: int, timeout: float) -> dict[str, list[float]]:
    with tempfile.TemporaryDirectory(prefix="wk-runcost-") as tmp:
        server = load.Server(db, Path(tmp))
        try:
            cookies = load.sign_in_all(server, timeout)
            server.wait_warm(timeout)
            return asyncio.run(_pages(server.url, cookies, runs, timeout))
        finally:
            server.stop()


def profiled(db: Path, runs: int, top: int, timeout: float) -> None:
    """Every page's runs (not its warm-up run) under cProfile; the TOP functions per page."""
    with tempfile.TemporaryDirectory(prefix="wk-runcost-") as tmp:
        out = Path(tmp) / "profile.pstats"
        server = load.Server(db, Path(tmp), module="bench.profserve",
                             env={"WK_PROFILE": str(out)})

        def dump() -> None:
            if out.exists():
                out.unlink()
            os.kill(server.proc.pid, signal.SIGUSR1)
            deadline = time.monotonic() + 30
            while not out.exists() and time.monotonic() < deadline:
                time.sleep(0.2)
            time.sleep(1)

        def report(name: str, n: int) -> None:
            dump()
            text = io.StringIO()
            stats = pstats.Stats(str(out), stream=text)
            # the warm-up run is in it too: subtract nothing, but say so
            stats.sort_stats("tottime").print_stats(top)
            stats.sort_stats("cumulative").print_stats(top)
            print(f"==== {name}: {n + 1} runs (1 warm-up) under cProfile")
            print("\n".join(line for line in text.getvalue().splitlines()
                            if line.strip() and "Ordered by" not in line), flush=True)

        try:
            cookies = load.sign_in_all(server, timeout)
            server.wait_warm(timeout)
            dump()  # drop the sign-in runs
            asyncio.run(_pages(server.url, cookies, runs, timeout, after=report))
        finally:
            server.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--db", type=Path, default=ROOT / "data" / "monitor.duckdb")
    parser.add_argument("--runs", type=int, default=5, help="timed runs per page")
    parser.add_argument("--profile", type=int, default=0, metavar="TOP",
                        help="also profile (--runs runs per page) and print the TOP functions")
    parser.add_argument("--only", default="", help="e.g. public/start,public/karte")
    parser.add_argument("--timeout", type=float, default=240)
    args = parser.parse_args()
    ONLY.update(x for x in args.only.split(",") if x)
    print(f"db {args.db}; load average before {_load_avg()}", flush=True)
    result = timed(args.db, args.runs, args.timeout)
    print(f"| page | script run p50 s | min s |  ({args.runs} runs each after one warm-up; "
          f"load average after {_load_avg()})")
    print("|---|---:|---:|")
    for page, seconds in result.items():
        print(f"| {page} | {statistics.median(seconds):.3f} | {min(seconds):.3f} |")
    total = sum(statistics.median(s) for s in result.values())
    print(f"| sum of the {len(result)} pages (p50) | {total:.3f} | "
          f"{sum(min(s) for s in result.values()):.3f} |", flush=True)
    if args.profile:
        profiled(args.db, args.runs, args.profile, args.timeout)


if __name__ == "__main__":
    main()
