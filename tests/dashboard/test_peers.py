"""Peer engine, its data-layer guard and the Vernetzung page.

Unit tests use small hand-made cohorts where the right answer is obvious; property tests
(hypothesis) check the invariants on random cohorts; AppTests drive the page on the demo data.
"""

from __future__ import annotations

import dataclasses
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

from dashboard import data, peers, ui
from dashboard.report import xlsx as report_xlsx
from dashboard.store import austausch, demo
from etl.schema import BUNDESLAENDER, HANDLUNGSFELDER, KOMMUNE_TYPEN, MEILENSTEINE, STATUS
from tests.dashboard.pagetest import open_tables, run_page

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


def features(*rows: dict, entries: tuple = (), practices: tuple = ()) -> peers.PeerFeatures:
    """Communes plus entries `(kommune_id, art, field, text[, visibility])` and practice cards
    `(kommune_id, field, title)`."""
    entry_rows = [dict(zip(peers.ENTRY_COLUMNS, (*e, "modellkommunen")[:5], strict=True))
                  for e in entries]
    practice_rows = [dict(zip(peers.PRACTICE_COLUMNS, p, strict=True)) for p in practices]
    return peers.PeerFeatures.from_frame(
        pl.DataFrame(list(rows), schema=SCHEMA),
        pl.DataFrame(entry_rows, schema=dict.fromkeys(peers.ENTRY_COLUMNS, pl.String)),
        pl.DataFrame(practice_rows, schema=dict.fromkeys(peers.PRACTICE_COLUMNS, pl.String)))


def commune_view(f: peers.PeerFeatures, kid: str, **kw) -> pl.DataFrame:
    """What the data layer runs for a commune viewer."""
    return peers.suggest(f.for_kommune(kid), kid, **kw)


# far apart: Flensburg, Passau, Aachen, Görlitz (no "nearby" bonus between them)
FAR = {"nord": (54.78, 9.44), "sued": (48.57, 13.43), "west": (50.78, 6.08),
       "ost": (51.15, 14.99)}


# ---- unit tests: hand-made cohorts ---------------------------------------------------------------


def test_a_published_offer_for_my_need_comes_first_and_the_reason_names_both():
    f = features(
        kommune("01", "Eigene", lat=FAR["nord"][0], lon=FAR["nord"][1],
                land="Schleswig-Holstein", naechster=None),
        kommune("02", "Bietet", lat=FAR["sued"][0], lon=FAR["sued"][1], land="Bayern",
                einwohner=200_000, naechster=None),
        kommune("03", "Sucht auch", lat=FAR["west"][0], lon=FAR["west"][1],
                land="Nordrhein-Westfalen", einwohner=300_000, naechster=None),
        kommune("04", "Nichts", typ="Landkreis", land="Sachsen", lat=FAR["ost"][0],
                lon=FAR["ost"][1], einwohner=300_000, naechster=None),
        entries=(("01", "gesuch", ENGAGEMENT, "Junge Menschen gewinnen"),
                 ("02", "angebot", ENGAGEMENT, "Jugendbeirat mit Budget"),
                 ("03", "gesuch", ENGAGEMENT, "Ehrenamt stärken")))
    result = commune_view(f, "01", n=5)
    assert result["name"].to_list() == ["Bietet", "Sucht auch"]  # "Nichts" published nothing
    assert result["gruende"][0].to_list() == [
        "bietet zu „Engagement und Beteiligung“: „Jugendbeirat mit Budget“ – passt zu Ihrem "
        "Gesuch „Junge Menschen gewinnen“",
        "ist ebenfalls eine Stadt"]
    assert result["gruende"][1].to_list()[0] == (
        "sucht ebenfalls Austausch zu „Engagement und Beteiligung“: „Ehrenamt stärken“")


