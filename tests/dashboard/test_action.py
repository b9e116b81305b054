"""From diagnosis to action (issue #15): Handlungsplan, timeline notes, deadline watch, digest,
calendar feed, council brief and report delivery — checked against independent oracles and as
the attacker (another commune, the public, hostile text)."""

from __future__ import annotations

import datetime as dt
import email
import email.policy
import hashlib
import io
import json
import os
import re
import socket
import sqlite3
from email import message_from_bytes
from email.policy import default
from pathlib import Path

import duckdb
import polars as pl
import pytest
from aiosmtpd.controller import Controller
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from icalendar import Calendar
from pptx import Presentation
from pypdf import PdfReader

from dashboard import data, fmt, ratsbrief
from dashboard import watch as w
from dashboard.action_views import cohort_counts, priorities_without_measure
from dashboard.i18n import value
from dashboard.store import db, demo_handlungsplan, handlungsplan, notizen
from dashboard.store import watch as wstore
from dashboard.store.__main__ import demo_handlungsplan_inputs
from dashboard.store.db import StoreError
from tests.dashboard.pagetest import assert_ok, open_tables, run_page

HOSTILE = "GEHEIM-91c ![x](http://evil/x.png) =SUM(1) <script>alert(1)</script>"
FIELD = "Zusammenhalt und Begegnung"


def _events() -> list[dict]:
    path = Path(os.environ["WK_AUDIT"])
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()] \
        if path.exists() else []


@pytest.fixture
def demo(use_db, demo_db):
    """The demo database with the demo Handlungsplan and notes seeded."""
    use_db(demo_db)
    assert demo_handlungsplan.seed(*demo_handlungsplan_inputs(data))
    return demo_db


def _two_communes() -> tuple[str, str]:
    """Two active demo communes with priorities (own and other)."""
    prios = data.priorities(data.STAFF)["kommune_id"].unique(maintain_order=True).to_list()
    return prios[0], prios[1]


# ---- watch list = independent SQL oracle ---------------------------------------------------------

ORACLE = """
with d as (select datenstand from meta_build),
start as (select kommune_id, erreicht_am as s from meilenstein
          where meilenstein = 'Erstgespräch' and erreicht_am is not null),
ende as (select kommune_id from meilenstein where meilenstein = 'Abschluss'
         and erreicht_am is not null)
select 'ueberfaellig|' || m.kommune_id || '|' || m.meilenstein as key,
       datediff('day', m.geplant_am, d.datenstand) as n
from meilenstein m join kommune k on k.kommune_id = m.kommune_id, d
where m.erreicht_am is null and k.status <> 'ausgeschieden' and m.geplant_am < d.datenstand
  and datediff('day', m.geplant_am, d.datenstand) >= $tage
union all
select 'dauer|' || k.kommune_id, null
from kommune k join start using (kommune_id), d
where k.status in ('aufgenommen', 'aktiv') and k.kommune_id not in (select kommune_id from ende)
  and round(datediff('day', start.s, d.datenstand) / 30.44, 1) >= $monate
"""


def _oracle(db_path: Path, tage: int, monate: float) -> dict[str, int | None]:
    with duckdb.connect(str(db_path), read_only=True) as con:
        return dict(con.execute(ORACLE, {"tage": tage, "monate": monate}).fetchall())


MEASURE_ORACLE = """
select 'massnahme|' || kommune_id || '|' || id || '|' || faellig,
       cast(julianday(:datenstand) - julianday(faellig) as integer)
from massnahme
where zustand in ('geplant', 'begonnen') and faellig is not null
  and julianday(:datenstand) - julianday(faellig) >= :tage
"""


def _watch_oracle(db_path: Path, tage: int, monate: float) -> dict[str, int | None]:
    """Milestones and tracks from the monitor database, measures straight from the store file."""
    with duckdb.connect(str(db_path), read_only=True) as con:
        datenstand = con.execute("select datenstand from meta_build").fetchone()[0]
    with sqlite3.connect(os.environ["WK_STORE"]) as con:
        measures = dict(con.execute(MEASURE_ORACLE, {"datenstand": datenstand.isoformat(),
                                                     "tage": tage}).fetchall())
    return {**_oracle(db_path, tage, monate), **measures}


def test_watch_list_equals_sql_oracle_at_demo_datenstand(demo):
    found = w.items(data.STAFF)
    expected = _watch_oracle(demo, *wstore.DEFAULTS["ueberfaellig_ab_tage"][:1],
                             wstore.DEFAULTS["dauer_warnung_monate"][0])
    assert dict(found.select("schluessel", "tage").rows()) == expected
    assert found.filter(pl.col("art") == "ueberfaellig").height >= 3  # demo has overdue items
    assert found.filter(pl.col("art") == "dauer").height >= 1
    assert found.filter(pl.col("art") == "massnahme").height >= 1


