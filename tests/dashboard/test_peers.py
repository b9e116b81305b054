"""Peer engine, its data-layer guard and the Vernetzung page.

Unit tests use small hand-made cohorts where the right answer is obvious; property tests
(hypothesis) check the invariants on random cohorts; AppTests drive the page on the demo data.
"""

from __future__ import annotations

import io
import re

import duckdb
import numpy as np
import openpyxl
import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from streamlit.testing.v1 import AppTest

from dashboard import data, peer_cards, peers, ui
from etl.schema import BUNDESLAENDER, HANDLUNGSFELDER, KOMMUNE_TYPEN, MEILENSTEINE, STATUS
from tests.dashboard.pagetest import run_page

ENGAGEMENT = "Engagement und Beteiligung"
KOMMUNIKATION = "Kommunikation und Konfliktmanagement"
ZUSAMMENHALT = "Zusammenhalt und Begegnung"

SCHEMA = {
    "kommune_id": pl.String, "name": pl.String, "typ": pl.String, "bundesland": pl.String,
    "einwohner": pl.Int32, "lat": pl.Float64, "lon": pl.Float64, "status": pl.String,
    "vernetzung_zustimmung": pl.Boolean, "phase_index": pl.Int64,
    "naechster_meilenstein": pl.String, "prioritaeten": pl.List(pl.String),
    "staende": pl.List(pl.Struct({"handlungsfeld": pl.String, "stand": pl.Int64})),
}


def kommune(kommune_id: str, name: str, *, typ: str = "Stadt", land: str = "Hessen",
            einwohner: int = 20_000, lat: float = 50.5, lon: float = 9.0,
            status: str = "aktiv", consent: bool = True, phase: int = 5,
            naechster: str | None = "Auswertung", prio: tuple[str, ...] = (),
            staende: dict[str, int] | None = None) -> dict:
    return {
        "kommune_id": kommune_id, "name": name, "typ": typ, "bundesland": land,
        "einwohner": einwohner, "lat": lat, "lon": lon, "status": status,
        "vernetzung_zustimmung": consent, "phase_index": phase, "naechster_meilenstein": naechster,
        "prioritaeten": list(prio),
        "staende": [{"handlungsfeld": h, "stand": s} for h, s in (staende or {}).items()],
    }


def features(*rows: dict) -> peers.PeerFeatures:
    return peers.PeerFeatures.from_frame(pl.DataFrame(list(rows), schema=SCHEMA))


# far apart: Flensburg, Passau, Aachen, Görlitz (no "nearby" bonus between them)
FAR = {"nord": (54.78, 9.44), "sued": (48.57, 13.43), "west": (50.78, 6.08),
       "ost": (51.15, 14.99)}


# ---- unit tests: hand-made cohorts ---------------------------------------------------------------


def test_same_priority_and_type_rank_above_nothing_in_common():
    f = features(
        kommune("01", "Eigene", prio=(ENGAGEMENT,), lat=FAR["nord"][0], lon=FAR["nord"][1],
                land="Schleswig-Holstein", einwohner=20_000, naechster=None),
        kommune("02", "Passend", prio=(ENGAGEMENT,), lat=FAR["sued"][0], lon=FAR["sued"][1],
                land="Bayern", einwohner=200_000, naechster=None),
        kommune("03", "Fremd", typ="Landkreis", prio=(KOMMUNIKATION,), land="Sachsen",
                lat=FAR["ost"][0], lon=FAR["ost"][1], einwohner=300_000, naechster=None),
        kommune("04", "Nur Land", typ="Landkreis", land="Schleswig-Holstein",
                lat=FAR["west"][0], lon=FAR["west"][1], einwohner=300_000, naechster=None),
    )
    result = peers.suggest(f, "01", n=5)
    assert result["name"].to_list() == ["Passend", "Nur Land"]  # "Fremd" shares nothing
    first = result.row(0, named=True)
    assert first["gruende"] == ["Beide haben „Engagement und Beteiligung“ als Schwerpunkt gewählt",
                                "ist ebenfalls eine Stadt"]
    assert result.row(1, named=True)["gruende"] == ["liegt ebenfalls in Schleswig-Holstein"]


