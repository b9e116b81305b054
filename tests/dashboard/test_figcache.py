"""Figures cached by content (dashboard/figcache.py) are never served for other data: not to
another role, not to another commune, not after one cell changed; and a shared figure is never
changed by a page."""

from __future__ import annotations

import copy
import datetime as dt
import pickle

import plotly.graph_objects as go
import plotly.io as pio
import plotly.tools
import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dashboard import action_views, charts, data, figcache, fmt, maps, ui
from dashboard.report import definitions as report_defs
from dashboard.store import notizen

HOSTILE = ["![x](http://evil/x.png)", "=SUM(1)", "<script>alert(1)</script>", "", "Köln"]


def _json(fig) -> str:
    return pio.to_json(fig, validate=False)


def _viewers() -> list[data.Viewer]:
    ids = data.kommune_choices(data.STAFF)["kommune_id"].to_list()
    return [data.PUBLIC, data.STAFF, data.Viewer("kommune", ids[0]),
            data.Viewer("kommune", ids[1])]


def _lanes(viewer: data.Viewer) -> pl.DataFrame:
    """The commune's milestones as its profile page draws them (pages/kommune.py)."""
    profile = data.load_kommune_profile(viewer, viewer.kommune_id)
    facts = profile.facts
    return profile.milestones.with_columns(
        pl.lit(viewer.kommune_id).alias("kommune_id"), pl.lit(facts["name"]).alias("name"),
        pl.lit(facts["start_ist"], dtype=pl.Date).alias("start_ist"))


def _figures(viewer: data.Viewer) -> dict[str, tuple]:
    """(cached builder, arguments) of the charts the pages draw from this viewer's data."""
    info = data.build_info()
    report = data.load_report(viewer, report_defs.PROGRAMMSTART, info.datenstand,
                              info.datenstand)
    calls = {
        "status": (charts.report_chart,
                   ("kommunen_status", report_defs.chart_data("kommunen_status", report), "de")),
        "status_en": (charts.report_chart,
                      ("kommunen_status", report_defs.chart_data("kommunen_status", report),
                       "en")),
    }
    if viewer.role == "kommune":
        lanes = _lanes(viewer)
        calls["timeline"] = (charts.timeline, (lanes, info.datenstand, {
            k: k for k in ("geplant", "erreicht", "verspätet erreicht", "überfällig",
                           "entfallen", "mark_min", "mark_max", "today")}, "de"))
    return calls


def test_each_viewer_gets_exactly_what_building_for_its_own_data_gives(use_db, demo_db):
    use_db(demo_db)
    figcache.clear()
    viewers = _viewers()
    fresh = {(i, name): _json(builder.uncached(*args))
             for i, viewer in enumerate(viewers)
             for name, (builder, args) in _figures(viewer).items()}
    # interleaved, twice: a figure cached for one viewer would surface for the next one
    served: dict[tuple, object] = {}
    for _ in range(2):
        for i, viewer in enumerate(viewers):
            for name, (builder, args) in _figures(viewer).items():
                fig = builder(*args)
                assert _json(fig) == fresh[(i, name)], (viewer, name)
                served.setdefault((i, name), fig)
                assert builder(*args) is served[(i, name)]  # and it is reused
    # the public report hides small cells the staff sees: different data, never one figure
    assert fresh[(0, "status")] != fresh[(1, "status")]
    assert served[(0, "status")] is not served[(1, "status")]
    assert fresh[(0, "status")] != fresh[(0, "status_en")]  # the language is part of the key
    # two communes' own timelines differ, and each gets its own
    assert fresh[(2, "timeline")] != fresh[(3, "timeline")]


@settings(max_examples=40, deadline=None)
@given(names=st.lists(st.sampled_from(HOSTILE) | st.text(max_size=12), min_size=1, max_size=6),
       row=st.integers(min_value=0, max_value=5), change=st.sampled_from(HOSTILE))
def test_one_changed_cell_is_another_figure(names, row, change):
    frame = pl.DataFrame({"name": names, "n": list(range(len(names)))})
    row %= frame.height
    other = frame.with_columns(pl.when(pl.int_range(pl.len()) == row).then(pl.lit(change))
                               .otherwise(pl.col("name")).alias("name"))
    same = pl.DataFrame({"name": list(names), "n": list(range(len(names)))})
    k = figcache.key(charts.hbars.uncached, (frame, "name", "n", "de"), {})
    assert figcache.key(charts.hbars.uncached, (same, "name", "n", "de"), {}) == k
    if other["name"][row] != frame["name"][row]:
        assert figcache.key(charts.hbars.uncached, (other, "name", "n", "de"), {}) != k
    # the type is part of the content too: 1 and 1.0 and "1" are three figures
    keys = {figcache.key(charts.hbars.uncached, (frame.with_columns(pl.lit(v).alias("n")),
                                                 "name", "n", "de"), {})
            for v in (1, 1.0, "1")}
    assert len(keys) == 3


