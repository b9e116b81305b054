"""The first script run of a freshly started, warmed server against the runs after it.

    .venv/bin/python bench/firstrun.py [--db FILE] [--role staff] [--page bericht] [--servers 2]

Signs in once (bench/load.py) on a server that is then stopped; each of `--servers` fresh servers
(started as deployed, `python -m dashboard.serve`) waits for its background warm-up and then
serves three sessions of `--role` one after the other, each running `--page` once ("" is the
start page). Prints, per server, (seconds until the run finished from opening the session,
seconds of the script run) for the three sessions: the first is what the first visitor after a
start waits for on the server, the others are warm runs. With `python -m bench.profserve` in
place of the server module (see bench/runcost.py) the same first run can be profiled.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench import load, stclient  # noqa: E402


async def _sessions(url: str, cookie: dict | None, page: str, n: int = 3
                    ) -> list[tuple[float, float]]:
    out = []
    for _ in range(n):
        started = time.perf_counter()
        session = await stclient.Session(url, cookie).open(120)
        try:
            run = await session.rerun(page, timeout=120)
            if run.errors:
                raise RuntimeError(f"{page or 'start'}: {run.errors[:3]}")
        finally:
            await session.close()
        out.append((round(time.perf_counter() - started, 3), round(run.seconds, 3)))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--db", type=Path, default=ROOT / "data" / "monitor.duckdb")
    parser.add_argument("--role", choices=("public", "kommune", "staff"), default="public")
    parser.add_argument("--page", default="", help='url path without "/", e.g. bericht')
    parser.add_argument("--servers", type=int, default=2)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="wk-firstrun-") as tmp:
        signing = load.Server(args.db, Path(tmp))
        try:
            cookies = load.sign_in_all(signing, 120)
        finally:
            signing.stop()
        for n in range(args.servers):
            server = load.Server(args.db, Path(tmp))  # same folder: the cookies stay valid
            try:
                server.wait_warm(300)
                runs = asyncio.run(_sessions(server.url, cookies.get(args.role), args.page))
                print(f"server {n + 1}, {args.role}/{args.page or 'start'}: first "
                      f"{runs[0]}, then {runs[1:]}", flush=True)
            finally:
                server.stop()


if __name__ == "__main__":
    main()
