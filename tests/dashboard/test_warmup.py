"""Cache warm-up: after it, the default views are cache hits; a new build is warmed again."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

from dashboard import data, maps, warmup
from etl.build import build
from tests.cohort import write_cohort

ROOT = Path(__file__).resolve().parents[2]


def _cache_size() -> int:
    return len(data._connection().cache)


def test_warm_fills_what_the_default_views_ask_for(use_db, demo_db):
    use_db(demo_db)
    warmup.warm()
    size = _cache_size()
    assert size > 20
    # what the first public and staff visitors' pages call: nothing new is queried
    for viewer in (data.PUBLIC, data.STAFF):
        data.key_figures(viewer)
        data.counts_by_land(viewer)
    data.uptake_by(data.STAFF, data.NO_FILTERS, "monat", "modul")
    data.load_progress(data.STAFF)
    data.load_overdue(data.STAFF)
    assert _cache_size() == size
    first = maps.cached_points_map(data.PUBLIC, data.NO_FILTERS, "none")
    assert maps.cached_points_map(data.PUBLIC, data.NO_FILTERS, "none")[1] is first[1]


def _wait_for(condition, seconds: float = 120) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.2)
    return False


def test_a_new_build_is_warmed_in_the_background(use_db, demo_db, tmp_path):
    db = use_db(tmp_path / "monitor.duckdb")
    shutil.copy(demo_db, db)
    old_build = data.build_info().build_id
    warmup.start()
    try:
        assert _wait_for(lambda: data._handle is not None and len(data._handle.cache) > 20)
        build(write_cohort(tmp_path / "input"), tmp_path / "neu.duckdb")
        os.replace(tmp_path / "neu.duckdb", db)  # what the ETL and the Daten page do
        assert _wait_for(lambda: data._handle is not None
                         and data._handle.build_id != old_build
                         and len(data._handle.cache) > 20)
    finally:
        warmup.stop()


def test_warm_pays_what_the_first_script_run_of_a_process_would(demo_db):
    """In a fresh process, the warm-up leaves nothing one-off for the first visitor's script
    run: the modules it would import (pandas, Streamlit's emoji table, the app's ui with
    auth's dummy hash) are loaded and Streamlit's REPL check is done. A Streamlit update
    that renames that check's flag fails here instead of silently costing 0.15 s."""
    code = (
        "import sys\n"
        "from dashboard import warmup\n"
        "warmup.warm()\n"
        "from streamlit import delta_generator\n"
        "print(all(m in sys.modules for m in ('pandas', 'streamlit.emojis', 'dashboard.ui',"
        " 'dashboard.auth')), delta_generator._use_warning_has_been_displayed)\n"
    )
    fresh = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                           cwd=ROOT, env={**os.environ, "WK_DB": str(demo_db)}, timeout=300,
                           check=True)
    assert fresh.stdout.splitlines()[-1].split() == ["True", "True"]