def test_an_argument_it_cannot_key_is_built_every_time():
    calls = []

    @figcache.cached
    def builder(thing):
        calls.append(thing)
        return object()

    marker = object()  # no content digest: never cached
    assert builder(marker) is not builder(marker)
    assert len(calls) == 2
    assert builder("a") is builder("a") and len(calls) == 3


def _sent(fig) -> str:
    """What `st.plotly_chart` sends for `fig` (streamlit/elements/plotly_chart.py)."""
    return pio.to_json(plotly.tools.return_figure_from_figure_or_data(fig, validate_figure=True),
                       validate=False)


def test_a_cached_figure_is_read_only_and_sends_what_a_fresh_one_sends(use_db, demo_db):
    use_db(demo_db)
    figcache.clear()
    report = data.load_report(data.PUBLIC, report_defs.PROGRAMMSTART,
                              data.build_info().datenstand, data.build_info().datenstand)
    args = ("kommunen_status", report_defs.chart_data("kommunen_status", report), "de")
    fresh = charts.report_chart.uncached(*args)
    shared = charts.report_chart(*args)
    assert type(fresh) is go.Figure and isinstance(shared, figcache.SharedFigure)
    assert _sent(shared) == _sent(fresh)
    assert shared.to_dict() is shared.to_dict()  # made once, not copied on every run
    # a page that changes it gets an error; what the next visitor is sent stays the same
    for change in (lambda f: f.update_layout(title="geändert"),
                   lambda f: f.update_traces(marker_color="red"),
                   lambda f: f.add_trace(go.Bar(x=["a"], y=[1])),
                   lambda f: setattr(f.layout, "height", 100)):
        with pytest.raises(TypeError, match="erst kopieren|Erst kopieren"):
            change(shared)
    assert _sent(charts.report_chart(*args)) == _sent(fresh)
    # copies are ordinary figures, and copying leaves the shared dict alone
    for twin in (go.Figure(shared), copy.deepcopy(shared), pickle.loads(pickle.dumps(shared))):
        assert type(twin) is go.Figure
        twin.update_layout(title="Kopie")
    assert _sent(shared) == _sent(fresh) and "_grid_str" not in shared.to_dict()


def test_the_cached_map_is_shared_and_sends_what_a_fresh_map_sends(use_db, demo_db):
    use_db(demo_db)
    points, cached = maps.cached_points_map(data.PUBLIC, data.NO_FILTERS, "none")
    fresh = maps.points_map(points, "none", maps.labels("de"), show_kreise=False)
    assert isinstance(cached.figure, figcache.SharedFigure)
    assert _sent(cached.figure) == _sent(fresh.figure)
    assert maps.cached_points_map(data.PUBLIC, data.NO_FILTERS, "none")[1] is cached


def test_the_shared_timeline_does_not_keep_one_communes_notes(use_db, demo_db):
    use_db(demo_db)
    figcache.clear()
    ids = data.kommune_choices(data.STAFF)["kommune_id"].to_list()
    own, other = data.Viewer("kommune", ids[0]), data.Viewer("kommune", ids[1])
    notizen.add_note(own, "k", own.kommune_id, dt.date(2022, 2, 1), None,
                     "Kommunalwahl " + HOSTILE[2], "programmteam")
    lanes = _lanes(own)
    labels = {k: k for k in ("geplant", "erreicht", "verspätet erreicht", "überfällig",
                             "entfallen", "mark_min", "mark_max", "today")}
    shared = charts.timeline(lanes, data.build_info().datenstand, labels, "de")
    before = _json(shared)
    with_notes = action_views.with_notes(shared, own, own.kommune_id)
    assert "Kommunalwahl" in _json(with_notes)
    assert _json(shared) == before  # the cached figure itself is untouched
    # the next visitor of the same data (another commune's staff view, a reload) gets the
    # shared figure without that note
    again = charts.timeline(lanes, data.build_info().datenstand, labels, "de")
    assert again is shared and "Kommunalwahl" not in _json(again)
    assert "Kommunalwahl" not in _json(action_views.with_notes(again, other, other.kommune_id))


def test_table_number_texts_follow_the_language_and_the_hidden_marker():
    column = pl.Series("n", [12345.5, None, 2.0])
    assert ui._number_texts(column, "x", "de").to_list() == ["12.345,5", "x", "2,0"]
    assert ui._number_texts(column, "x", "en").to_list() == ["12,345.5", "x", "2.0"]
    assert ui._number_texts(column, None, "de").to_list() == ["12.345,5", fmt.NONE, "2,0"]
    changed = pl.Series("n", [12345.5, None, 3.0])
    assert ui._number_texts(changed, "x", "de").to_list() == ["12.345,5", "x", "3,0"]