def test_overdue_measures_reach_the_digest_once(demo):
    """An open measure past its due date is in the digest; a second run repeats nothing; a
    finished or dropped measure never appears; postponed and overdue again, it is new again."""
    own, other = _two_communes()
    datenstand = data.build_info().datenstand
    late = handlungsplan.save_measure(data.Viewer("kommune", own), "k", own, FIELD,
                                      "Spät " + HOSTILE, faellig=datenstand - dt.timedelta(10))
    done = handlungsplan.save_measure(data.STAFF, "anna", other, FIELD, "Erledigt",
                                      faellig=datenstand - dt.timedelta(10), zustand="umgesetzt")
    dropped = handlungsplan.save_measure(data.STAFF, "anna", other, FIELD, "Verworfen",
                                         faellig=datenstand - dt.timedelta(10),
                                         zustand="verworfen")
    future = handlungsplan.save_measure(data.STAFF, "anna", other, FIELD, "Später",
                                        faellig=datenstand + dt.timedelta(1))
    first = w.run_digest("watch", {})
    key = f"massnahme|{own}|{late}|{datenstand - dt.timedelta(10)}"
    assert key in wstore.reported_keys()
    assert not any(m in k for k in wstore.reported_keys() for m in (done, dropped, future))
    name = data.kommune_names()[own]
    line = (f"- {name} ({own}): Maßnahme „Spät {HOSTILE}“ war am "
            f"{fmt.date(datenstand - dt.timedelta(10))} fällig und ist seit 10 Tagen überfällig.")
    assert line in first["text"].splitlines()
    assert "Maßnahme des Handlungsplans gilt als überfällig" in first["text"]
    assert w.run_digest("watch", {}) is None  # second run: nothing twice
    # state changes do not make it new; a new due date that passes again does
    handlungsplan.save_measure(data.Viewer("kommune", own), "k", own, FIELD, "Spät " + HOSTILE,
                               faellig=datenstand - dt.timedelta(10), zustand="begonnen",
                               measure_id=late)
    assert w.run_digest("watch", {}) is None
    handlungsplan.save_measure(data.Viewer("kommune", own), "k", own, FIELD, "Spät " + HOSTILE,
                               faellig=datenstand - dt.timedelta(3), zustand="begonnen",
                               measure_id=late)
    again = w.run_digest("watch", {})
    assert again["anzahl"] == 1 and "seit 3 Tagen überfällig" in again["text"]
    # implemented: off the list, and nothing new to report
    handlungsplan.save_measure(data.Viewer("kommune", own), "k", own, FIELD, "Spät " + HOSTILE,
                               faellig=datenstand - dt.timedelta(3), zustand="umgesetzt",
                               measure_id=late)
    assert late not in "".join(w.items(data.STAFF)["schluessel"])
    assert w.run_digest("watch", {}) is None
    # the threshold in days applies to measures as to milestones
    wstore.set_thresholds(data.STAFF, "anna", ueberfaellig_ab_tage=30)
    assert all(t >= 30 for t in w.items(data.STAFF).filter(pl.col("art") == "massnahme")["tage"])