def test_reasons_for_every_kind_in_german_and_english():
    own = kommune("01", "Eigene", naechster="Workshop", einwohner=38_000)
    peer = kommune("02", "Nachbar", phase=7, lat=50.8, lon=9.2, einwohner=41_000)
    f = features(own, peer, entries=(
        ("01", "gesuch", ENGAGEMENT, "Ehrenamt"), ("01", "angebot", KOMMUNIKATION, "Leitfaden"),
        ("02", "gesuch", KOMMUNIKATION, "Konflikte um Unterkünfte"),
        ("01", "gesuch", ZUSAMMENHALT, "Begegnung"), ("02", "gesuch", ZUSAMMENHALT, "Feste")),
        practices=(("02", ENGAGEMENT, "Quartiersrat"),))
    de = commune_view(f, "01").row(0, named=True)["gruende"]
    distance = peers.haversine_km(*np.radians([50.5, 9.0]), *np.radians([[50.8], [9.2]]))[0]
    assert de == [
        "hat eine Praxis zu „Engagement und Beteiligung“: „Quartiersrat“",
        # equal weights: in Handlungsfeld order
        "sucht ebenfalls Austausch zu „Zusammenhalt und Begegnung“: „Feste“",
        "sucht zu „Kommunikation und Konfliktmanagement“: „Konflikte um Unterkünfte“ – passt "
        "zu Ihrem Angebot „Leitfaden“",
        "hat den Workshop bereits durchgeführt",
        "ist ebenfalls eine Stadt",
        "ist ähnlich groß (41.000 Einwohner)",
        "liegt ebenfalls in Hessen",
        f"liegt {round(distance)} km entfernt",
    ]
    en = commune_view(f, "01", lang="en").row(0, named=True)["gruende"]
    assert en[0] == "has a practice card on “Engagement and participation”: “Quartiersrat”"
    assert any("Hesse" in r for r in en) and not any("Hessen" in r for r in en)
    assert en[3] == "has already held the workshop"
    assert en[5] == "is of similar size (41,000 inhabitants)"


def test_unpublished_entries_count_only_for_staff_and_their_owner():
    f = features(
        kommune("01", "Eigene"), kommune("02", "Intern", typ="Gemeinde", land="Bayern"),
        entries=(("01", "gesuch", ENGAGEMENT, "eigener Entwurf", "programmteam"),
                 ("02", "angebot", ENGAGEMENT, "nur fürs Team", "programmteam"),
                 ("02", "gesuch", KOMMUNIKATION, "öffentlich")))
    # the commune's own draft counts for itself; the peer's team-only offer does not
    seen = commune_view(f, "01")
    assert seen.is_empty()  # nothing published matches the own need
    staff = peers.suggest(f, "01", staff=True)
    assert staff["gruende"][0].to_list()[0].startswith(
        "bietet zu „Engagement und Beteiligung“: „nur fürs Team“")


def test_selbstcheck_counts_for_staff_only_and_reasons_never_name_levels():
    own = kommune("01", "Eigene", prio=(KOMMUNIKATION,), staende={KOMMUNIKATION: 1})
    peer = kommune("02", "Erfahren", prio=(KOMMUNIKATION,), staende={KOMMUNIKATION: 4},
                   typ="Gemeinde", land="Bayern", lat=FAR["sued"][0], lon=FAR["sued"][1],
                   einwohner=90_000)
    f = features(own, peer)
    staff = peers.suggest(f, "01", staff=True)["gruende"][0].to_list()
    assert staff == ["Selbstcheck (nur Programmteam): beide haben „Kommunikation und "
                     "Konfliktmanagement“ als Schwerpunkt"]
    assert not re.search(r"[1-4]", " ".join(staff))
    view = f.for_kommune("01")
    assert not view.prio.any() and not view.stand.any()
    assert view.full is False
    # without published entries the commune gets context-only suggestions, never Selbstcheck
    assert all("Selbstcheck" not in r for rs in commune_view(f, "01")["gruende"] for r in rs)


