"""In English, data values are English too: tables, metrics and chart labels on every page and
for every role show no German status, milestone, module, format, Handlungsfeld, commune type,
size class or Land name."""

from __future__ import annotations

import json
import re

import pytest
from pandas.api.types import is_datetime64_any_dtype, is_numeric_dtype

from dashboard import data
from dashboard.app import pages_for
from dashboard.data import Viewer
from dashboard.i18n import value_names
from dashboard.store import demo, demo_handlungsplan, handlungsplan
from dashboard.store.__main__ import demo_handlungsplan_inputs
from tests.dashboard.pagetest import frames, run_page
from tests.dashboard.test_i18n import german_texts

# German values that are not also the English word (Workshop, Berlin, … are spelt alike)
GERMAN = german_texts()
NUMBER_PREFIX = re.compile(r"^(★ )?\d* ?")


def _chart_labels(at) -> set[str]:
    """Legend entries, axis and colour-bar titles and ticks, categories and annotations of every
    Plotly chart on the page (from the figure JSON the browser gets)."""
    labels: set[str] = set()
    for element in at.get("plotly_chart"):
        fig = json.loads(element.proto.spec)
        for trace in fig.get("data", []):
            labels.add(trace.get("name") or "")
            for axis in ("x", "y"):
                labels.update(v for v in trace.get(axis) or [] if isinstance(v, str))
            labels.update((trace.get("marker", {}).get("colorbar", {}) or {}).get("ticktext", []))
            labels.update(str(v) for row in trace.get("customdata") or []
                          if isinstance(row, list) for v in row)
            labels.update(v for v in trace.get("text") or [] if isinstance(v, str))
        layout = fig.get("layout", {})
        for key, axis in layout.items():
            if key.startswith(("xaxis", "yaxis")):
                labels.add(((axis.get("title") or {}).get("text")) or "")
        labels.update(a.get("text", "") for a in layout.get("annotations", []))
    return {NUMBER_PREFIX.sub("", part) for label in labels for part in label.split("<br>")} | {
        NUMBER_PREFIX.sub("", label.replace("<br>", " ")) for label in labels}


def _shown_texts(at) -> set[str]:
    texts = set()
    for frame in frames(at):
        texts.update(str(c) for c in frame.columns)
        for column in frame.columns:
            if not is_numeric_dtype(frame[column]) and not is_datetime64_any_dtype(frame[column]):
                texts.update(str(v) for v in frame[column].dropna())
    texts.update(m.label for m in at.metric)
    texts.update(str(m.value) for m in at.metric)
    return texts | _chart_labels(at)


CASES = [(role, page) for role in ("staff", "kommune", "public") for page in pages_for(role)
         if page != "anmelden"]


@pytest.mark.parametrize(("role", "page"), CASES)
def test_no_german_data_value_in_english(use_db, demo_db, role, page, sql):
    """With the demo exchange (offers, needs, requests, practice cards) and Handlungsplan
    (measures in every state, notes) in the store, so those sections show their values."""
    _seed(use_db, demo_db)
    viewer = {"staff": Viewer("staff"), "kommune": _own(sql), "public": None}[role]
    params = {"lang": "en"}
    if page == "kommune" and role == "staff":
        params["kommune"] = _finished(sql)
    at = run_page(use_db, demo_db, page=page, viewer=viewer, tables=True, **params)
    shown = _shown_texts(at)
    assert len(shown) > 3, "the page shows hardly anything: the test would prove nothing"
    assert not shown & GERMAN, sorted(shown & GERMAN)


def _seed(use_db, demo_db) -> None:
    use_db(demo_db)
    demo.seed(data.query("select * from mart_peer_merkmale order by kommune_id"))
    demo_handlungsplan.seed(*demo_handlungsplan_inputs(data))


def _own(sql) -> Viewer:
    """An active commune with measures in the Handlungsplan."""
    active = {r[0] for r in sql("select kommune_id from kommune where status = 'aktiv'")}
    planned = handlungsplan.all_measures(data.STAFF)["kommune_id"].unique().sort().to_list()
    return Viewer("kommune", next(k for k in planned if k in active))