def test_reasons_for_every_component_in_german_and_english():
    own = kommune("01", "Eigene", prio=(ENGAGEMENT, KOMMUNIKATION), naechster="Workshop",
                  staende={KOMMUNIKATION: 1, ENGAGEMENT: 2}, einwohner=38_000)
    peer = kommune("02", "Nachbar", prio=(ENGAGEMENT,), phase=7, lat=50.8, lon=9.2,
                   staende={KOMMUNIKATION: 4, ENGAGEMENT: 2}, einwohner=41_000)
    f = features(own, peer)
    de = peers.suggest(f, "01").row(0, named=True)["gruende"]
    distance = peers.haversine_km(*np.radians([50.5, 9.0]), *np.radians([[50.8], [9.2]]))[0]
    assert de == [
        "Beide haben „Engagement und Beteiligung“ als Schwerpunkt gewählt",
        "hat Erfahrung in „Kommunikation und Konfliktmanagement“",
        "hat den Workshop bereits durchgeführt",
        "ist ebenfalls eine Stadt",
        "ist ähnlich groß (41.000 Einwohner)",
        "liegt ebenfalls in Hessen",
        f"liegt {round(distance)} km entfernt",
    ]
    en = peers.suggest(f, "01", lang="en").row(0, named=True)["gruende"]
    assert en[0] == "Both chose “Engagement and participation” as a priority"
    assert en[2] == "has already held the workshop"
    assert en[4] == "is of similar size (41,000 inhabitants)"


def test_non_consenting_commune_never_appears_to_another_commune():
    f = features(
        kommune("01", "Eigene", prio=(ENGAGEMENT,)),
        kommune("02", "Ohne Zustimmung", prio=(ENGAGEMENT,), consent=False),  # best match
        kommune("03", "Mit Zustimmung", prio=(ENGAGEMENT,), typ="Gemeinde", lat=51.5),
    )
    assert peers.suggest(f, "01")["name"].to_list() == ["Ohne Zustimmung", "Mit Zustimmung"]
    assert peers.suggest(f, "01", only_consenting=True)["name"].to_list() == ["Mit Zustimmung"]


def test_selbstcheck_levels_never_leak_into_reasons():
    """Texts depend on levels only through "has experience": 3 vs 4 reads the same, and with
    numbers that cannot be levels (population, no distance) no digit 1–4 appears at all."""
    weights = peers.PeerWeights(nearby=0.0)

    def reasons(peer_stand: int) -> list[list[str]]:
        f = features(
            kommune("01", "Eigene", prio=tuple(HANDLUNGSFELDER),
                    staende=dict.fromkeys(HANDLUNGSFELDER, 1), einwohner=50_000),
            kommune("02", "Peer", prio=tuple(HANDLUNGSFELDER[:3]), einwohner=60_000,
                    staende=dict.fromkeys(HANDLUNGSFELDER, peer_stand), phase=8),
        )
        return peers.suggest(f, "01", weights=weights)["gruende"].to_list()

    three, four = reasons(3), reasons(4)
    assert three == four
    text = " ".join(three[0])
    assert "Erfahrung" in text
    assert not re.search(r"[1-4]", text), text


def test_experience_needs_a_higher_level_in_a_prioritised_field():
    f = features(
        kommune("01", "Eigene", prio=(KOMMUNIKATION,), staende={KOMMUNIKATION: 3,
                                                                 ENGAGEMENT: 1}),
        kommune("02", "Gleich", staende={KOMMUNIKATION: 3}, typ="Gemeinde", land="Bayern"),
        kommune("03", "Anderes Feld", staende={ENGAGEMENT: 4}, typ="Gemeinde", land="Bayern"),
        kommune("04", "Erfahren", staende={KOMMUNIKATION: 4}, typ="Gemeinde", land="Bayern"),
    )
    comp = peers.score_components(f, "01")
    assert comp.experience.sum(axis=1).tolist() == [0, 0, 0, 1]


def test_one_step_ahead_uses_the_next_milestone():
    f = features(
        kommune("01", "Eigene", naechster="Workshop", phase=6),
        kommune("02", "Voraus", phase=7, typ="Gemeinde", land="Bayern"),
        kommune("03", "Gleichauf", phase=6, typ="Gemeinde", land="Bayern"),
    )
    assert peers.score_components(f, "01").step_ahead.tolist() == [False, True, False]