def test_experience_needs_a_higher_level_in_a_prioritised_field_for_staff():
    f = features(
        kommune("01", "Eigene", prio=(KOMMUNIKATION,), staende={KOMMUNIKATION: 3,
                                                                 ENGAGEMENT: 1}),
        kommune("02", "Gleich", staende={KOMMUNIKATION: 3}, typ="Gemeinde", land="Bayern"),
        kommune("03", "Anderes Feld", staende={ENGAGEMENT: 4}, typ="Gemeinde", land="Bayern"),
        kommune("04", "Erfahren", staende={KOMMUNIKATION: 4}, typ="Gemeinde", land="Bayern"),
    )
    comp = peers.score_components(f, "01", staff=True)
    assert comp.kinds["selbstcheck_experience"].sum(axis=1).tolist() == [0, 0, 0, 1]
    assert not peers.score_components(f, "01").kinds["selbstcheck_experience"].any()


def test_one_step_ahead_uses_the_next_milestone():
    f = features(
        kommune("01", "Eigene", naechster="Workshop", phase=6),
        kommune("02", "Voraus", phase=7, typ="Gemeinde", land="Bayern"),
        kommune("03", "Gleichauf", phase=6, typ="Gemeinde", land="Bayern"),
    )
    assert peers.score_components(f, "01").step_ahead.tolist() == [False, True, False]


def test_topic_filter_and_distance_limit():
    f = features(
        kommune("01", "Eigene"),
        kommune("02", "Engagiert nah", lat=50.6),
        kommune("03", "Kommunikativ fern", lat=FAR["nord"][0], lon=FAR["nord"][1]),
        kommune("04", "Bietet fern", lat=FAR["sued"][0], lon=FAR["sued"][1]),
        entries=(("01", "gesuch", ENGAGEMENT, "a"), ("01", "gesuch", KOMMUNIKATION, "b"),
                 ("02", "gesuch", ENGAGEMENT, "c"), ("03", "gesuch", KOMMUNIKATION, "d"),
                 ("04", "angebot", KOMMUNIKATION, "e")))
    only_topic = commune_view(f, "01", topic=KOMMUNIKATION)
    assert only_topic["name"].to_list() == ["Bietet fern", "Kommunikativ fern"]
    assert all(any("Kommunikation und Konfliktmanagement" in r for r in rs)
               for rs in only_topic["gruende"])
    near = commune_view(f, "01", max_km=50)
    assert near["name"].to_list() == ["Engagiert nah"]
    assert near["distanz_km"].item() < 50


def test_preferences_change_the_list():
    f = features(
        kommune("01", "Eigene", einwohner=20_000),
        kommune("02", "Nah und groß", lat=50.55, einwohner=900_000, typ="kreisfreie Stadt"),
        kommune("03", "Fern und gleich groß", lat=FAR["nord"][0], lon=FAR["nord"][1],
                land="Schleswig-Holstein", einwohner=21_000),
        entries=(("01", "gesuch", ENGAGEMENT, "a"), ("02", "gesuch", ENGAGEMENT, "b"),
                 ("03", "gesuch", ENGAGEMENT, "c")))
    f = dataclasses.replace(f, size_class=np.array([0, 1, 0], dtype=np.int16))
    assert commune_view(f, "01")["name"].to_list() == ["Nah und groß", "Fern und gleich groß"]
    no_distance = commune_view(f, "01", preferences=peers.Preferences(ignore_distance=True))
    assert no_distance["name"].to_list() == ["Fern und gleich groß", "Nah und groß"]
    assert not any("entfernt" in r or "ebenfalls in" in r for rs in no_distance["gruende"]
                   for r in rs)
    same_size = commune_view(f, "01", preferences=peers.Preferences(same_size_class=True))
    assert same_size["name"].to_list() == ["Fern und gleich groß"]


