"""Bench entry point: the dashboard with a signed-in staff session from the first request.

A signed-in session lives in Streamlit's session state, so a page reload starts a new, public
session. To time a staff page as a cold load (fresh browser, new session, nothing loaded yet),
`bench/pages.py` serves this script instead of dashboard/app.py; it is never part of the
deployed app. Everything else is the real app.
"""

import runpy
import sys
from pathlib import Path

import streamlit as st

ROOT = Path(__file__).resolve().parent.parent
if sys.path[0] != str(ROOT):  # bench/etl.py must not shadow the etl package
    sys.path.insert(0, str(ROOT))
from dashboard.data import STAFF  # noqa: E402

st.session_state.setdefault("viewer", STAFF)
runpy.run_path(str(ROOT / "dashboard" / "app.py"), run_name="__main__")