def test_topic_filter_and_distance_limit():
    f = features(
        kommune("01", "Eigene", prio=(ENGAGEMENT, KOMMUNIKATION)),
        kommune("02", "Engagiert nah", prio=(ENGAGEMENT,), lat=50.6),
        kommune("03", "Kommunikativ fern", prio=(KOMMUNIKATION,), lat=FAR["nord"][0],
                lon=FAR["nord"][1]),
        kommune("04", "Erfahren fern", staende={KOMMUNIKATION: 4}, lat=FAR["sued"][0],
                lon=FAR["sued"][1]),
    )
    only_topic = peers.suggest(f, "01", topic=KOMMUNIKATION)
    assert set(only_topic["name"]) == {"Kommunikativ fern", "Erfahren fern"}
    assert all(any("Kommunikation und Konfliktmanagement" in r for r in rs)
               for rs in only_topic["gruende"])
    near = peers.suggest(f, "01", max_km=50)
    assert near["name"].to_list() == ["Engagiert nah"]
    assert near["distanz_km"].item() < 50


def test_communes_that_left_are_not_suggested_and_self_never():
    f = features(kommune("01", "Eigene", prio=(ENGAGEMENT,)),
                 kommune("02", "Ausgeschieden", prio=(ENGAGEMENT,), status="ausgeschieden"))
    assert peers.suggest(f, "01").is_empty()


def test_group_sizes():
    assert peers.group_sizes(37, 4, 6) == [6, 6, 5, 5, 5, 5, 5]
    assert peers.group_sizes(0, 4, 6) == []
    with pytest.raises(peers.GroupSizeError, match="7 Kommunen lassen sich nicht"):
        peers.group_sizes(7, 4, 6)
    with pytest.raises(peers.GroupSizeError, match="ungültig"):
        peers.group_sizes(10, 5, 4)


def test_groups_bring_shared_priorities_together_and_say_why():
    rows = [kommune(f"{i:02d}", f"E{i}", prio=(ENGAGEMENT,), land=BUNDESLAENDER[i],
                    staende={ENGAGEMENT: 1 + i % 4}) for i in range(4)]
    rows += [kommune(f"{i:02d}", f"K{i}", prio=(KOMMUNIKATION,), land=BUNDESLAENDER[i],
                     staende={KOMMUNIKATION: 1 + i % 4}) for i in range(4, 8)]
    f = features(*rows)
    result = peers.build_groups(f, [r["kommune_id"] for r in rows], size_min=4, size_max=4)
    groups = {frozenset(m["name"]) for m in result.members.partition_by("gruppe")}
    assert groups == {frozenset({"E0", "E1", "E2", "E3"}), frozenset({"K4", "K5", "K6", "K7"})}
    why = result.groups.filter(pl.col("kommunen").list.contains("E0"))["begruendung"].item()
    assert why.startswith("Gemeinsame Schwerpunkte: „Engagement und Beteiligung“ (4/4).")
    assert "Erfahrung in „Engagement und Beteiligung“ bringen mit: E2, E3." in why
    assert "Aus 4 Ländern" in why


def test_groups_for_a_topic_put_its_communes_first():
    rows = [kommune(f"{i:02d}", f"T{i}", prio=(ZUSAMMENHALT,)) for i in range(3)]
    rows += [kommune(f"{i:02d}", f"X{i}", prio=(ENGAGEMENT,)) for i in range(3, 6)]
    f = features(*rows)
    result = peers.build_groups(f, [r["kommune_id"] for r in rows], topic=ZUSAMMENHALT,
                                size_min=3, size_max=3)
    first = result.groups.row(0, named=True)
    assert sorted(first["kommunen"]) == ["T0", "T1", "T2"]
    assert first["begruendung"].startswith(
        "3 von 3 Kommunen haben „Zusammenhalt und Begegnung“ als Schwerpunkt gewählt.")


def test_xlsx_export_keeps_text_inert_and_numbers_numeric():
    frame = pl.DataFrame({"Kommune": ["=SUM(1) Göttingen", "Lemgo"], "Einwohner": [328_074, 40_696],
                          "Gründe": [["a", "b"], ["c"]]})
    book = openpyxl.load_workbook(io.BytesIO(peer_cards.xlsx_bytes({"Liste": frame})))
    sheet = book["Liste"]
    assert [c.value for c in sheet[1]] == ["Kommune", "Einwohner", "Gründe"]
    assert sheet["A2"].value == "'=SUM(1) Göttingen" and sheet["A2"].data_type == "s"
    assert sheet["B2"].value == 328_074
    assert sheet["C2"].value == "a; b"


# ---- property tests ------------------------------------------------------------------------------