def test_communes_see_only_consenting_or_publishing_peers_and_never_those_that_left():
    f = features(
        kommune("01", "Eigene"),
        kommune("02", "Still ohne Zustimmung", consent=False),
        kommune("03", "Veröffentlicht ohne Zustimmung", consent=False, lat=51.5),
        kommune("04", "Ausgeschieden", status="ausgeschieden"),
        entries=(("03", "angebot", ENGAGEMENT, "x"), ("04", "angebot", ENGAGEMENT, "y")))
    assert commune_view(f, "01")["name"].to_list() == ["Veröffentlicht ohne Zustimmung"]
    assert "Still ohne Zustimmung" in peers.suggest(f, "01", staff=True)["name"].to_list()
    assert "Ausgeschieden" not in peers.suggest(f, "01", staff=True)["name"].to_list()


@settings(max_examples=80, deadline=None)
@given(near_km=st.floats(1, 100), far_km=st.floats(250, 700), shared=st.integers(1, 7),
       far_type=st.sampled_from(KOMMUNE_TYPEN), far_size=st.integers(500, 2_000_000),
       near_size=st.integers(500, 2_000_000), far_ahead=st.booleans(),
       own_type=st.sampled_from(KOMMUNE_TYPEN))
def test_balance_a_neighbour_with_a_matching_need_beats_a_distant_topic_sharer(
        near_km, far_km, shared, far_type, far_size, near_size, far_ahead, own_type):
    """The weights decision (PeerWeights docstring): same type, same Land, within 100 km, one
    shared need beats any commune in another Land beyond the nearby radius that only shares
    needs, however many, even of the same type and size and one step ahead."""
    north = 1 / 111.2  # degrees latitude per km
    fields = HANDLUNGSFELDER[:shared]
    f = features(
        kommune("01", "Eigene", typ=own_type, einwohner=20_000, naechster="Workshop", phase=6),
        kommune("02", "Nachbar", typ=own_type, einwohner=near_size, lat=50.5 + near_km * north,
                phase=0),
        kommune("03", "Fern", typ=far_type, land="Bayern", einwohner=far_size,
                lat=50.5 - far_km * north, phase=8 if far_ahead else 0),
        entries=(*(("01", "gesuch", h, "wir") for h in HANDLUNGSFELDER),
                 ("02", "gesuch", fields[-1], "nachbar"),
                 *(("03", "gesuch", h, "fern") for h in fields)))
    assert commune_view(f, "01")["name"].to_list() == ["Nachbar", "Fern"]


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
    book = openpyxl.load_workbook(io.BytesIO(report_xlsx.sheets_bytes({"Liste": frame})))
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
    f = peers.PeerFeatures.from_frame(frame, _entries_for(frame))
    comps = {k: peers.score_components(f, k, staff=True) for k in f.ids}
    for a in range(f.size):
        for b in range(f.size):
            ca, cb = comps[f.ids[a]], comps[f.ids[b]]
            for kind in ("shared_need", "selbstcheck_shared"):
                assert (ca.kinds[kind][b] == cb.kinds[kind][a]).all()
            assert (ca.kinds["match"][b] == cb.kinds["helps"][a]).all()
            for name in ("same_type", "similar_size", "same_state"):
                assert getattr(ca, name)[b] == getattr(cb, name)[a]
            assert ca.distance_km[b] == pytest.approx(cb.distance_km[a], abs=1e-6)
            assert ca.nearby[b] == pytest.approx(cb.nearby[a], abs=1e-9)


def _entries_for(frame: pl.DataFrame) -> pl.DataFrame:
    """Published needs from the priorities and offers where a level is 4 (for property tests)."""
    rows = [{"kommune_id": r["kommune_id"], "art": "gesuch", "handlungsfeld": h,
             "beschreibung": f"{r['name']} sucht", "sichtbarkeit": "modellkommunen"}
            for r in frame.iter_rows(named=True) for h in r["prioritaeten"]]
    rows += [{"kommune_id": r["kommune_id"], "art": "angebot", "handlungsfeld": s["handlungsfeld"],
              "beschreibung": f"{r['name']} bietet",
              "sichtbarkeit": "modellkommunen" if s["stand"] == 4 else "programmteam"}
             for r in frame.iter_rows(named=True) for s in r["staende"] if s["stand"] >= 3]
    return pl.DataFrame(rows, schema=dict.fromkeys(peers.ENTRY_COLUMNS, pl.String))


