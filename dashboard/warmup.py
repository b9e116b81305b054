"""Warm the caches of the default views, in the background, after a start and after each build.

The data layer caches query results per build (`data.query`), the Karte figure per build and
filters (`maps.cached_points_map`), the peer features per build. Without warming, the first
visitor after a start or a new build pays for all of it (at national scale: seconds per page).
`start()` runs one background thread that warms once at once and again whenever the database
file is replaced (a new build, an upload on the Daten page). It only reads, through the same
functions the pages call, so the caches hold exactly what a visit asks for.
"""

from __future__ import annotations

import gc
import logging
import threading
import time

from dashboard import data

_log = logging.getLogger(__name__)
POLL_SECONDS = 2.0


def _default_views() -> list[tuple[str, object]]:
    """(name, call) of every page's first view with no filters, for the public and staff."""
    from dashboard import maps
    from dashboard.report import definitions as report_defs

    views: list[tuple[str, object]] = []
    for viewer in (data.PUBLIC, data.STAFF):
        role = viewer.role
        views += [
            (f"{role}: Überblick", lambda v=viewer: (data.key_figures(v), data.load_report(
                v, report_defs.PROGRAMMSTART, data.build_info().datenstand,
                data.build_info().datenstand))),
            (f"{role}: Karte", lambda v=viewer: maps.cached_points_map(
                v, data.NO_FILTERS, "none" if v.role == "public" else "status")),
            (f"{role}: Bundesländer", lambda v=viewer: data.counts_by_land(v)),
        ]
    staff = data.STAFF
    views += [
        # the public Module page reads the report warmed for the Überblick above
        ("staff: Module", lambda: [data.uptake_by(staff, data.NO_FILTERS, *d)
                                   for d in (("monat", "modul"), ("format",), ("thema",),
                                             ("modul",))]),
        ("staff: Überblick-Tabellen", lambda: (data.load_recent_changes(staff),
                                               data.load_overdue(staff))),
        ("staff: Fortschritt", lambda: (data.load_progress(staff),
                                        data.milestone_funnel(staff))),
        ("staff: Module-Tabellen", lambda: (data.uptake_by_kommune(staff),
                                            data.shared_events(staff))),
        ("staff: Kommune", lambda: data.load_kommune_profile(
            staff, data.kommune_choices(staff)["kommune_id"][0])),
        ("staff: Vernetzung", lambda: data.peer_suggestions(
            staff, data.peer_kommune_choices(staff)["kommune_id"][0], n=6)),
        ("staff: Bericht", lambda: data.load_report(
            staff, report_defs.PROGRAMMSTART, data.build_info().datenstand,
            data.build_info().datenstand)),
    ]
    return views


def _plotly() -> None:
    """Plotly loads a trace type's validators on first use (about a second per cold process)."""
    import plotly.graph_objects as go
    import plotly.io as pio

    fig = go.Figure([go.Bar(x=["a"], y=[1]), go.Scatter(x=[1], y=[1])])
    fig.add_trace(go.Scattermap(lat=[51.0], lon=[10.0]))
    fig.add_trace(go.Choroplethmap(locations=["a"], z=[1], geojson={}))
    pio.to_json(fig.to_dict(), validate=False)


def _first_run() -> None:
    """What the first script run of a process pays once (bench/firstrun.py, demo data, warmed
    server: 0.8–1.2 s for the first run of a page, 0.06–0.23 s for the next; the parts below
    are from cProfile inside the server, bench/profserve.py):
    - the app's modules: `dashboard.ui` with `dashboard.auth`, whose import hashes a dummy
      password (0.13 s);
    - pandas, which app.py imports (0.3 s). A session arriving meanwhile waits for this import
      at its first line, so plotly never sees a half-imported pandas;
    - Streamlit's emoji table: its regular expression is compiled when the first pill or radio
      label is checked for a leading emoji (0.18 s);
    - Streamlit's check whether it runs in a REPL: a stack inspection in the first script run
      (0.15 s). It only decides a warning for scripts run without `streamlit run`, which never
      applies to this server."""
    import pandas  # noqa: F401
    import streamlit.emojis  # noqa: F401
    from streamlit import delta_generator

    from dashboard import ui  # noqa: F401

    if hasattr(delta_generator, "_use_warning_has_been_displayed"):
        delta_generator._use_warning_has_been_displayed = True


def warm() -> float:
    """Fill the caches of the current build's default views; seconds taken. Errors are logged
    (a page would show them to its visitor anyway), never raised."""
    started = time.perf_counter()
    try:
        data.build_info()
        data.filter_options()
    except data.DatabaseMissing:
        return 0.0
    for name, call in [("first run", _first_run), ("plotly", _plotly), *_default_views()]:
        try:
            call()
        except Exception:  # noqa: BLE001 - warming must never stop the server
            _log.exception("Vorwärmen fehlgeschlagen: %s", name)
    return time.perf_counter() - started


def _stamp() -> tuple[int, int] | None:
    try:
        st = data.database_path().stat()
    except OSError:
        return None
    return st.st_ino, st.st_mtime_ns


_stop = threading.Event()
_thread: threading.Thread | None = None


def freeze() -> None:
    """Exempt everything alive now from the cycle collector's full collections.

    A full collection (Python's own, now and then; the housekeeping's, when sessions are
    dropped; Streamlit's after every script run, `runner.postScriptGC`, switched off in
    .streamlit/config.toml) walks every tracked object: after the warm-up that is the imported
    modules (plotly's validators, pandas, pyarrow, ...) and the warm caches, about 0.2 s on the
    demo data, a third of a page's script run. Frozen, they are skipped;
    a later run's cycles (and closed sessions) are still collected. Done once, after the first
    warm-up, before sessions exist (freezing a session's objects would keep its cycles for
    good). Refcounting still frees frozen objects that drop out of a cache."""
    gc.collect()
    gc.freeze()


def _loop() -> None:
    warmed = None
    while not _stop.is_set():
        stamp = _stamp()
        if stamp is not None and stamp != warmed:
            seconds = warm()
            _log.info("Caches vorgewärmt in %.1f s", seconds)
            if warmed is None:
                freeze()
            warmed = stamp
        _stop.wait(POLL_SECONDS)


def start() -> None:
    """Start the warming thread once per process (a daemon: it never delays shutdown)."""
    global _thread
    if _thread is not None and _thread.is_alive():
        return
    _stop.clear()
    _thread = threading.Thread(target=_loop, name="cache-warmup", daemon=True)
    _thread.start()


def stop() -> None:
    """Stop the warming thread (tests; the server simply exits) and unfreeze (`freeze`)."""
    _stop.set()
    if _thread is not None:
        _thread.join(timeout=60)
    gc.unfreeze()