@st.composite
def cohorts(draw: st.DrawFn, min_size: int = 2, max_size: int = 14) -> pl.DataFrame:
    n = draw(st.integers(min_size, max_size))
    rows = []
    for i in range(n):
        prio = draw(st.lists(st.sampled_from(HANDLUNGSFELDER), max_size=4, unique=True))
        fields = draw(st.lists(st.sampled_from(HANDLUNGSFELDER), max_size=7, unique=True))
        rows.append(kommune(
            f"{i:05d}", f"K{i}", typ=draw(st.sampled_from(KOMMUNE_TYPEN)),
            land=draw(st.sampled_from(BUNDESLAENDER[:5])),
            einwohner=draw(st.integers(500, 2_000_000)),
            lat=draw(st.floats(47.3, 55.0)), lon=draw(st.floats(5.9, 15.0)),
            status=draw(st.sampled_from(STATUS)), consent=draw(st.booleans()),
            phase=draw(st.integers(0, 8)),
            naechster=draw(st.none() | st.sampled_from(MEILENSTEINE)), prio=tuple(prio),
            staende={h: draw(st.integers(1, 4)) for h in fields}))
    return pl.DataFrame(rows, schema=SCHEMA)


PROPS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@PROPS
@given(cohorts())
def test_symmetric_components_are_symmetric(frame: pl.DataFrame):
    f = peers.PeerFeatures.from_frame(frame)
    comps = {k: peers.score_components(f, k) for k in f.ids}
    for a in range(f.size):
        for b in range(f.size):
            ca, cb = comps[f.ids[a]], comps[f.ids[b]]
            assert (ca.shared[b] == cb.shared[a]).all()
            for name in ("same_type", "similar_size", "same_state"):
                assert getattr(ca, name)[b] == getattr(cb, name)[a]
            assert ca.distance_km[b] == pytest.approx(cb.distance_km[a], abs=1e-6)
            assert ca.nearby[b] == pytest.approx(cb.nearby[a], abs=1e-9)


@PROPS
@given(cohorts(), st.none() | st.sampled_from(HANDLUNGSFELDER), st.booleans(), st.randoms())
def test_suggestions_are_deterministic_and_always_explained(frame, topic, consenting, rnd):
    f = peers.PeerFeatures.from_frame(frame)
    shuffled = peers.PeerFeatures.from_frame(frame.sample(fraction=1.0, shuffle=True,
                                                          seed=rnd.randint(0, 10**6)))
    for k in f.ids:
        a = peers.suggest(f, k, n=4, topic=topic, only_consenting=consenting)
        b = peers.suggest(f, k, n=4, topic=topic, only_consenting=consenting)
        c = peers.suggest(shuffled, k, n=4, topic=topic, only_consenting=consenting)
        assert a.equals(b) and a.equals(c)
        assert all(len(reasons) >= 1 for reasons in a["gruende"])
        assert k not in a["kommune_id"].to_list()
        if consenting:
            allowed = set(frame.filter(pl.col("vernetzung_zustimmung"))["kommune_id"])
            assert set(a["kommune_id"]) <= allowed
        scores = a["punkte"].to_list()
        assert scores == sorted(scores, reverse=True) and all(s > 0 for s in scores)


@PROPS
@given(cohorts(min_size=1, max_size=40), st.integers(1, 6), st.integers(0, 4),
       st.none() | st.sampled_from(HANDLUNGSFELDER), st.randoms())