@PROPS
@given(cohorts(), st.none() | st.sampled_from(HANDLUNGSFELDER), st.booleans(), st.randoms())
def test_suggestions_are_deterministic_and_always_explained(frame, topic, staff, rnd):
    f = peers.PeerFeatures.from_frame(frame, _entries_for(frame))
    shuffled_frame = frame.sample(fraction=1.0, shuffle=True, seed=rnd.randint(0, 10**6))
    shuffled = peers.PeerFeatures.from_frame(shuffled_frame, _entries_for(shuffled_frame))
    def run(features: peers.PeerFeatures, k: str) -> pl.DataFrame:
        view = features if staff else features.for_kommune(k)
        return peers.suggest(view, k, n=4, topic=topic, staff=staff)

    for k in f.ids:
        a, b, c = run(f, k), run(f, k), run(shuffled, k)
        assert a.equals(b) and a.equals(c)
        assert all(len(reasons) >= 1 for reasons in a["gruende"])
        assert k not in a["kommune_id"].to_list()
        if not staff:
            allowed = set(frame.filter(pl.col("vernetzung_zustimmung"))["kommune_id"]) | set(
                _entries_for(frame).filter(pl.col("sichtbarkeit") == "modellkommunen")[
                    "kommune_id"])
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
        return con.sql("select p.*, k.groessenklasse from mart_peer_merkmale p join mart_kommune "
                       "k using (kommune_id) order by kommune_id").pl()


@pytest.fixture
def demo_store(use_db, demo_db):
    """The demo database plus the demo exchange entries in this test's store."""
    use_db(demo_db)
    demo.seed(_demo_frame(demo_db))
    return demo_db


def _engine(db) -> peers.PeerFeatures:
    """The features built independently of the data layer's cache."""
    return peers.PeerFeatures.from_frame(_demo_frame(db), austausch.all_entries_unchecked(),
                                         austausch.all_practices_unchecked())


def test_data_layer_runs_the_commune_view_for_communes_and_the_full_view_for_staff(demo_store):
    frame = _demo_frame(demo_store)
    f = _engine(demo_store)
    for kid in frame["kommune_id"]:
        mine = data.peer_suggestions(data.Viewer("kommune", kid), kid, n=40)
        expected = peers.suggest(f.for_kommune(kid), kid, n=40)
        assert mine["kommune_id"].to_list() == expected["kommune_id"].to_list()
        assert mine["gruende"].to_list() == expected["gruende"].to_list()
        assert "punkte" not in mine.columns
        assert not any("nur Programmteam" in r for rs in mine["gruende"] for r in rs)
        staff = data.peer_suggestions(data.STAFF, kid, n=40)
        assert staff["kommune_id"].to_list() == peers.suggest(f, kid, n=40, staff=True)[
            "kommune_id"].to_list()