@settings(max_examples=15, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(tage=st.integers(1, 120), monate=st.floats(1.0, 9.0).map(lambda x: round(x, 1)))
def test_watch_list_equals_oracle_for_any_threshold(use_db, demo_db, tage, monate):
    use_db(demo_db)
    found = data.watch_items(data.STAFF, tage, monate)
    assert dict(found.select("schluessel", "tage").rows()) == _oracle(demo_db, tage, monate)


def test_watch_and_thresholds_are_staff_only(demo):
    own, _ = _two_communes()
    for viewer in (data.PUBLIC, data.Viewer("kommune", own)):
        with pytest.raises(PermissionError):
            data.watch_items(viewer, 1, 5.0)
        with pytest.raises(PermissionError):
            wstore.set_thresholds(viewer, "x", ueberfaellig_ab_tage=3)
    with pytest.raises(StoreError):
        wstore.set_thresholds(data.STAFF, "anna", ueberfaellig_ab_tage=0)
    wstore.set_thresholds(data.STAFF, "anna", ueberfaellig_ab_tage=30, dauer_warnung_monate=6)
    assert dict(w.items(data.STAFF).select("schluessel", "tage").rows()) == \
        _watch_oracle(demo, 30, 6.0)
    assert "30 Tag" in w.rule_text()


# ---- digest --------------------------------------------------------------------------------------


class _Sink:
    def __init__(self) -> None:
        self.messages: list = []

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 (aiosmtpd API)
        self.messages.append(envelope)
        return "250 OK"


@pytest.fixture
def smtp_sink():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    sink = _Sink()
    controller = Controller(sink, hostname="127.0.0.1", port=port)
    controller.start()
    yield sink, {"host": "127.0.0.1", "port": port, "absender": "monitor@example.org",
                 "digest_an": "team@example.org; lead@example.org"}
    controller.stop()


def test_digest_mails_new_items_once_through_a_local_smtp_sink(demo, smtp_sink):
    sink, config = smtp_sink
    first = w.run_digest("watch", config)
    expected = set(w.items(data.STAFF)["schluessel"])
    assert first["anzahl"] == len(expected) and first["versand"] == "team@example.org; " \
        "lead@example.org"
    assert len(sink.messages) == 1
    body = message_from_bytes(sink.messages[0].content, policy=default).get_content()
    assert sorted(sink.messages[0].rcpt_tos) == ["lead@example.org", "team@example.org"]
    for name in w.items(data.STAFF)["name"].unique():
        assert name.split()[0] in body
    # a second run: nothing new, no mail, no digest row, no audit event
    events = len(_events())
    assert w.run_digest("watch", config) is None
    assert len(sink.messages) == 1 and len(_events()) == events
    assert wstore.reported_keys() == expected
    # lower the threshold: only the newly visible items are reported
    wstore.set_thresholds(data.STAFF, "anna", dauer_warnung_monate=1.0)
    third = w.run_digest("watch", config)
    new = set(w.items(data.STAFF)["schluessel"]) - expected
    assert new and third["anzahl"] == len(new) and len(sink.messages) == 2
    assert wstore.digests(data.STAFF).height == 2


def test_digest_with_unreachable_smtp_records_nothing_and_retries(demo):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # closed again: nobody listens
    config = {"host": "127.0.0.1", "port": port, "absender": "m@example.org",
              "digest_an": "team@example.org"}
    with pytest.raises(OSError):
        w.run_digest("watch", config)
    assert wstore.reported_keys() == set()
    assert w.run_digest("watch", {})["anzahl"] == w.items(data.STAFF).height  # in-app only


# ---- calendar feed -------------------------------------------------------------------------------


def test_ics_parses_and_holds_only_the_communes_own_items(demo, tmp_path):
    own, other = _two_communes()
    handlungsplan.save_measure(data.STAFF, "anna", other, FIELD, HOSTILE,
                               faellig=dt.date(2022, 6, 1))
    own_id = handlungsplan.save_measure(data.Viewer("kommune", own), "k", own, FIELD,
                                        "Eigene Maßnahme", faellig=dt.date(2022, 7, 1))
    raw = w.calendar_ics(data.Viewer("kommune", own), own)
    cal = Calendar.from_ical(raw)
    events = list(cal.walk("VEVENT"))
    assert events and all(str(e["UID"]).startswith(f"{own}-") for e in events)
    profile = data.load_kommune_profile(data.STAFF, own)
    planned = profile.milestones.filter(pl.col("erreicht_am").is_null()
                                        & pl.col("geplant_am").is_not_null())
    expected = ({f"{own}-meilenstein-{r}" for r in planned["reihenfolge"]}
                | {f"{own}-veranstaltung-{v}" for v in profile.uptake["veranstaltung_id"]}
                | {f"{own}-massnahme-{m}" for m in handlungsplan.measures(data.STAFF, own)
                   .filter(pl.col("zustand").is_in(["geplant", "begonnen"])
                           & pl.col("faellig").is_not_null())["id"]})
    assert {str(e["UID"]).split("@")[0] for e in events} == expected
    assert f"{own}-massnahme-{own_id}" in expected
    names = data.kommune_names()
    text = raw.decode()
    assert b"GEHEIM" not in raw and other not in text and names[other] not in text
    with pytest.raises(PermissionError):
        w.calendar_ics(data.Viewer("kommune", other), own)
    with pytest.raises(PermissionError):
        w.calendar_ics(data.PUBLIC, own)
    # the private link serves the same calendar
    token = wstore.new_calendar_token(data.Viewer("kommune", own), "k", own)
    assert w.feed_for_token(token) == raw


# ---- council brief -------------------------------------------------------------------------------


def _pptx_text(content: bytes) -> str:
    parts = []
    for slide in Presentation(io.BytesIO(content)).slides:
        for shape in slide.shapes:
            if shape.has_text_frame:
                parts.append(shape.text_frame.text)
            if shape.has_table:
                parts += [c.text for row in shape.table.rows for c in row.cells]
    return "\n".join(parts)


@pytest.mark.parametrize("lang", ["de", "en"])
def test_council_brief_holds_only_the_communes_own_data(demo, lang):
    own, other = _two_communes()
    handlungsplan.save_measure(data.Viewer("kommune", other), "o", other, FIELD, HOSTILE)
    notizen.add_note(data.STAFF, "anna", other, dt.date(2022, 1, 1), None, HOSTILE)
    handlungsplan.save_measure(data.Viewer("kommune", own), "k", own, FIELD, "Lange Tafel 2022",
                               faellig=dt.date(2022, 9, 30))
    brief = ratsbrief.collect(data.Viewer("kommune", own), own, lang)
    names = data.kommune_names()
    for content in (_pptx_text(ratsbrief.pptx_bytes(brief)),
                    "\n".join(p.extract_text() for p in
                              PdfReader(io.BytesIO(ratsbrief.pdf_bytes(brief))).pages)):
        assert names[own] in content and "Lange Tafel 2022" in content
        # the language's date format (30.09.2022 / 30 Sept 2022) and the field in it
        assert fmt.date(dt.date(2022, 9, 30), lang) in content
        assert " ".join(value(lang, "handlungsfeld", FIELD).split()) in " ".join(content.split())
        assert "GEHEIM" not in content
        others = [n for k, n in names.items() if k != own and n not in names[own]]
        leaked = [n for n in others if re.search(rf"(?<!\w){re.escape(n)}(?!\w)", content)]
        assert leaked == []
        assert not any(k in content for k in names if k != own and k not in own)
    with pytest.raises(PermissionError):
        ratsbrief.collect(data.Viewer("kommune", other), own)
    with pytest.raises(PermissionError):
        ratsbrief.collect(data.PUBLIC, own)
    assert ratsbrief.collect(data.STAFF, own).name == names[own]


def test_cohort_context_hides_counts_of_fewer_than_three_communes(use_db, demo_db):
    use_db(demo_db)
    a, b, c = list(data.kommune_names())[:3]
    for k in (a, b):
        handlungsplan.save_measure(data.STAFF, "anna", k, FIELD, "x", zustand="umgesetzt")
    ctx = handlungsplan.cohort_context(data.Viewer("kommune", a))
    assert ctx.filter(pl.col("handlungsfeld") == FIELD)["kommunen"].to_list() == [None]
    handlungsplan.save_measure(data.STAFF, "anna", c, FIELD, "x", zustand="umgesetzt")
    ctx = handlungsplan.cohort_context(data.Viewer("kommune", a))
    assert ctx.filter(pl.col("handlungsfeld") == FIELD).row(0) == (FIELD, 3, 3)


# ---- Handlungsplan -------------------------------------------------------------------------------


def test_handlungsplan_role_checks_and_audit(demo):
    own, other = _two_communes()
    me = data.Viewer("kommune", own)
    with pytest.raises(PermissionError):
        handlungsplan.save_measure(me, "k", other, FIELD, "fremd")
    with pytest.raises(PermissionError):
        handlungsplan.measures(me, other)
    with pytest.raises(PermissionError):
        handlungsplan.measures(data.PUBLIC, own)
    with pytest.raises(PermissionError):
        handlungsplan.all_measures(me)
    foreign = handlungsplan.measures(data.STAFF, other)["id"][0]
    with pytest.raises(PermissionError):  # an id of another commune cannot be taken over
        handlungsplan.save_measure(me, "k", own, FIELD, "x", measure_id=foreign)
    with pytest.raises(PermissionError):
        handlungsplan.delete_measure(me, "k", foreign)
    with pytest.raises(StoreError, match="Fälligkeitsdatum"):
        handlungsplan.save_measure(me, "k", own, FIELD, "x", beginn=dt.date(2022, 5, 1),
                                   faellig=dt.date(2022, 4, 1))
    new = handlungsplan.save_measure(me, "k", own, FIELD, HOSTILE, veranstaltungen=["b", "a"])
    row = handlungsplan.measures(me, own).filter(pl.col("id") == new).row(0, named=True)
    assert row["titel"] == HOSTILE and row["veranstaltungen"] == "a; b"
    event = _events()[-1]
    assert event["aktion"] == "massnahme_gespeichert" and event["details"]["kommune_id"] == own
    assert HOSTILE not in json.dumps(event)


def test_staff_cohort_view_counts_without_ranking(demo):
    measures = handlungsplan.all_measures(data.STAFF)
    counts = cohort_counts(measures, data.programme_rules().handlungsfelder)
    assert counts.columns == ["handlungsfeld", "geplant", "umgesetzt", "verworfen", "kommunen"]
    assert counts["handlungsfeld"].to_list() == list(data.query(
        "select handlungsfeld from ref_handlungsfeld order by nummer")["handlungsfeld"])
    assert counts["geplant"].sum() + counts["umgesetzt"].sum() + counts["verworfen"].sum() \
        == measures.height
    for r in counts.iter_rows(named=True):
        own = measures.filter(pl.col("handlungsfeld") == r["handlungsfeld"])
        assert r["umgesetzt"] == own.filter(pl.col("zustand") == "umgesetzt").height
        assert r["kommunen"] == own["kommune_id"].n_unique()
    missing = priorities_without_measure(data.priorities(data.STAFF), measures)
    assert not missing.is_empty()  # demo leaves some priorities open
    with duckdb.connect(str(demo), read_only=True) as con:
        prios = set(con.execute("select kommune_id, handlungsfeld from selbstcheck "
                                "where prioritaet").fetchall())
    assert set(missing.select("kommune_id", "handlungsfeld").rows()) == \
        prios - set(measures.select("kommune_id", "handlungsfeld").rows())
    late = handlungsplan.past_due(measures, data.kommune_names(), data.build_info().datenstand)
    assert not late.is_empty() and (late["faellig"] < data.build_info().datenstand).all()
    assert set(late["zustand"]) <= {"geplant", "begonnen"}


# ---- notes ---------------------------------------------------------------------------------------


def test_notes_visibility_in_the_data_layer(demo):
    own, other = _two_communes()
    staff_note = notizen.add_note(data.STAFF, "anna", own, dt.date(2022, 1, 10),
                                  dt.date(2022, 1, 20), "nur Team " + HOSTILE, "programmteam")
    shared = notizen.add_note(data.Viewer("kommune", own), "k", own, dt.date(2022, 2, 1), None,
                              "Kommunalwahl", "programmteam")  # a commune always shares
    me = data.Viewer("kommune", own)
    mine = notizen.notes(me, own)
    assert shared in mine["id"].to_list() and staff_note not in mine["id"].to_list()
    assert (mine["sichtbarkeit"] == "kommune").all()
    assert staff_note in notizen.notes(data.STAFF, own)["id"].to_list()
    period = notizen.notes_in_period(me, dt.date(2022, 1, 1), dt.date(2022, 1, 31))
    assert staff_note not in period["id"].to_list() and set(period["kommune_id"]) <= {own}
    for call in (lambda: notizen.notes(data.PUBLIC, own),
                 lambda: notizen.notes_in_period(data.PUBLIC, dt.date(2000, 1, 1),
                                                 dt.date(2030, 1, 1)),
                 lambda: notizen.add_note(data.PUBLIC, "p", own, dt.date(2022, 1, 1), None, "x"),
                 lambda: notizen.notes(data.Viewer("kommune", other), own)):
        with pytest.raises(PermissionError):
            call()
    with pytest.raises(PermissionError):
        notizen.delete_note(me, "k", staff_note)
    with pytest.raises(StoreError):
        notizen.add_note(me, "k", own, dt.date(2022, 2, 2), dt.date(2022, 2, 1), "x")


def _texts(at) -> str:
    parts = []
    for kind in ("markdown", "caption", "text", "title", "header", "subheader", "info",
                 "warning", "success", "metric", "text_input"):
        for el in getattr(at, kind):
            parts.append(str(getattr(el, "value", "")) + str(getattr(el, "label", "")))
    for frame in at.dataframe:
        parts.append(frame.value.to_csv())
    return "\n".join(parts)


def test_notes_never_reach_a_public_session(demo):
    from dashboard.app import pages_for

    own, _ = _two_communes()
    for vis in ("programmteam", "kommune"):
        notizen.add_note(data.STAFF, "anna", own, dt.date(2022, 1, 1), dt.date(2022, 3, 1),
                         f"NOTIZ-{vis}", vis)
    for page in pages_for("public"):
        at = open_tables(run_page(lambda p: p, demo, page, viewer=None, kommune=own))
        assert "NOTIZ-" not in _texts(at), page
    # control: the commune sees its shared note on its profile, not the team's
    at = open_tables(run_page(lambda p: p, demo, "kommune", viewer=data.Viewer("kommune", own),
                              kommune=own))
    text = _texts(at)
    assert "NOTIZ-kommune" in text and "NOTIZ-programmteam" not in text


def test_staff_pages_show_plan_watch_and_notes(demo):
    own, _ = _two_communes()
    handlungsplan.save_measure(data.STAFF, "anna", own, FIELD, HOSTILE)
    notizen.add_note(data.STAFF, "anna", own, dt.date(2021, 6, 1), None, "NOTIZ-staff",
                     "programmteam")
    at = run_page(lambda p: p, demo, "handlungsplan", plan_kommune=own)
    open_tables(at.selectbox(key="plan_kommune").set_value(own).run())
    assert HOSTILE in _texts(at)  # shown as table text, never as Markdown
    assert all(HOSTILE not in m.value for m in at.markdown)
    at = open_tables(run_page(lambda p: p, demo, "fristen"))
    assert "Regel:" in _texts(at) and at.dataframe
    at = open_tables(run_page(lambda p: p, demo, "fortschritt"))
    assert "NOTIZ-staff" in _texts(at)


@pytest.mark.parametrize(("lang", "days", "months", "overdue"),
                         [("de", "Tage überfällig", "Monate", "Meilenstein überfällig"),
                          ("en", "Days overdue", "Months", "milestone overdue")])
def test_fristen_table_shows_a_dash_where_a_row_has_no_number(demo, lang, days, months,
                                                              overdue):
    """Milestone rows have days, duration rows months: the other cell reads `–`, never a grey
    "None", and the numbers are the watch's own in the language's format."""
    at = run_page(lambda p: p, demo, "fristen", lang=lang)
    table = at.dataframe[0].value
    found = w.items(data.STAFF)
    assert found["tage"].null_count() and found["dauer_monate"].null_count()
    assert len(table) == found.height
    for column in (days, months):
        cells = table[column].tolist()
        assert None not in cells and "None" not in cells
    for row, cell_days, cell_months in zip(found.iter_rows(named=True), table[days],
                                           table[months], strict=True):
        assert cell_days == fmt.number(row["tage"], 0, lang)  # "–" when empty
        assert cell_months == fmt.number(row["dauer_monate"], 1, lang)
    assert overdue in table.iloc[:, 0].tolist()


def test_profile_path_shows_a_dash_where_a_priority_has_no_measure(demo):
    """A priority without a measure has no state: its cell reads `–`, never a grey "None"."""
    paths = {}
    for kommune_id in data.kommune_choices(data.STAFF)["kommune_id"].to_list():
        viewer = data.Viewer("kommune", kommune_id)
        prios = set(data.priorities(viewer, kommune_id)["handlungsfeld"].to_list())
        planned = set(handlungsplan.measures(viewer, kommune_id)["handlungsfeld"].to_list())
        if prios - planned:
            paths[kommune_id] = viewer
    assert paths, "the demo has a priority without a measure"
    kommune_id, viewer = next(iter(paths.items()))
    at = run_page(lambda p: p, demo, "kommune", viewer=viewer, kommune=kommune_id)
    table = next(d.value for d in at.dataframe if "Stand" in d.value.columns)
    assert "noch keine Maßnahme" in table["Maßnahme"].tolist()
    cells = table.to_numpy().ravel().tolist()
    assert None not in cells and "None" not in cells
    assert fmt.NONE in table["Stand"].tolist()


# ---- erasure -------------------------------------------------------------------------------------


def _store_bytes() -> bytes:
    path = db.store_path()
    return b"".join(p.read_bytes() for p in (path, Path(f"{path}-wal"), Path(f"{path}-shm"))
                    if p.exists())


def test_erasure_leaves_no_byte_of_plan_notes_watch_or_token(demo):
    _, other = _two_communes()
    own = w.items(data.STAFF)["kommune_id"][0]  # a commune named in the digest
    name = data.kommune_names()[own]
    marker = "GEHEIM-4e1d"
    handlungsplan.save_measure(data.STAFF, "anna", own, FIELD, f"Maßnahme {marker}",
                               partner=marker)
    notizen.add_note(data.STAFF, "anna", own, dt.date(2022, 1, 1), None, f"Notiz {marker}",
                     "programmteam")
    token = wstore.new_calendar_token(data.STAFF, "anna", own)
    token_hash = hashlib.sha256(token.encode()).hexdigest()
    w.run_digest("watch", {})
    notizen.add_note(data.STAFF, "anna", other, dt.date(2022, 1, 1), None, "bleibt", "kommune")
    before = _store_bytes()
    assert marker.encode() in before and token_hash.encode() in before
    assert token.encode() not in before  # only the hash of the link is stored
    assert name.encode() in before and f"({own})".encode() in before
    deleted = db.erase_kommune(own, "anna")
    assert {"massnahme", "zeitleisten_notiz", "kalender_link", "watch_gemeldet",
            "watch_digest_zeile"} <= set(deleted)
    after = _store_bytes()
    assert marker.encode() not in after and token_hash.encode() not in after
    assert w.feed_for_token(token) is None
    assert name.encode() not in after and f"({own})".encode() not in after
    assert wstore.digests(data.STAFF).height == 1  # the digest stays, without the commune
    assert f"|{own}|".encode() not in after and f"dauer|{own}".encode() not in after
    assert handlungsplan.measures(data.STAFF, own).is_empty()
    assert notizen.notes(data.STAFF, other)["text"].to_list() == ["bleibt"]


# ---- scheduled delivery --------------------------------------------------------------------------


def test_stichtag_rules():
    day = dt.date(2022, 3, 15)
    assert w.stichtag_for("quartalsende", day) == dt.date(2021, 12, 31)
    assert w.stichtag_for("monatsende", day) == dt.date(2022, 2, 28)
    assert w.stichtag_for("jahresende", day) == dt.date(2021, 12, 31)
    assert w.stichtag_for("datenstand", day) == day
    assert w.stichtag_for("quartalsende", dt.date(2022, 7, 1)) == dt.date(2022, 6, 30)


def test_delivery_to_outbox_skips_unchanged_builds_and_audits_every_send(demo, tmp_path,
                                                                           smtp_sink):
    with pytest.raises(StoreError):
        wstore.save_delivery(data.STAFF, "anna", "x", "kein-mail", "intern", "quartalsende",
                             ["xlsx"])
    with pytest.raises(PermissionError):
        wstore.save_delivery(data.Viewer("kommune", _two_communes()[0]), "k", "x",
                             "a@example.org", "intern", "quartalsende", ["xlsx"])
    wstore.save_delivery(data.STAFF, "anna", "Quartal", "rat@example.org", "oeffentlich",
                         "quartalsende", ["xlsx", "csv"])
    outbox = tmp_path / "outbox"
    sent = w.deliver_due("watch", None, outbox, today=dt.date(2026, 1, 10))
    assert len(sent) == 1
    files = sorted(p.name for p in Path(sent[0]).iterdir())
    name = "2019-11-05_2021-12-31_stichtag-2021-12-31_oeffentlich"  # period and Stichtag
    assert files == ["nachricht.txt", f"weltoffene-kommune_kennzahlen_{name}.xlsx",
                     f"weltoffene-kommune_kennzahlen_csv_{name}.zip"]
    assert w.deliver_due("watch", None, outbox, today=dt.date(2026, 1, 11)) == []  # unchanged
    sends = [e for e in _events() if e["aktion"].startswith("versand")]
    assert [e["aktion"] for e in sends] == ["versand_gespeichert", "versand"]
    # "send test now" goes by SMTP with the files attached and does not count as the delivery
    sink, config = smtp_sink
    row = wstore.deliveries(data.STAFF).row(0, named=True)
    assert w.send_delivery(row, "anna", config, None, dt.date(2026, 1, 12), test=True) == "smtp"
    message = email.message_from_bytes(sink.messages[-1].content, policy=email.policy.default)
    names = [part.get_filename() for part in message.iter_attachments()]
    assert f"weltoffene-kommune_kennzahlen_{name}.xlsx" in names and "(Test)" in message["Subject"]
    assert _events()[-1]["aktion"] == "versand_test"
    assert wstore.deliveries(data.STAFF)["letzter_hash"][0] == row["letzter_hash"]
    assert sorted(wstore.delivery_log(data.STAFF)["test"].to_list()) == [0, 1]  # one of each


def test_staff_edit_a_delivery_on_the_page_audited_with_confirmation(demo, tmp_path):
    """Fristen & Versand: change a delivery in its form (name, recipients, edition, rule,
    formats, paused); the store holds the change, the audit log has it, a German confirmation
    follows; a wrong address is refused with a German sentence and changes nothing."""
    did = wstore.save_delivery(data.STAFF, "anna", "Quartal", "rat@example.org", "oeffentlich",
                               "quartalsende", ["xlsx"])
    w.deliver_due("watch", None, tmp_path / "out", today=dt.date(2026, 1, 10))
    sent_hash = wstore.deliveries(data.STAFF)["letzter_hash"][0]
    at = run_page(lambda p: p, demo, "fristen")
    key = f"delivery_{did}"
    at.text_input(key=f"{key}_name").set_value("Jahr " + HOSTILE)
    at.text_input(key=f"{key}_to").set_value("rat@example.org; team@example.org")
    at.radio(key=f"{key}_edition").set_value("intern")
    at.selectbox(key=f"{key}_rule").set_value("jahresende")
    at.multiselect(key=f"{key}_formats").set_value(["xlsx", "csv"])
    at.checkbox(key=f"{key}_active").uncheck()
    next(b for b in at.button if b.key == f"FormSubmitter:{key}-Versand speichern").click()
    at.run()
    assert_ok(at)
    row = wstore.deliveries(data.STAFF).row(0, named=True)
    assert wstore.deliveries(data.STAFF).height == 1  # changed, not added
    assert (row["id"], row["name"], row["empfaenger"], row["ausgabe"], row["stichtag_regel"],
            row["formate"], row["aktiv"]) == (did, "Jahr " + HOSTILE,
                                             "rat@example.org; team@example.org", "intern",
                                             "jahresende", "xlsx; csv", 0)
    assert row["letzter_hash"] == sent_hash  # the send record is kept
    confirmation = [s.value for s in at.success]
    assert confirmation and confirmation[0].startswith("Änderungen am Versand „Jahr ")
    assert "![x]" not in confirmation[0] and "\\!\\[x\\]" in confirmation[0]  # escaped
    event = _events()[-1]
    assert event["aktion"] == "versand_gespeichert" and event["details"]["versand_id"] == did
    assert event["details"]["neu"] is False and event["details"]["aktiv"] is False
    assert "rat@example.org" not in json.dumps(event)  # no addresses in the audit log
    # paused: not sent by the scheduled run
    assert w.deliver_due("watch", None, tmp_path / "out", today=dt.date(2026, 1, 11)) == []
    # a wrong address: German error, nothing changed, no further audit event
    events = len(_events())
    at.text_input(key=f"{key}_to").set_value("kein-mail")
    next(b for b in at.button if b.key == f"FormSubmitter:{key}-Versand speichern").click()
    at.run()
    assert [e.value for e in at.error] and "E-Mail-Adressen" in at.error[0].value
    assert wstore.deliveries(data.STAFF)["empfaenger"][0] == "rat@example.org; team@example.org"
    assert len(_events()) == events
    # a delivery deleted meanwhile cannot be changed back into existence
    wstore.delete_delivery(data.STAFF, "anna", did)
    with pytest.raises(StoreError, match="gibt es nicht"):
        wstore.save_delivery(data.STAFF, "anna", "x", "a@example.org", "intern", "datenstand",
                             ["xlsx"], delivery_id=did)
    assert wstore.deliveries(data.STAFF).is_empty()


@given(day=st.dates(dt.date(2000, 1, 1), dt.date(2100, 12, 31)),
       rule=st.sampled_from(wstore.STICHTAG_REGELN))
def test_stichtag_is_a_period_end_not_after_the_reference(day, rule):
    got = w.stichtag_for(rule, day)
    assert got <= day
    if rule != "datenstand":
        nxt = got + dt.timedelta(days=1)
        assert nxt.day == 1 and got < day.replace(day=1) + dt.timedelta(days=1)
        assert {"monatsende": day - got < dt.timedelta(days=32),
                "quartalsende": nxt.month in (1, 4, 7, 10) and day - got < dt.timedelta(days=93),
                "jahresende": (got.month, got.day) == (12, 31) and got.year == day.year - 1,
                }[rule]


def test_a_commune_shares_a_measure_as_practice_card(demo):
    from dashboard.store import austausch

    own, other = _two_communes()
    me = data.Viewer("kommune", own)
    measure = handlungsplan.save_measure(me, "k", own, FIELD, "Lange Tafel im Ortskern",
                                         partner="Vereine", zustand="umgesetzt")
    with pytest.raises(PermissionError):
        handlungsplan.share_as_practice(data.Viewer("kommune", other), "o", measure)
    card = handlungsplan.share_as_practice(me, "k", measure, oeffentlich=True)
    seen = austausch.practices(data.Viewer("kommune", other)).filter(pl.col("id") == card)
    assert seen.row(0, named=True)["titel"] == "Lange Tafel im Ortskern"
    assert seen.row(0, named=True)["mit_wem"] == "Vereine"
    assert austausch.practices(data.PUBLIC).filter(pl.col("id") == card).is_empty()
    austausch.review_practice(data.STAFF, "anna", card, release=True)
    assert not austausch.practices(data.PUBLIC).filter(pl.col("id") == card).is_empty()


def test_a_commune_records_a_measure_on_its_page(demo):
    own, other = _two_communes()
    me = data.Viewer("kommune", own)
    at = run_page(lambda p: p, demo, "handlungsplan", viewer=me)
    assert not any(s.key == "plan_kommune" for s in at.selectbox)  # no choice of commune
    before = handlungsplan.measures(me, own).height
    form = [t for t in at.text_input if t.label == "Maßnahme"][0]
    form.input(HOSTILE)
    at.button(key="FormSubmitter:measure_neu-Speichern").click().run()
    assert_ok(at)
    after = handlungsplan.measures(me, own)
    assert after.height == before + 1 and HOSTILE in after["titel"].to_list()
    assert set(after["kommune_id"]) == {own}
    shown = _texts(at)
    names = data.kommune_names()
    assert names[other] not in shown


def test_profile_timeline_marks_notes_escaped(demo):
    from dashboard.action_views import with_notes

    own, _ = _two_communes()
    notizen.add_note(data.STAFF, "anna", own, dt.date(2021, 5, 1), dt.date(2021, 5, 20),
                     "<a href='javascript:x'>Wahl</a>", "kommune")
    import plotly.graph_objects as go

    fig = with_notes(go.Figure(), data.Viewer("kommune", own), own)
    texts = [a.text for a in fig.layout.annotations]
    assert texts == ["&lt;a href=&#x27;javascript:x&#x27;&gt;Wahl&lt;/a&gt;"]
    assert fig.layout.shapes[0].x0 == dt.date(2021, 5, 1)


def test_new_pages_render_in_english(demo):
    for page in ("handlungsplan", "fristen"):
        at = run_page(lambda p: p, demo, page, lang="en")
        assert_ok(at)
        assert at.title[0].value in ("Action plan", "Deadlines & delivery")


def test_command_line_digest_twice_feeds_and_outbox(demo, tmp_path):
    import subprocess
    import sys

    root = Path(__file__).resolve().parent.parent.parent
    wstore.save_delivery(data.STAFF, "anna", "Monat", "rat@example.org", "intern",
                         "monatsende", ["csv"])
    env = {**os.environ, "PYTHONPATH": str(root)}

    def cli(*args: str) -> str:
        done = subprocess.run([sys.executable, "-m", "dashboard.watch", *args], cwd=tmp_path,
                              env=env, capture_output=True, text=True, timeout=300)
        assert done.returncode == 0, done.stderr
        return done.stdout

    n = w.items(data.STAFF).height
    assert cli() == f"Zusammenfassung: {n} neue Einträge\n"
    assert cli("digest") == "Zusammenfassung: nichts Neues.\n"
    out = cli("alles", "--outbox", str(tmp_path / "out"))
    assert "nichts Neues" in out and "Berichtsversand: 1 versendet" in out
    assert "Berichtsversand: 0 versendet" in cli("versand", "--outbox", str(tmp_path / "out"))


def test_another_commune_sees_none_of_the_plan_or_notes_on_a_peer_profile(demo):
    own, other = _two_communes()
    handlungsplan.save_measure(data.STAFF, "anna", own, FIELD, "MASSNAHME-geheim")
    notizen.add_note(data.STAFF, "anna", own, dt.date(2022, 1, 1), None, "NOTIZ-geteilt",
                     "kommune")
    at = run_page(lambda p: p, demo, "kommune", viewer=data.Viewer("kommune", other),
                  kommune=own)
    text = _texts(at)
    assert data.kommune_names()[own] in text  # the peer's profile is open
    assert "MASSNAHME-geheim" not in text and "NOTIZ-geteilt" not in text
    assert not [b for b in at.button if b.key == "brief_make"]


def test_private_calendar_links_are_hashed_renewable_and_revocable(demo):
    own, other = _two_communes()
    commune = data.Viewer("kommune", own)
    assert wstore.calendar_link(commune, own) is None
    first = wstore.new_calendar_token(commune, "k", own)
    assert len(first) == 43 and wstore.kommune_for_token(first) == own
    assert wstore.calendar_link(commune, own)[:4] == str(dt.date.today().year)
    assert Calendar.from_ical(w.feed_for_token(first))
    other_token = wstore.new_calendar_token(data.STAFF, "anna", other)
    assert wstore.kommune_for_token(other_token) == other and other_token != first
    # only hashes in the store file
    store = _store_bytes()
    assert first.encode() not in store and other_token.encode() not in store
    # renewing ends the old link; revoking ends the new one; the other commune's link stays
    renewed = wstore.new_calendar_token(data.STAFF, "anna", own)
    assert wstore.kommune_for_token(first) is None and wstore.kommune_for_token(renewed) == own
    wstore.revoke_calendar_token(commune, "k", own)
    assert wstore.kommune_for_token(renewed) is None and w.feed_for_token(renewed) is None
    assert wstore.calendar_link(commune, own) is None
    assert wstore.kommune_for_token(other_token) == other
    # wrong, malformed and hostile tokens: all simply unknown
    for bad in ("", "x" * 43, first[:-1], first + "A", "../" + other_token, other_token.upper(),
                HOSTILE, "' or 1=1 --" + "a" * 32):
        assert w.feed_for_token(bad) is None
    # only the commune itself and staff manage its link; every change is audited, no token
    for viewer in (data.Viewer("kommune", other), data.PUBLIC):
        with pytest.raises(PermissionError):
            wstore.new_calendar_token(viewer, "o", own)
        with pytest.raises(PermissionError):
            wstore.revoke_calendar_token(viewer, "o", own)
        with pytest.raises(PermissionError):
            wstore.calendar_link(viewer, own)
    actions = [e for e in _events() if e["aktion"].startswith("kalender_link")]
    assert [(e["aktion"], e["details"].get("erneuert")) for e in actions] == [
        ("kalender_link_neu", False), ("kalender_link_neu", False), ("kalender_link_neu", True),
        ("kalender_link_widerrufen", None)]
    log = json.dumps(_events())
    assert first not in log and renewed not in log and other_token not in log
    # erasure ends the link too
    db.erase_kommune(other, "anna")
    assert w.feed_for_token(other_token) is None


def test_a_commune_makes_and_revokes_its_private_link_on_its_profile(demo, monkeypatch):
    """Profile: the commune makes its link (shown once, with the /kalender route), renews it
    (the old one stops) and revokes it, each with a German confirmation."""
    from dashboard import sessions

    monkeypatch.setattr(sessions, "ROUTES_SERVED", True)  # as under dashboard/server.py
    own, _ = _two_communes()
    me = data.Viewer("kommune", own)
    at = run_page(lambda p: p, demo, "kommune", viewer=me, kommune=own)
    assert "Noch kein privater Kalender-Link" in _texts(at)
    at.button(key="ics_renew").click().run()
    assert_ok(at)
    link = at.code[0].value
    match = re.fullmatch(r"http://localhost:8501/kalender/([A-Za-z0-9_-]{43})\.ics", link)
    assert match and wstore.kommune_for_token(match[1]) == own
    at.button(key="ics_renew").click().run()
    renewed = re.search(r"/kalender/([A-Za-z0-9_-]{43})\.ics", at.code[0].value)[1]
    assert renewed != match[1] and wstore.kommune_for_token(match[1]) is None
    assert "Der alte Link funktioniert nicht mehr" in at.success[0].value
    at.button(key="ics_revoke").click().run()
    assert_ok(at)
    assert wstore.kommune_for_token(renewed) is None and not at.code
    assert "widerrufen" in at.success[0].value
    assert "Noch kein privater Kalender-Link" in _texts(at)


def test_a_public_delivery_says_its_editions_can_be_subtracted(demo):
    """Each send of a public delivery is a public edition at its own Stichtag, audited on its
    own: the page says that two of them can be subtracted; an internal delivery needs no note."""
    wstore.save_delivery(data.STAFF, "anna", "Quartal öffentlich", "rat@example.org",
                         "oeffentlich", "quartalsende", ["xlsx"])
    wstore.save_delivery(data.STAFF, "anna", "Monat intern", "team@example.org", "intern",
                         "monatsende", ["xlsx"])
    at = run_page(lambda p: p, demo, "fristen")
    notes = [c.value for c in at.caption if "Aus zwei Sendungen" in c.value]
    assert len(notes) == 1