def test_group_builder_partitions_within_bounds(frame, size_min, extra, topic, rnd):
    size_max = size_min + extra
    f = peers.PeerFeatures.from_frame(frame)
    ids = frame["kommune_id"].to_list()
    n = len(ids)
    feasible = -(-n // size_max) * size_min <= n
    if not feasible:
        with pytest.raises(peers.GroupSizeError):
            peers.build_groups(f, ids, topic=topic, size_min=size_min, size_max=size_max)
        return
    result = peers.build_groups(f, ids, topic=topic, size_min=size_min, size_max=size_max)
    assert sorted(result.members["kommune_id"].to_list()) == sorted(ids)  # each exactly once
    sizes = result.members.group_by("gruppe").len()["len"].to_list()
    assert all(size_min <= s <= size_max for s in sizes)
    assert result.groups["groesse"].sum() == n
    assert sorted(result.groups["gruppe"].to_list()) == list(range(1, len(sizes) + 1))
    rnd.shuffle(ids)
    again = peers.build_groups(f, ids, topic=topic, size_min=size_min, size_max=size_max)
    assert again.members.equals(result.members) and again.groups.equals(result.groups)


# ---- data layer: who sees what -------------------------------------------------------------------


def _demo_frame(db) -> pl.DataFrame:
    with duckdb.connect(str(db), read_only=True) as con:
        return con.sql("select * from mart_peer_merkmale order by kommune_id").pl()


def test_data_layer_hides_non_consenting_communes_from_communes(use_db, demo_db):
    use_db(demo_db)
    frame = _demo_frame(demo_db)
    refusing = set(frame.filter(~pl.col("vernetzung_zustimmung"))["kommune_id"])
    assert refusing  # the demo has communes without consent, so the check means something
    seen_by_staff: set[str] = set()
    for kid in frame["kommune_id"]:
        mine = data.peer_suggestions(data.Viewer("kommune", kid), kid, n=40)
        assert not set(mine["kommune_id"]) & refusing
        assert "punkte" not in mine.columns
        seen_by_staff |= set(data.peer_suggestions(data.STAFF, kid, n=40)["kommune_id"])
    assert seen_by_staff & refusing  # staff see everyone


def test_data_layer_guards_access_and_levels(use_db, demo_db):
    use_db(demo_db)
    frame = _demo_frame(demo_db)
    own, other = frame["kommune_id"][0], frame["kommune_id"][1]
    viewer = data.Viewer("kommune", own)
    with pytest.raises(PermissionError):
        data.peer_suggestions(viewer, other)
    with pytest.raises(PermissionError):
        data.peer_suggestions(data.PUBLIC, own)
    with pytest.raises(PermissionError):
        data.peer_groups(viewer)
    visible = data.load_peer_features(viewer)
    others = visible.filter(pl.col("kommune_id") != own)
    assert others["staende"].null_count() == others.height
    assert others["prioritaeten"].null_count() == others.height
    assert others["vernetzung_zustimmung"].all()
    assert visible.filter(pl.col("kommune_id") == own)["staende"].list.len().item() == len(
        frame.filter(pl.col("kommune_id") == own)["staende"].item())


def test_data_layer_groups_exclude_communes_that_left(use_db, demo_db):
    use_db(demo_db)
    frame = _demo_frame(demo_db)
    split = data.peer_groups(data.STAFF, size_min=4, size_max=6)
    left = frame.filter(pl.col("status") == "ausgeschieden").height
    assert split.ausgewaehlt == frame.height and split.ausgelassen == left
    assert split.groups is not None and split.fehler is None
    assert split.groups.members.height == frame.height - left
    assert {"ansprechperson", "email"} <= set(split.groups.members.columns)


# ---- the page ------------------------------------------------------------------------------------


def _page(use_db, db, viewer: data.Viewer = data.STAFF, **params: str) -> AppTest:
    return run_page(use_db, db, "vernetzung", viewer=viewer, **params)


def _card_names(at: AppTest) -> list[str]:
    return [m.value.strip("*").replace("\\", "") for m in at.markdown
            if re.fullmatch(r"\*\*[^*]+\*\*", m.value) and "Gruppe" not in m.value
            and "Gruppen" not in m.value]


def _expected(db, kid: str, n: int = 6, **kw) -> pl.DataFrame:
    return peers.suggest(peers.PeerFeatures.from_frame(_demo_frame(db)), kid, n=n, **kw)


def test_page_staff_shows_the_engines_suggestions_and_groups(use_db, demo_db):
    at = _page(use_db, demo_db)
    frame = _demo_frame(demo_db)
    kid = frame.filter(pl.col("prioritaeten").list.len() > 0)["kommune_id"][0]
    at.selectbox(key="peers_kommune").set_value(kid).run()
    assert not at.exception
    expected = _expected(demo_db, kid)
    names = _card_names(at)
    assert names[: expected.height] == expected["name"].to_list()
    reasons = [m.value for m in at.markdown if m.value.startswith("- ")]
    assert reasons[0] == "\n".join(f"- {ui.md_escape(r)}"
                                   for r in expected["gruende"][0])
    # group builder: the same split as the engine on the communes still in the programme
    ids = frame.filter(pl.col("status") != "ausgeschieden")["kommune_id"].to_list()
    groups = peers.build_groups(peers.PeerFeatures.from_frame(frame), ids)
    assert any(m.value == f"**{groups.groups.height} Gruppen für {len(ids)} Kommunen**"
               for m in at.markdown)
    first = groups.groups.row(0, named=True)
    assert any(m.value == " · ".join(ui.md_escape(k) for k in first["kommunen"])
               for m in at.markdown)
    assert at.query_params["kommune"] == kid


def test_page_topic_and_distance_controls(use_db, demo_db):
    at = _page(use_db, demo_db)
    kid = at.selectbox(key="peers_kommune").value
    at.selectbox(key="peers_topic").set_value(KOMMUNIKATION).run()
    expected = _expected(demo_db, kid, topic=KOMMUNIKATION)
    assert _card_names(at)[: expected.height] == expected["name"].to_list()
    at.select_slider(key="peers_max_km").set_value(25).run()
    expected = _expected(demo_db, kid, topic=KOMMUNIKATION, max_km=25)
    if expected.is_empty():
        assert any("Keine passenden Kommunen gefunden" in i.value for i in at.info)
    else:
        assert _card_names(at)[: expected.height] == expected["name"].to_list()


def test_page_for_a_commune_shows_only_its_own_consenting_peers(use_db, demo_db):
    frame = _demo_frame(demo_db)
    kid = frame.filter(pl.col("prioritaeten").list.len() > 0)["kommune_id"][-1]
    at = _page(use_db, demo_db, data.Viewer("kommune", kid))
    assert not [s for s in at.selectbox if s.key == "peers_kommune"]
    own_name = frame.filter(pl.col("kommune_id") == kid)["name"].item()
    assert any(ui.md_escape(own_name) in m.value and "Ihre Kommune" in m.value
               for m in at.markdown)
    expected = _expected(demo_db, kid, only_consenting=True)
    assert _card_names(at)[: expected.height] == expected["name"].to_list()
    assert not any("Austauschgruppen" in h.value for h in at.header)
    refusing = set(frame.filter(~pl.col("vernetzung_zustimmung"))["name"])
    assert not set(_card_names(at)) & refusing
    # nothing on the page carries a Selbstcheck level column
    for table in at.dataframe:
        assert not {"stand", "staende", "Stand"} & set(table.value.columns)


def test_page_in_english(use_db, demo_db):
    at = _page(use_db, demo_db, lang="en")
    assert at.title[0].value == "Networking"
    assert any(m.value.startswith("- ") and ("Both chose" in m.value or "is also" in m.value)
               for m in at.markdown)


def test_kommune_page_shows_top_three_suggestions(use_db, demo_db):
    """`peer_cards.render_peer_cards` as the Kommune page uses it."""
    frame = _demo_frame(demo_db)
    kid = frame.filter(pl.col("prioritaeten").list.len() > 0,
                       pl.col("vernetzung_zustimmung"))["kommune_id"][0]
    at = run_page(use_db, demo_db, "kommune", kommune=kid)
    expected = _expected(demo_db, kid, n=3)
    assert _card_names(at)[-3:] == expected["name"].to_list()
    own = run_page(use_db, demo_db, "kommune", viewer=data.Viewer("kommune", kid), kommune=kid)
    assert _card_names(own)[-3:] == _expected(demo_db, kid, n=3, only_consenting=True)[
        "name"].to_list()
    other = frame.filter(pl.col("kommune_id") != kid)["kommune_id"][0]
    theirs = run_page(use_db, demo_db, "kommune", viewer=data.Viewer("kommune", kid),
                      kommune=other)
    assert any("nur für sich selbst" in c.value for c in theirs.caption)


def test_page_group_builder_follows_sidebar_filters_and_explains_bad_sizes(use_db, demo_db):
    frame = _demo_frame(demo_db)
    land = "Sachsen"
    at = _page(use_db, demo_db, bundesland=land)
    in_land = frame.filter(pl.col("bundesland") == land)
    active = in_land.filter(pl.col("status") != "ausgeschieden")
    assert any(c.value.startswith(f"Auswahl: {in_land.height} Kommunen") for c in at.caption)
    at.slider(key="peers_group_size").set_value((2, 3)).run()
    groups = peers.build_groups(peers.PeerFeatures.from_frame(frame),
                                active["kommune_id"].to_list(), size_min=2, size_max=3)
    assert any(m.value == f"**{groups.groups.height} Gruppen für {active.height} Kommunen**"
               for m in at.markdown)
    shown = at.dataframe[-1].value
    assert shown["Kommune"].tolist() == groups.members["name"].to_list()
    assert shown["Gruppe"].tolist() == groups.members["gruppe"].to_list()
    at.slider(key="peers_group_size").set_value((active.height + 1, active.height + 2)).run()
    assert any("lassen sich nicht in Gruppen" in w.value for w in at.warning)
    assert any(c.value.startswith(f"Auswahl: {in_land.height} Kommunen") for c in at.caption)