def test_data_layer_shows_contacts_only_with_consent_or_an_accepted_request(demo_store):
    frame = _demo_frame(demo_store)
    refusing = frame.filter(~pl.col("vernetzung_zustimmung")
                            & (pl.col("status") != "ausgeschieden"))["kommune_id"].to_list()
    asker = frame.filter(pl.col("vernetzung_zustimmung"))["kommune_id"][0]
    peer = refusing[0]
    viewer = data.Viewer("kommune", asker)
    austausch.save_entry(data.Viewer("kommune", peer), "p", peer, "angebot", ENGAGEMENT,
                         "Jugendbeirat")
    austausch.save_entry(viewer, "a", asker, "gesuch", ENGAGEMENT, "Jugend gewinnen")
    row = data.peer_suggestions(viewer, asker, n=40, topic=ENGAGEMENT).filter(
        pl.col("kommune_id") == peer).row(0, named=True)
    assert not row["kontakt_sichtbar"]
    assert row["ansprechperson"] is None and row["email"] is None and row["telefon"] is None
    request = austausch.request_contact(viewer, "a", peer, ENGAGEMENT, "Hallo")
    still = data.peer_contacts(viewer, [peer]).row(0, named=True)
    assert still["email"] is None  # asking alone shows nothing
    austausch.answer_request(data.Viewer("kommune", peer), "p", request, "angenommen")
    after = data.peer_contacts(viewer, [peer]).row(0, named=True)
    truth = data.peer_contacts(data.STAFF, [peer]).row(0, named=True)
    assert after["email"] == truth["email"] and truth["email"]
    back = data.peer_contacts(data.Viewer("kommune", peer), [asker]).row(0, named=True)
    assert back["email"] == data.peer_contacts(data.STAFF, [asker]).row(0, named=True)["email"]


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
    with pytest.raises(PermissionError):
        data.peer_contacts(data.PUBLIC, [own])
    visible = data.load_peer_features(viewer)
    others = visible.filter(pl.col("kommune_id") != own)
    assert others["staende"].null_count() == others.height
    assert others["prioritaeten"].null_count() == others.height
    assert others["vernetzung_zustimmung"].all()


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
    """Names on the suggestion cards (bold-only markdown before the first reason list ends)."""
    names = []
    for m in at.markdown:
        if (re.fullmatch(r"\*\*[^*]+\*\*", m.value) and "Gruppe" not in m.value
                and m.value not in ("**Was ist Ihnen wichtig?**", "**What matters to you?**")):
            names.append(m.value.strip("*").replace("\\", ""))
    return names


def test_page_staff_shows_the_engines_suggestions_and_builds_groups_on_demand(demo_store,
                                                                               use_db):
    at = _page(use_db, demo_store)
    frame = _demo_frame(demo_store)
    kid = "01003000"
    at.selectbox(key="peers_kommune").set_value(kid).run()
    assert not at.exception
    expected = peers.suggest(_engine(demo_store), kid, n=6, staff=True)
    assert _card_names(at)[: expected.height] == expected["name"].to_list()
    reasons = [m.value for m in at.markdown if m.value.startswith("- ")]
    assert reasons[0] == "\n".join(f"- {ui.md_escape(r)}"
                                   for r in expected["gruende"][0])
    # group builder: nothing computed until the button is pressed
    assert not any("Gruppen für" in m.value for m in at.markdown)
    at.button(key="peers_groups_run").click().run()
    ids = frame.filter(pl.col("status") != "ausgeschieden")["kommune_id"].to_list()
    groups = peers.build_groups(peers.PeerFeatures.from_frame(frame), ids)
    assert any(m.value == f"**{groups.groups.height} Gruppen für {len(ids)} Kommunen**"
               for m in at.markdown)
    first = groups.groups.row(0, named=True)
    assert any(m.value == " · ".join(ui.md_escape(k) for k in first["kommunen"])
               for m in at.markdown)
    at.run()  # a rerun (e.g. a download) keeps the groups without recomputing
    assert any("Gruppen für" in m.value for m in at.markdown)
    at.slider(key="peers_group_size").set_value((2, 3)).run()  # new settings: button again
    assert not any("Gruppen für" in m.value for m in at.markdown)
    assert at.query_params["kommune"] == kid


def test_page_topic_distance_and_preference_controls(demo_store, use_db):
    kid = "01003000"
    at = _page(use_db, demo_store, data.Viewer("kommune", kid))
    f = _engine(demo_store).for_kommune(kid)
    at.selectbox(key="peers_topic").set_value(KOMMUNIKATION).run()
    expected = peers.suggest(f, kid, n=6, topic=KOMMUNIKATION)
    assert _card_names(at)[: expected.height] == expected["name"].to_list()
    at.select_slider(key="peers_max_km").set_value(100).run()
    expected = peers.suggest(f, kid, n=6, topic=KOMMUNIKATION, max_km=100)
    assert _card_names(at)[: expected.height] == expected["name"].to_list()
    at.selectbox(key="peers_topic").set_value("").run()
    at.select_slider(key="peers_max_km").set_value(0).run()
    at.toggle(key="peers_pref_distance").set_value(True).run()
    pref = peers.Preferences(ignore_distance=True)
    adjusted = peers.suggest(f, kid, n=6, preferences=pref)
    default = peers.suggest(f, kid, n=6)
    assert _card_names(at)[: adjusted.height] == adjusted["name"].to_list()
    added = [n for n in adjusted["name"] if n not in default["name"].to_list()]
    assert added  # on the demo data "Entfernung egal" changes the list
    assert any(i.value.startswith("Gegenüber der Standardgewichtung neu: "
                                  + ui.md_escape(added[0])) for i in at.info)


