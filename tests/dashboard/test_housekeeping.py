"""Memory housekeeping (dashboard/housekeeping.py): a server started as deployed drops a closed
session once its reconnect time is over, without waiting for another visitor."""

from __future__ import annotations

import asyncio
import concurrent.futures
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pyarrow as pa
import requests

from bench import stclient
from dashboard import housekeeping

ROOT = Path(__file__).resolve().parents[2]


def test_allocators_give_back_what_they_can():
    assert housekeeping.malloc_trim()  # glibc (Debian): malloc_trim exists and runs
    if not os.environ.get("MALLOC_ARENA_MAX"):
        assert housekeeping.limit_arenas()  # mallopt accepted M_ARENA_MAX
    table = pa.table({"a": list(range(200_000))})
    del table
    assert housekeeping.release_arrow()  # pyarrow is loaded here: its pool is released
    assert housekeeping.expire_closed_sessions() == 0  # no Streamlit server in this process


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_a_closed_session_is_dropped_after_its_reconnect_time(demo_db, tmp_path):
    port = _port()
    log = tmp_path / "server.log"
    env = {**os.environ, "WK_DB": str(demo_db), "WK_USERS": str(tmp_path / "users.toml"),
           "WK_AUDIT": str(tmp_path / "audit.jsonl"), "WK_HOUSEKEEPING_SECONDS": "1"}
    with open(log, "wb") as out:
        server = subprocess.Popen(
            [sys.executable, "-m", "dashboard.serve", "dashboard/server.py", "--server.port",
             str(port), "--server.address", "127.0.0.1", "--server.headless", "true",
             "--server.disconnectedSessionTTL", "2"],
            cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
        try:
            url = f"http://127.0.0.1:{port}"
            deadline = time.monotonic() + 120
            while time.monotonic() < deadline:
                try:
                    if requests.get(f"{url}/_stcore/health", timeout=1).ok:
                        break
                except requests.RequestException:
                    time.sleep(0.3)
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
