"""What holds the server's memory after load: `python bench/memory.py [--db FILE] [--sessions N]`.

Starts the deployed server (through bench/memserve.py, which adds a memory report on SIGUSR1),
warms it with one session of each role (bench/load.py's page mix), runs N light sessions at once,
closes them, then reports RSS and the server's own memory report (Streamlit sessions kept for
reconnect, glibc heap in use / free, data-layer caches) right after the close, after
`--wait` seconds, and after one more visit. Options `--env NAME=VALUE` (repeatable) set the
server's environment, e.g. `--env MALLOC_ARENA_MAX=2` or `--env WK_MALLOC_TRIM=0` to compare
settings; `--trim` also calls malloc_trim(0) in each report (the "freed but kept" part).

    .venv/bin/python bench/memory.py --db bench/out/national/monitor.duckdb --sessions 25
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench import load, stclient  # noqa: E402


def report(server: load.Server, dump: Path, label: str) -> None:
    size = dump.stat().st_size if dump.exists() else 0
    os.kill(server.proc.pid, signal.SIGUSR1)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and (not dump.exists() or dump.stat().st_size == size):
        time.sleep(0.2)
    time.sleep(0.5)
    print(f"== {label} (load average {' '.join(f'{x:.1f}' for x in os.getloadavg())})")
    print(dump.read_text()[size:], flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--db", type=Path, default=ROOT / "data" / "monitor.duckdb")
    parser.add_argument("--sessions", type=int, default=25)
    parser.add_argument("--wait", type=float, default=130,
                        help="seconds after the close before the second report (Streamlit keeps "
                             "a closed session for reconnect: server.disconnectedSessionTTL)")
    parser.add_argument("--env", action="append", default=[], metavar="NAME=VALUE")
    parser.add_argument("--trim", action="store_true")
    parser.add_argument("--probe", action="store_true",
                        help="in each report, run a small polars and a small DuckDB query and "
                             "report RSS after each (which allocator returns memory when used)")
    parser.add_argument("--clear", action="store_true",
                        help="last, drop each cache of the server in turn and report RSS after "
                             "each (collected and trimmed): what each cache holds")
    parser.add_argument("--trace", type=int, default=0, metavar="FRAMES",
                        help="trace Python allocations (tracemalloc, FRAMES deep) from the "
                             "baseline on and list what holds the most in each later report")
    parser.add_argument("--timeout", type=float, default=240)
    args = parser.parse_args()
    env = dict(item.split("=", 1) for item in args.env)
    with tempfile.TemporaryDirectory(prefix="wk-mem-") as tmp:
        dump = Path(tmp) / "memdump.txt"
        env |= {"WK_MEMDUMP": str(dump), "WK_MEMDUMP_TRIM": "1" if args.trim else "0",
                "WK_MEMDUMP_PROBE": "1" if args.probe else "0",
                "WK_MEMDUMP_TRACE": str(args.trace)}
        server = load.Server(args.db, Path(tmp), module="bench.memserve", env=env)
        try:
            print(f"server env: {args.env or 'default'}; db {args.db}")
            cookies = load.sign_in_all(server, args.timeout)
            load.single(server, cookies, args.timeout)
            report(server, dump, "after warm-up (baseline)")
            level = load.run_level(server, args.sessions, cookies, 0, args.timeout)
            print(f"{args.sessions} sessions: {len(level.runs)} runs, {len(level.errors)} errors, "
                  f"RSS peak {level.rss_peak:.0f} idle {level.rss_idle:.0f} MiB", flush=True)
            report(server, dump, "5 s after all sessions closed")
            time.sleep(args.wait)
            report(server, dump, f"{args.wait:g} s later")
            asyncio.run(stclient.visit(server.url))
            time.sleep(3)
            report(server, dump, "after one more public visit")
            if args.clear:
                Path(f"{dump}.clear").touch()
                report(server, dump, "dropping each cache in turn")
        finally:
            server.stop()


if __name__ == "__main__":
    main()