def test_page_for_a_commune_has_no_staff_tabs_and_no_levels(demo_store, use_db):
    frame = _demo_frame(demo_store)
    kid = "01003000"
    at = open_tables(_page(use_db, demo_store, data.Viewer("kommune", kid)))
    assert not [s for s in at.selectbox if s.key == "peers_kommune"]
    own_name = frame.filter(pl.col("kommune_id") == kid)["name"].item()
    assert any(ui.md_escape(own_name) in m.value and "Ihre Kommune" in m.value
               for m in at.markdown)
    labels = [t.label for t in at.tabs]
    assert "Austauschgruppen" not in labels and "Netzwerk (Programmteam)" not in labels
    assert "Anfragen (1)" in labels  # the demo has one open request for Lübeck
    for table in at.dataframe:
        assert not {"stand", "staende", "Stand", "prioritaeten"} & set(table.value.columns)


def test_page_in_english(demo_store, use_db):
    at = _page(use_db, demo_store, lang="en")
    assert at.title[0].value == "Networking"
    assert any(m.value.startswith("- ") and ("offers on" in m.value or "also looks" in m.value)
               for m in at.markdown)


def test_kommune_page_shows_top_three_suggestions(demo_store, use_db):
    """`peer_cards.render_peer_cards` as the Kommune page uses it."""
    kid = "01003000"
    f = _engine(demo_store)
    at = run_page(use_db, demo_store, "kommune", kommune=kid)
    assert _card_names(at)[-3:] == peers.suggest(f, kid, n=3, staff=True)["name"].to_list()
    own = run_page(use_db, demo_store, "kommune", viewer=data.Viewer("kommune", kid),
                   kommune=kid)
    assert _card_names(own)[-3:] == peers.suggest(f.for_kommune(kid), kid, n=3)[
        "name"].to_list()
    other = "01054088"
    theirs = run_page(use_db, demo_store, "kommune", viewer=data.Viewer("kommune", kid),
                      kommune=other)
    assert any("nur für sich selbst" in c.value for c in theirs.caption)


def test_page_group_builder_follows_sidebar_filters_and_explains_bad_sizes(use_db, demo_db):
    frame = _demo_frame(demo_db)
    land = "Sachsen"
    at = _page(use_db, demo_db, bundesland=land)
    in_land = frame.filter(pl.col("bundesland") == land)
    active = in_land.filter(pl.col("status") != "ausgeschieden")
    at.slider(key="peers_group_size").set_value((2, 3)).run()
    at.button(key="peers_groups_run").click().run()
    assert any(c.value.startswith(f"Auswahl: {in_land.height} Kommunen") for c in at.caption)
    groups = peers.build_groups(peers.PeerFeatures.from_frame(frame),
                                active["kommune_id"].to_list(), size_min=2, size_max=3)
    assert any(m.value == f"**{groups.groups.height} Gruppen für {active.height} Kommunen**"
               for m in at.markdown)
    shown = at.dataframe[-1].value
    assert shown["Kommune"].tolist() == groups.members["name"].to_list()
    assert shown["Gruppe"].tolist() == groups.members["gruppe"].to_list()
    at.slider(key="peers_group_size").set_value((active.height + 1, active.height + 2)).run()
    at.button(key="peers_groups_run").click().run()
    assert any("lassen sich nicht in Gruppen" in w.value for w in at.warning)
