"""Server CPU per page run with Python's own allocator vs glibc's: `python bench/allocator.py`.

`dashboard.serve` runs the server with `PYTHONMALLOC=malloc` so that freed memory goes back to
the system (dashboard/serve.py: `use_system_allocator`). This measures what that costs: the
server as deployed, once with `PYTHONMALLOC=pymalloc` (Python's default), once with `malloc`,
alternating `--rounds` times; per server, every page of the load mix (bench/load.MIX) runs once
to warm and then `--runs` times in one session (bench/runcost.py), and the server's own CPU
seconds (user + sys from /proc, all its threads) are read around each page's timed runs. CPU
seconds are much less disturbed by other work on a shared machine than wall time. Prints the
CPU seconds per run per page and variant (median over the rounds) and the ratio malloc /
pymalloc, with the load average.

    .venv/bin/python bench/allocator.py --db bench/out/national/monitor.duckdb --rounds 3
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench import load, runcost, stclient  # noqa: E402

VARIANTS = ("pymalloc", "malloc")


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of a process so far (all threads)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _warmed(server: load.Server, timeout: float = 300) -> None:
    """Wait until the background warm-up has finished (it logs so)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if "vorgewärmt" in server.log_path.read_text(errors="replace"):
            return
        time.sleep(0.5)
    raise RuntimeError("warm-up did not finish")


async def _page_cpu(server: load.Server, cookies: dict[str, dict], runs: int,
                    timeout: float) -> dict[str, float]:
    """CPU seconds per run of each page (its warm-up run not counted)."""
    url = server.url
    anchor = await stclient.Session(url).open(timeout)  # keeps compiled scripts alive
    try:
        result = {}
        for role, pages in load.MIX:
            for page in pages:
                await runcost._runs(url, cookies.get(role), page, 1, timeout)  # warm
                before = cpu_seconds(server.proc.pid)
                await runcost._runs(url, cookies.get(role), page, runs, timeout)
                result[f"{role}/{page or 'start'}"] = (cpu_seconds(server.proc.pid) - before) / runs
        return result
    finally:
        await anchor.close()


def measure(db: Path, variant: str, runs: int, timeout: float) -> dict[str, float]:
    with tempfile.TemporaryDirectory(prefix="wk-alloc-") as tmp:
        server = load.Server(db, Path(tmp), env={"PYTHONMALLOC": variant})
        try:
            _warmed(server)
            cookies = load.sign_in_all(server, timeout)
            return asyncio.run(_page_cpu(server, cookies, runs, timeout))
        finally:
            server.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--db", type=Path, default=ROOT / "data" / "monitor.duckdb")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--runs", type=int, default=4, help="timed runs per page and server")
    parser.add_argument("--timeout", type=float, default=240)
    args = parser.parse_args()
    results: dict[str, list[dict[str, float]]] = {v: [] for v in VARIANTS}
    loads = []
    for i in range(args.rounds):
        for variant in VARIANTS if i % 2 == 0 else VARIANTS[::-1]:
            loads.append(" ".join(f"{x:.1f}" for x in os.getloadavg()))
            results[variant].append(measure(args.db, variant, args.runs, args.timeout))
            total = sum(results[variant][-1].values())
            print(f"round {i + 1} {variant}: {total:.3f} CPU s for the 9 pages "
                  f"(load average {loads[-1]}): "
                  + ", ".join(f"{v:.3f}" for v in results[variant][-1].values()), flush=True)
    pages = list(results[VARIANTS[0]][0])
    print(f"\ndb {args.db}; {args.rounds} rounds × {args.runs} runs per page; load average "
          f"at the starts: {'; '.join(loads)}")
    print("| page | pymalloc CPU s per run | malloc CPU s per run | malloc / pymalloc |")
    print("|---|---:|---:|---:|")
    sums = {v: 0.0 for v in VARIANTS}
    for page in pages:
        med = {v: statistics.median(r[page] for r in results[v]) for v in VARIANTS}
        for v in VARIANTS:
            sums[v] += med[v]
        ratio = med["malloc"] / med["pymalloc"] if med["pymalloc"] else float("nan")
        print(f"| {page} | {med['pymalloc']:.3f} | {med['malloc']:.3f} | {ratio:.2f}× |")
    print(f"| sum of the medians | {sums['pymalloc']:.3f} | {sums['malloc']:.3f} | "
          f"{sums['malloc'] / sums['pymalloc']:.2f}× |")


if __name__ == "__main__":
    main()