def _finished(sql) -> str:
    return sql("select kommune_id from kommune where status = 'abgeschlossen' order by 1")[0][0]


def test_map_views_in_english(use_db, demo_db):
    """The map coloured by phase (colour-bar ticks) and the Länder view (hover names). The
    widgets are preset: AppTest formats radio values outside the page run on a rerun, where the
    page's format_func cannot see the session's language."""
    at = run_page(use_db, demo_db, page="karte", lang="en", state={"map_colour": "phase"})
    phase = _chart_labels(at)
    assert {"Completion", "not started yet"} <= phase
    assert not phase & GERMAN, sorted(phase & GERMAN)
    at = run_page(use_db, demo_db, page="karte", lang="en", state={"map_view": "laender"},
                  tables=True)
    laender = _shown_texts(at)
    assert "Bavaria" in laender
    assert not laender & GERMAN, sorted(laender & GERMAN)


@pytest.mark.parametrize(("lang", "date_format", "integers", "decimal"), [
    ("de", "DD.MM.YYYY", "%'.,d", r"\d+,\d"),
    ("en", "D MMM YYYY", "%',,d", r"\d+\.\d"),
])
def test_tables_format_numbers_in_the_ui_language(use_db, demo_db, lang, date_format, integers,
                                                  decimal):
    """Not the browser's locale: whole numbers get the UI language's thousands separator (in
    Streamlit's printf format the character after `'` is the separator: 217.198 / 217,198),
    dates its date format, and decimals arrive as text with its decimal sign (5,4 / 5.4)."""
    at = run_page(use_db, demo_db, page="fortschritt", lang=lang, tables=True)
    overdue = json.loads(at.dataframe[-1].proto.columns)
    types = {v["type_config"]["type"]: v["type_config"]["format"] for v in overdue.values()
             if "type_config" in v}
    assert types == {"date": date_format, "number": integers}
    durations = frames(at)[2]
    months = durations[durations.columns[-1]]
    assert months.str.fullmatch(decimal).all()


def test_sidebar_filters_show_english_values_and_keep_german_urls(use_db, demo_db):
    at = run_page(use_db, demo_db, lang="en", status="aktiv")
    shown = {key: [o.content for o in at.button_group(key=f"flt_{key}").proto.options]
             for key in ("status", "typ", "groessenklasse", "bundesland", "start_quartal")}
    assert "active" in shown["status"] and "Bavaria" in shown["bundesland"]
    assert not {v for values in shown.values() for v in values} & GERMAN
    assert all(shown["start_quartal"]), "quarters keep their own text"
    assert at.button_group(key="flt_status").value == ["aktiv"]
    assert at.query_params["status"] in (["aktiv"], "aktiv")


def test_exchange_groups_in_english(use_db, demo_db):
    """The staff's exchange groups (made on the button): member and group tables and the
    "why it fits" texts name Handlungsfelder, types and Länder in English."""
    at = run_page(use_db, demo_db, page="vernetzung", viewer=Viewer("staff"), lang="en",
                  tables=True)
    at.button(key="peers_groups_run").click().run()
    shown = _shown_texts(at)
    assert any("Bavaria" in t or "Hesse" in t for t in shown)
    assert not shown & GERMAN, sorted(shown & GERMAN)
    reasons = [m.value.replace("\\", "") for m in at.caption if "Shared priorities" in m.value]
    named = {k for d in ("handlungsfeld", "bundesland") for k, v in value_names("en", d).items()
             if k != v}  # Landkreis etc. may be part of a commune's name
    assert reasons and not any(g in r for r in reasons for g in named)
    lists = {v for frame in frames(at) for c in frame.columns if not is_numeric_dtype(frame[c])
             for value in frame[c].dropna() for v in str(value).split("; ")}
    assert "Cohesion and encounter" in lists
    assert not lists & GERMAN, sorted(lists & GERMAN)
