"""Memory housekeeping (dashboard/housekeeping.py): a server started as deployed drops a closed
session once its reconnect time is over, without waiting for another visitor."""

from __future__ import annotations

import asyncio
import concurrent.futures
import os
import subprocess
import sys
import time
from pathlib import Path

import pyarrow as pa

from bench import stclient
from dashboard import housekeeping
from tests.e2e.conftest import SERVER_LOG_DIR, start_app


def test_allocators_give_back_what_they_can():
    assert housekeeping.malloc_trim()  # glibc (Debian): malloc_trim exists and runs
    if not os.environ.get("MALLOC_ARENA_MAX"):
        assert housekeeping.limit_arenas()  # mallopt accepted M_ARENA_MAX
    table = pa.table({"a": list(range(200_000))})
    del table
    assert housekeeping.release_arrow()  # pyarrow is loaded here: its pool is released
    assert housekeeping.expire_closed_sessions() == 0  # no Streamlit server in this process


def _rss_mib() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise AssertionError("no VmRSS")


_DUCKDB_PAGES = """
import time, duckdb
from dashboard import housekeeping

def rss():
    for line in open("/proc/self/status"):
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024

con = duckdb.connect()
con.execute("create temp table big as select range as a from range(20000000)")
con.execute("drop table big")
time.sleep(1)
kept = rss()
time.sleep(2)
waited = rss()
released = housekeeping.release_duckdb()
print(kept, waited, released, rss())
"""


def test_duckdbs_freed_pages_go_back_without_another_query():
    # a query's intermediates (here ~160 MiB) are freed to DuckDB's jemalloc, which keeps them
    # resident until DuckDB allocates again; measured in a process of its own, where nothing
    # else runs a query (in the test worker, other tests' connections and threads blur it)
    done = subprocess.run([sys.executable, "-c", _DUCKDB_PAGES], capture_output=True, text=True,
                          timeout=120, check=True)
    kept, waited, released, after = done.stdout.split()
    assert float(waited) > float(kept) - 20  # not given back by waiting alone
    assert released == "True"
    assert float(after) < float(kept) - 100


def _allocator_stats(**env: str) -> str:
    """What `sys._debugmallocstats()` prints in a process that called use_system_allocator()."""
    environ = {k: v for k, v in os.environ.items() if k != "PYTHONMALLOC"} | env
    code = ("import sys; from dashboard import serve; serve.use_system_allocator(); "
            "sys._debugmallocstats()")
    done = subprocess.run([sys.executable, "-c", code], env=environ, capture_output=True,
                          text=True, timeout=60, check=True)
    return done.stderr


def test_the_server_keeps_python_objects_on_the_trimmable_heap():
    # pymalloc reports its 1 MiB arenas; after the re-run with PYTHONMALLOC=malloc it has none
    assert "arenas allocated current" in _allocator_stats(PYTHONMALLOC="pymalloc")  # env wins
    stats = _allocator_stats()
    assert "arenas allocated current" not in stats, stats[:500]


def test_a_closed_session_is_dropped_after_its_reconnect_time(demo_db, tmp_path):
    server, url = start_app(
        demo_db, warm=True, WK_USERS=str(tmp_path / "users.toml"),
        WK_AUDIT=str(tmp_path / "audit.jsonl"), WK_HOUSEKEEPING_SECONDS="1",
        STREAMLIT_SERVER_DISCONNECTED_SESSION_TTL="2")
    log = SERVER_LOG_DIR / f"streamlit-{url.rsplit(':', 1)[1]}.log"
    try:
        # opens, runs the start page, closes; in a thread of its own, since a browser test
        # before this one in the same worker may have left an event loop in this thread
        with concurrent.futures.ThreadPoolExecutor(1) as pool:
            run = pool.submit(asyncio.run, stclient.visit(url)).result()
        assert not run.errors and run.metrics
        # nobody else comes: the housekeeping alone must drop it (TTL 2 s + rounds of 1 s)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if "geschlossene Sitzungen freigegeben" in log.read_text(errors="replace"):
                break
            time.sleep(0.5)
        text = log.read_text(errors="replace")
        assert "1 geschlossene Sitzungen freigegeben" in text, text[-2000:]
    finally:
        server.terminate()
        server.wait(timeout=30)
