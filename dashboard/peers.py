"""Peer-suggestion engine: explainable matching for exchange between model communes.

Pure functions on polars frames (no Streamlit, no DuckDB, no store). Matching for exchange, never
a ranking of quality (DESIGN.md section 5).

- `PeerFeatures` encodes the communes (`mart_peer_merkmale`) and what they wrote for exchange
  (offers, needs, practice cards) once as numpy arrays.
- `PeerFeatures.for_kommune(k)` is what a commune may be matched on: its own entries (any
  visibility), the other communes' *published* entries (offers and needs for all model
  communes, practice cards) and non-sensitive facts (type, size, Land, place, programme phase).
  Selbstcheck levels and priorities are zeroed for every commune, so no other commune's
  Selbstcheck or unpublished entry can reach the result (tests/dashboard/test_exchange_privacy.py).
  Staff use the full features (`staff=True`): Selbstcheck priorities and levels count too.
- `suggest` scores every other commune on transparent components and returns the top N, each
  with reasons that name the offer, need or practice card they rest on.
- `build_groups` splits a selection of communes into exchange groups (staff).

Everything is vectorised over all communes with numpy (no Python loop over pairs); only the N
reasons and the per-group texts are built in Python. All weights live in `PeerWeights`.
"""

from __future__ import annotations

import dataclasses
import functools
import math
from collections import ChainMap
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import polars as pl

from dashboard import fmt
from dashboard.i18n import translate
from dashboard.i18n import value as value_in
from etl.schema import BUNDESLAENDER, HANDLUNGSFELDER, KOMMUNE_TYPEN, MEILENSTEINE, STATUS

EARTH_RADIUS_KM = 6371.0088
N_FIELDS = len(HANDLUNGSFELDER)
FIELD_INDEX: dict[str, int] = {h: i for i, h in enumerate(HANDLUNGSFELDER)}
# 1-based like `ref_meilenstein.reihenfolge` and `phase_index` in the marts.
MILESTONE_INDEX: dict[str, int] = {m: i for i, m in enumerate(MEILENSTEINE, start=1)}
MAX_STAND = 4
TEXT_CHARS = 70  # an offer or need quoted in a reason is cut to this many characters
REASON_FIELDS = 3  # at most this many topical reasons per suggestion


@dataclass(frozen=True)
class PeerWeights:
    """The one place for weights and thresholds of suggestions and groups (documented defaults).

    Suggestion score = topical + context. Only communes with topical > 0 are suggested, unless
    the commune has published nothing yet (then context alone orders the list).

    *Topical*: per Handlungsfeld the strongest of the matches below; the best field counts fully,
    every further matching field adds `further_field`, together at most `further_cap`. Many
    shared topics therefore cannot outweigh context: a commune of the same type in the same Land
    within 100 km sharing one need (2 + 1 + 1.5 + ≥ 1.8 = ≥ 6.3) comes before any commune in
    another Land beyond `nearby_km` that shares any number of needs, even of the same type and
    size and one step ahead (≤ 2 + 1 + 1 + 1 + 1 = 6); tested in tests/dashboard/test_peers.py.
    *Context*: same type, similar size, same Land, closeness, one step ahead.
    """

    # -- topical (per Handlungsfeld, the strongest applies) --------------------------------------
    match: float = 3.0
    """The commune needs the field and the peer published an offer or a practice card in it."""
    helps: float = 2.0
    """The peer published a need the commune offers (or has a practice card for)."""
    shared_need: float = 2.0
    """Both published a need in the field."""
    selbstcheck_shared: float = 2.0
    """Staff only: both marked the field as Selbstcheck priority."""
    selbstcheck_experience: float = 2.0
    """Staff only: the peer assessed itself higher in a field the commune prioritises, at least
    at `experience_min_stand`."""
    further_field: float = 0.5
    """Each matching field after the best one."""
    further_cap: float = 1.0
    """At most this much for all further fields together."""
    # -- context -----------------------------------------------------------------------------------
    step_ahead: float = 1.0
    """The peer already reached the milestone the commune is about to take."""
    same_type: float = 1.0
    """Same kind of commune (Gemeinde, Stadt, kreisfreie Stadt, Landkreis)."""
    similar_size: float = 1.0
    """Populations within `size_factor` of each other."""
    same_state: float = 1.5
    """Same Bundesland."""
    nearby: float = 3.0
    """Closeness, linear: full weight at 0 km, nothing at `nearby_km` or further."""
    # -- thresholds --------------------------------------------------------------------------------
    experience_min_stand: int = 3
    """A self-assessed level of at least 3 (of 4) counts as "has experience" (staff only)."""
    size_factor: float = 2.0
    """Two populations are "similar" if the larger is at most this multiple of the smaller."""
    nearby_km: float = 250.0
    """Closer than this counts as nearby and is named as a reason with the distance."""
    exclude_status: tuple[str, ...] = ("ausgeschieden",)
    """Communes in these states are never suggested and never grouped."""
    # -- group builder (staff) -------------------------------------------------------------------
    group_shared: float = 1.0
    """Per pair of members that share a priority field."""
    group_topic_factor: float = 3.0
    """With a topic: pairs sharing the topic as priority count this many times."""
    group_mix_experience: float = 1.0
    """Per distinct experience level (1–4) present in a group: mixes experienced and new."""
    group_mix_region: float = 1.0
    """Per distinct Bundesland in a group: mixes regions."""
    group_band: int = 3
    """Groups dealt together from communes with similar priorities (first, fast split)."""
    group_window: int = 8
    """Groups that may swap members during improvement (neighbours in the priority order)."""
    group_passes: int = 4
    """Improvement passes; each tries the best member swap for every pair of groups in a window."""


DEFAULT_WEIGHTS = PeerWeights()


@dataclass(frozen=True)
class Preferences:
    """What a commune may adjust on the page ("what matters to us")."""

    ignore_distance: bool = False
    """"Entfernung egal": closeness and the Land add nothing, no distance limit."""
    same_size_class: bool = False
    """"Nur gleiche Größenklasse": only communes of the own size class."""

    def apply(self, weights: PeerWeights) -> PeerWeights:
        if self.ignore_distance:
            return dataclasses.replace(weights, nearby=0.0, same_state=0.0)
        return weights


DEFAULT_PREFERENCES = Preferences()


class GroupSizeError(ValueError):
    """The selection cannot be split into groups within the size bounds (German message)."""


# ---- features ------------------------------------------------------------------------------------

ENTRY_COLUMNS = ("kommune_id", "art", "handlungsfeld", "beschreibung", "sichtbarkeit")
PRACTICE_COLUMNS = ("kommune_id", "handlungsfeld", "titel")
PUBLISHED = "modellkommunen"  # the visibility that makes an offer or need count for others


@dataclass(frozen=True, eq=False)
class PeerFeatures:
    """Communes and their exchange entries encoded once as numpy arrays (one row per commune).

    The Selbstcheck arrays (`prio`, `stand`) and the unpublished entries are only present in the
    full (staff) features; `for_kommune` returns a copy without them.
    """

    frame: pl.DataFrame
    """kommune_id, name, typ, bundesland, einwohner, lat, lon (for output rows)."""
    ids: np.ndarray
    index: dict[str, int]
    typ: np.ndarray
    land: np.ndarray
    size_class: np.ndarray  # codes of `groessenklasse` (-1 unknown)
    status: np.ndarray
    einwohner: np.ndarray
    lat: np.ndarray  # radians
    lon: np.ndarray  # radians
    consent: np.ndarray
    phase: np.ndarray
    next_step: np.ndarray  # 1-based milestone index the commune takes next; 0 = none
    prio: np.ndarray  # (n, 7) bool, Selbstcheck priorities
    stand: np.ndarray  # (n, 7) int8, Selbstcheck levels, 0 = not assessed
    need: np.ndarray  # (n, 7) bool: needs ("Wir suchen") the engine may use
    offer: np.ndarray  # (n, 7) bool: offers ("Wir bieten")
    practice: np.ndarray  # (n, 7) bool: practice cards (always visible to model communes)
    need_published: np.ndarray  # (n, 7) bool: needs published to all model communes
    offer_published: np.ndarray  # (n, 7) bool
    texts: Mapping[tuple[str, str, int], str]
    """(kommune_id, "angebot"|"gesuch"|"praxis", field index) -> text the engine may quote."""
    texts_published: Mapping[tuple[str, str, int], str]
    full: bool = True  # False: a commune's view from `for_kommune`

    @property
    def size(self) -> int:
        return len(self.ids)

    @classmethod
    def from_frame(cls, frame: pl.DataFrame, entries: pl.DataFrame | None = None,
                   practices: pl.DataFrame | None = None) -> PeerFeatures:
        """Encode communes shaped like `mart_peer_merkmale` (plus optional `groessenklasse`)
        and their offers/needs (`ENTRY_COLUMNS`) and practice cards (`PRACTICE_COLUMNS`)."""
        n = frame.height
        row = pl.int_range(pl.len(), dtype=pl.Int64).alias("row")

        prio = np.zeros((n, N_FIELDS), dtype=bool)
        p = (frame.select(row, pl.col("prioritaeten")).explode("prioritaeten")
             .with_columns(pl.col("prioritaeten").replace_strict(
                 FIELD_INDEX, default=None, return_dtype=pl.Int64).alias("f"))
             .drop_nulls("f"))
        prio[p["row"].to_numpy(), p["f"].to_numpy()] = True

        stand = np.zeros((n, N_FIELDS), dtype=np.int8)
        s = (frame.select(row, pl.col("staende")).explode("staende").drop_nulls("staende")
             .unnest("staende")
             .with_columns(pl.col("handlungsfeld").replace_strict(
                 FIELD_INDEX, default=None, return_dtype=pl.Int64).alias("f"))
             .drop_nulls(["f", "stand"]))
        stand[s["row"].to_numpy(), s["f"].to_numpy()] = s["stand"].to_numpy().astype(np.int8)

        def codes(column: str, values: tuple[str, ...] | None = None) -> np.ndarray:
            if column not in frame.columns:
                return np.full(n, -1, dtype=np.int16)
            series = frame.get_column(column)
            values = values or tuple(sorted(series.drop_nulls().unique().to_list()))
            mapping = {v: i for i, v in enumerate(values)}
            return series.replace_strict(mapping, default=-1, return_dtype=pl.Int16).to_numpy()

        next_step = (frame.get_column("naechster_meilenstein")
                     .replace_strict(MILESTONE_INDEX, default=0, return_dtype=pl.Int16)
                     .to_numpy())
        ids = frame.get_column("kommune_id").to_numpy().astype(str)
        index = {k: i for i, k in enumerate(ids.tolist())}
        need, offer, practice, need_pub, offer_pub, texts, texts_pub = _encode_entries(
            index, n, entries, practices)
        return cls(
            frame=frame.select("kommune_id", "name", "typ", "bundesland", "einwohner", "lat",
                               "lon"),
            ids=ids, index=index,
            typ=codes("typ", KOMMUNE_TYPEN),
            land=codes("bundesland", BUNDESLAENDER),
            size_class=codes("groessenklasse"),
            status=codes("status", STATUS),
            einwohner=frame.get_column("einwohner").cast(pl.Float64).fill_null(np.nan).to_numpy(),
            lat=np.radians(frame.get_column("lat").cast(pl.Float64).to_numpy()),
            lon=np.radians(frame.get_column("lon").cast(pl.Float64).to_numpy()),
            consent=frame.get_column("vernetzung_zustimmung").fill_null(False).to_numpy(),
            phase=frame.get_column("phase_index").fill_null(0).to_numpy().astype(np.int16),
            next_step=next_step, prio=prio, stand=stand,
            need=need, offer=offer, practice=practice, need_published=need_pub,
            offer_published=offer_pub, texts=texts, texts_published=texts_pub,
        )

    @functools.cached_property
    def _columns(self) -> dict[str, list]:
        return {c: self.frame.get_column(c).to_list() for c in self.frame.columns}

    def rows(self, idx: np.ndarray) -> dict[str, list]:
        """The output columns (kommune_id … lon) of the given rows as lists."""
        columns = self._columns
        return {c: [columns[c][i] for i in idx.tolist()] for c in columns}

    def for_kommune(self, kommune_id: str) -> PeerFeatures:
        """What `kommune_id` may be matched on: its own entries of any visibility, the others'
        published entries, and no Selbstcheck of anyone (all levels and priorities zero)."""
        i = self.index[kommune_id]
        need, offer = self.need_published.copy(), self.offer_published.copy()
        need[i], offer[i] = self.need[i], self.offer[i]
        own = {key: self.texts[key] for key in _text_keys(kommune_id) if key in self.texts}
        texts = ChainMap(own, self.texts_published)
        view = dataclasses.replace(
            self, prio=np.zeros_like(self.prio), stand=np.zeros_like(self.stand), need=need,
            offer=offer, need_published=need, offer_published=offer, texts=texts,
            texts_published=texts, full=False)
        # computed once on the full features and shared: the same for everyone but `i`, and `i`
        # is never its own candidate
        for cached in ("_published_any", "_default_eligible", "_columns"):
            view.__dict__[cached] = getattr(self, cached)
        return view

    @functools.cached_property
    def _published_any(self) -> np.ndarray:
        return (self.need_published | self.offer_published | self.practice).any(axis=1)

    def published_any(self) -> np.ndarray:
        """Communes that published at least one offer, need or practice card."""
        return self._published_any

    @functools.cached_property
    def _default_eligible(self) -> np.ndarray:
        return self._eligible(DEFAULT_WEIGHTS.exclude_status)

    def _eligible(self, exclude: tuple[str, ...]) -> np.ndarray:
        excluded = [STATUS.index(s) for s in exclude if s in STATUS]
        return ~np.isin(self.status, excluded)

    def eligible(self, weights: PeerWeights = DEFAULT_WEIGHTS) -> np.ndarray:
        """Communes that may be suggested or grouped (not in an excluded status)."""
        if weights.exclude_status == DEFAULT_WEIGHTS.exclude_status:
            return self._default_eligible
        return self._eligible(weights.exclude_status)


def _text_keys(kommune_id: str) -> list[tuple[str, str, int]]:
    return [(kommune_id, art, f) for art in ("angebot", "gesuch", "praxis")
            for f in range(N_FIELDS)]


def _encode_entries(index: dict[str, int], n: int, entries: pl.DataFrame | None,
                    practices: pl.DataFrame | None) -> tuple:
    """Field masks and quotable texts of offers, needs and practice cards (vectorised)."""
    masks = {k: np.zeros((n, N_FIELDS), dtype=bool)
             for k in ("need", "offer", "practice", "need_pub", "offer_pub")}
    texts: dict[tuple[str, str, int], str] = {}
    texts_pub: dict[tuple[str, str, int], str] = {}

    def located(frame: pl.DataFrame) -> pl.DataFrame:
        return (frame.with_columns(
            pl.col("kommune_id").replace_strict(index, default=None, return_dtype=pl.Int64)
            .alias("row"),
            pl.col("handlungsfeld").replace_strict(FIELD_INDEX, default=None,
                                                   return_dtype=pl.Int64).alias("f"))
            .drop_nulls(["row", "f"]))

    if entries is not None and entries.height:
        e = located(entries.select(ENTRY_COLUMNS))
        for art, key in (("gesuch", "need"), ("angebot", "offer")):
            part = e.filter(pl.col("art") == art)
            masks[key][part["row"].to_numpy(), part["f"].to_numpy()] = True
            pub = part.filter(pl.col("sichtbarkeit") == PUBLISHED)
            masks[key + "_pub"][pub["row"].to_numpy(), pub["f"].to_numpy()] = True
        for k, art, f, text, vis in e.select("kommune_id", "art", "f", "beschreibung",
                                             "sichtbarkeit").iter_rows():
            texts[(k, art, f)] = text
            if vis == PUBLISHED:
                texts_pub[(k, art, f)] = text
    if practices is not None and practices.height:
        p = located(practices.select(PRACTICE_COLUMNS)).sort("kommune_id", "f", "titel")
        masks["practice"][p["row"].to_numpy(), p["f"].to_numpy()] = True
        for k, f, title in p.select("kommune_id", "f", "titel").iter_rows():
            texts.setdefault((k, "praxis", f), title)  # the first title (sorted) is quoted
            texts_pub.setdefault((k, "praxis", f), title)
    return (masks["need"], masks["offer"], masks["practice"], masks["need_pub"],
            masks["offer_pub"], texts, texts_pub)


def haversine_km(lat: float, lon: float, lats: np.ndarray, lons: np.ndarray) -> np.ndarray:
    """Great-circle distance in km from one point to many (all in radians)."""
    a = (np.sin((lats - lat) / 2) ** 2
         + np.cos(lat) * np.cos(lats) * np.sin((lons - lon) / 2) ** 2)
    return 2 * EARTH_RADIUS_KM * np.arcsin(np.sqrt(np.clip(a, 0.0, 1.0)))


# ---- suggestions ---------------------------------------------------------------------------------

# topical kinds in the order a reason prefers them when a field matches several ways
KINDS = ("match", "helps", "shared_need", "selbstcheck_shared", "selbstcheck_experience")


@dataclass(frozen=True, eq=False)
class Components:
    """Each component of one commune against every commune (arrays of length n)."""

    kinds: dict[str, np.ndarray]  # kind -> (n, 7) bool, see KINDS
    step_ahead: np.ndarray  # (n,) bool
    same_type: np.ndarray  # (n,) bool
    similar_size: np.ndarray  # (n,) bool
    same_state: np.ndarray  # (n,) bool
    distance_km: np.ndarray  # (n,) float
    nearby: np.ndarray  # (n,) float in [0, 1]

    def field_values(self, w: PeerWeights) -> np.ndarray:
        """(n, 7): per field the weight of the strongest matching kind (0 = no match)."""
        values = np.zeros(self.kinds["match"].shape, dtype=np.float32)
        for kind in KINDS:
            weight = np.float32(getattr(w, kind))
            if weight > 0 and self.kinds[kind].any():
                np.maximum(values, np.where(self.kinds[kind], weight, np.float32(0)), out=values)
        return values

    def weighted(self, w: PeerWeights, values: np.ndarray | None = None
                 ) -> dict[str, np.ndarray]:
        """Score contribution of every component (`values`: `field_values(w)` if known)."""
        values = self.field_values(w) if values is None else values
        best = values.max(axis=1)
        further = np.minimum(w.further_field * ((values > 0).sum(axis=1) - 1).clip(0),
                             w.further_cap)
        return {
            "topical": best + np.where(best > 0, further, 0.0),
            "step_ahead": w.step_ahead * self.step_ahead,
            "same_type": w.same_type * self.same_type,
            "similar_size": w.similar_size * self.similar_size,
            "same_state": w.same_state * self.same_state,
            "nearby": w.nearby * self.nearby,
        }

    def score(self, w: PeerWeights) -> np.ndarray:
        return np.sum(list(self.weighted(w).values()), axis=0)


def _topic_index(topic: str | None) -> int | None:
    if topic is None:
        return None
    if topic not in FIELD_INDEX:
        raise ValueError(f"Unbekanntes Handlungsfeld: {topic!r}")
    return FIELD_INDEX[topic]


def score_components(features: PeerFeatures, kommune_id: str, topic: str | None = None,
                     weights: PeerWeights = DEFAULT_WEIGHTS, staff: bool = False) -> Components:
    """All components of `kommune_id` against every commune, vectorised.

    With a `topic`, only that field counts and the commune counts as looking for it. Selbstcheck
    kinds only with `staff` on full features.
    """
    f, i, t = features, features.index[kommune_id], _topic_index(topic)
    focus = np.ones(N_FIELDS, dtype=bool)
    if t is not None:
        focus = np.zeros(N_FIELDS, dtype=bool)
        focus[t] = True
    wants = focus if t is not None else f.need[i]
    gives = (f.offer[i] | f.practice[i]) & focus
    kinds = {
        "match": wants & (f.offer | f.practice),
        "helps": gives & f.need,
        "shared_need": wants & f.need,
    }
    if staff and f.full:
        own_prio = focus if t is not None else f.prio[i]
        kinds["selbstcheck_shared"] = own_prio & f.prio
        kinds["selbstcheck_experience"] = (own_prio & (f.stand > f.stand[i])
                                           & (f.stand >= weights.experience_min_stand))
    else:
        kinds["selbstcheck_shared"] = kinds["selbstcheck_experience"] = np.zeros_like(f.need)
    with np.errstate(invalid="ignore", divide="ignore"):
        ratio = np.maximum(f.einwohner, f.einwohner[i]) / np.minimum(f.einwohner, f.einwohner[i])
    distance = haversine_km(f.lat[i], f.lon[i], f.lat, f.lon)
    nearby = np.nan_to_num(np.clip(1.0 - distance / weights.nearby_km, 0.0, 1.0))
    return Components(
        kinds=kinds,
        step_ahead=(f.next_step[i] > 0) & (f.phase >= f.next_step[i]),
        same_type=(f.typ == f.typ[i]) & (f.typ >= 0),
        similar_size=ratio <= weights.size_factor,
        same_state=(f.land == f.land[i]) & (f.land >= 0),
        distance_km=distance,
        nearby=nearby,
    )


def _quote(names: list[str], lang: str) -> str:
    """„A“, „B“ und „C“ (German quotes) or “A”, “B” and “C”."""
    quoted = [translate(lang, "vernetzung.quote", name=n) for n in names]
    if len(quoted) <= 1:
        return "".join(quoted)
    return f"{', '.join(quoted[:-1])} {translate(lang, 'vernetzung.and')} {quoted[-1]}"


def _field_name(k: int, lang: str) -> str:
    """Handlungsfeld number `k` in `lang`."""
    return value_in(lang, "handlungsfeld", HANDLUNGSFELDER[k])


def _fields(mask: np.ndarray) -> list[str]:
    return [HANDLUNGSFELDER[k] for k in np.flatnonzero(mask)]


def _short(text: str) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= TEXT_CHARS else text[:TEXT_CHARS - 1].rstrip() + "…"


def _topical_reason(f: PeerFeatures, own: str, peer: str, kind: str, k: int,
                    lang: str) -> str:
    """One sentence for one matching field, naming the entries it rests on."""
    r = "austausch.reason."
    field = _quote([_field_name(k, lang)], lang)

    def text(kommune_id: str, art: str) -> str | None:
        found = f.texts.get((kommune_id, art, k))
        return _quote([_short(found)], lang) if found else None

    if kind == "match":
        own_need = text(own, "gesuch")
        offer = text(peer, "angebot")
        if offer:
            return (translate(lang, r + "match_offer", field=field, offer=offer, need=own_need)
                    if own_need else translate(lang, r + "match_offer_topic", field=field,
                                               offer=offer))
        return translate(lang, r + "match_practice", field=field, title=text(peer, "praxis"))
    if kind == "helps":
        need = text(peer, "gesuch")
        offer = text(own, "angebot")
        if offer:
            return translate(lang, r + "helps_offer", field=field, need=need, offer=offer)
        return translate(lang, r + "helps_practice", field=field, need=need,
                         title=text(own, "praxis"))
    if kind == "shared_need":
        return translate(lang, r + "shared_need", field=field, need=text(peer, "gesuch"))
    return translate(lang, r + kind, field=field)


def build_reasons(features: PeerFeatures, kommune_id: str, peer_id: str,
                  components: Components, topic: str | None = None,
                  weights: PeerWeights = DEFAULT_WEIGHTS, lang: str = "de",
                  _parts: tuple[dict[str, np.ndarray], np.ndarray] | None = None) -> list[str]:
    """The reasons for one suggestion as sentences: one per matching field (strongest first, at
    most `REASON_FIELDS`), naming the published offer, need or practice card; then one per
    context component that adds to the score. Selbstcheck reasons (staff only) name fields,
    never levels."""
    f, i, j = features, features.index[kommune_id], features.index[peer_id]
    weighted, field_values = _parts or (components.weighted(weights),
                                        components.field_values(weights))
    contrib = {k: v[j] for k, v in weighted.items()}
    values = field_values[j]
    out: list[str] = []
    for k in np.lexsort((np.arange(N_FIELDS), -values))[:REASON_FIELDS]:
        if values[k] <= 0:
            break
        kind = next(kind for kind in KINDS
                    if components.kinds[kind][j, k] and getattr(weights, kind) == values[k])
        out.append(_topical_reason(f, kommune_id, peer_id, kind, int(k), lang))
    r = "vernetzung.reason."
    if contrib["step_ahead"] > 0:
        out.append(translate(lang, r + f"step.{MEILENSTEINE[f.next_step[i] - 1]}"))
    if contrib["same_type"] > 0:
        typ = KOMMUNE_TYPEN[f.typ[j]]
        out.append(translate(lang, r + "same_type",
                             typ=translate(lang, f"vernetzung.typ_phrase.{typ}")))
    if contrib["similar_size"] > 0:
        out.append(translate(lang, r + "similar_size",
                             einwohner=fmt.number(f.einwohner[j], lang=lang)))
    if contrib["same_state"] > 0:
        out.append(translate(lang, r + "same_state",
                             land=value_in(lang, "bundesland", BUNDESLAENDER[f.land[j]])))
    if contrib["nearby"] > 0:
        km = components.distance_km[j]
        out.append(translate(lang, r + "nearby_close") if km < 1
                   else translate(lang, r + "nearby", km=fmt.number(round(km), lang=lang)))
    return out


SUGGESTION_SCHEMA = {
    "kommune_id": pl.String, "name": pl.String, "typ": pl.String, "bundesland": pl.String,
    "einwohner": pl.Int64, "lat": pl.Float64, "lon": pl.Float64, "distanz_km": pl.Float64,
    "punkte": pl.Float64, "gruende": pl.List(pl.String),
}


def suggest(features: PeerFeatures, kommune_id: str, *, n: int = 5, topic: str | None = None,
            max_km: float | None = None, staff: bool = False,
            preferences: Preferences = DEFAULT_PREFERENCES,
            weights: PeerWeights = DEFAULT_WEIGHTS, lang: str = "de") -> pl.DataFrame:
    """The top `n` peers of `kommune_id` with reasons (`SUGGESTION_SCHEMA`), best match first.

    Candidates: every other commune not in an excluded status; without `staff` only communes
    that consented to networking or published something. If the commune (or the topic) has
    anything to match on, only communes with a topical match; otherwise context alone orders
    them. With a `topic` only that field counts; with `max_km` only communes that close;
    `preferences` adjust weights and filter by size class. Ties are broken by distance, then by
    key, so the result is deterministic.
    """
    f, i, t = features, features.index[kommune_id], _topic_index(topic)
    weights = preferences.apply(weights)
    comp = score_components(f, kommune_id, topic, weights, staff=staff)
    values = comp.field_values(weights)
    parts = comp.weighted(weights, values)
    # rounded as shown to staff: order and cut-off use exactly the score on the screen
    score = np.round(sum(parts.values()).astype(np.float64), 2)
    mask = (score > 0) & f.eligible(weights)
    mask[i] = False
    if not staff:
        mask &= f.consent | f.published_any()
    can_match = (t is not None or f.need[i].any() or (f.offer[i] | f.practice[i]).any()
                 or (staff and f.full and f.prio[i].any()))
    if can_match:
        mask &= parts["topical"] > 0
    if max_km is not None and not preferences.ignore_distance:
        mask &= comp.distance_km <= max_km
    if preferences.same_size_class:
        mask &= (f.size_class == f.size_class[i]) & (f.size_class >= 0)
    cand = np.flatnonzero(mask)
    if n <= 0 or cand.size == 0:
        return pl.DataFrame(schema=SUGGESTION_SCHEMA)
    if cand.size > n:  # keep everything tied with the n-th best, then order exactly
        threshold = np.partition(score[cand], cand.size - n)[cand.size - n]
        cand = cand[score[cand] >= threshold]
    order = np.lexsort((f.ids[cand], comp.distance_km[cand], -score[cand]))
    top = cand[order][:n]
    precomputed = (parts, values)
    reasons = [build_reasons(f, kommune_id, f.ids[j], comp, topic, weights, lang, precomputed)
               for j in top]
    rows = f.rows(top)
    rows.update(distanz_km=comp.distance_km[top].round(1).tolist(),
                punkte=score[top].tolist(), gruende=reasons)
    return pl.DataFrame(rows, schema=SUGGESTION_SCHEMA)


# ---- group builder -------------------------------------------------------------------------------


@dataclass(frozen=True)
class PeerGroups:
    """Exchange groups: one row per member and one row per group with why it fits."""

    members: pl.DataFrame  # gruppe, kommune_id, name, typ, bundesland, einwohner, schwerpunkte
    groups: pl.DataFrame  # gruppe, groesse, kommunen, gemeinsame_schwerpunkte, laender, begruendung


def group_sizes(n: int, size_min: int, size_max: int, lang: str = "de") -> list[int]:
    """Sizes of the fewest groups that hold `n` communes within [size_min, size_max], as even as
    possible. Raises `GroupSizeError` with a German (or English) message if that is impossible."""
    if size_min < 1 or size_max < size_min:
        raise GroupSizeError(translate(lang, "vernetzung.groups.bad_bounds", min=size_min,
                                       max=size_max))
    if n == 0:
        return []
    k = math.ceil(n / size_max)
    if k * size_min > n:
        raise GroupSizeError(translate(lang, "vernetzung.groups.infeasible", n=n, min=size_min,
                                       max=size_max))
    base, extra = divmod(n, k)
    return [base + 1] * extra + [base] * (k - extra)


def _gray_rank(mask: np.ndarray) -> np.ndarray:
    """Position of a bit mask in the reflected Gray-code order: neighbours differ in one field."""
    rank = mask.copy()
    for shift in (1, 2, 4):
        rank ^= rank >> shift
    return rank


@dataclass
class _GroupState:
    """Per-group counts the objective needs; a swap updates two rows."""

    prio: np.ndarray  # (k, 7) members prioritising each field
    level: np.ndarray  # (k, 5) members per experience level (0 = unknown)
    land: np.ndarray  # (k, L) members per Land

    @staticmethod
    def value(prio: np.ndarray, level: np.ndarray, land: np.ndarray, field_weight: np.ndarray,
              w: PeerWeights) -> np.ndarray:
        """Objective of groups given their count rows (any leading shape)."""
        shared = (prio * (prio - 1) / 2 * field_weight).sum(axis=-1)
        levels = (level[..., 1:] > 0).sum(axis=-1)
        lands = (land > 0).sum(axis=-1)
        return (w.group_shared * shared + w.group_mix_experience * levels
                + w.group_mix_region * lands)


def build_groups(features: PeerFeatures, kommune_ids: list[str], *, topic: str | None = None,
                 size_min: int = 4, size_max: int = 6, weights: PeerWeights = DEFAULT_WEIGHTS,
                 lang: str = "de") -> PeerGroups:
    """Split the selected communes into exchange groups of `size_min`–`size_max` members.

    Objective per group (weights in `PeerWeights`): pairs sharing priorities (the topic counts
    `group_topic_factor` times), plus one point per distinct experience level and per distinct
    Land, so groups share topics while mixing experience and regions.

    1. Order communes by priority profile (with a topic: topic prioritised first; profiles in
       Gray-code order so neighbours differ in one field).
    2. Cut that order into bands of `group_band` groups and deal each band's members round-robin
       (snake order) by experience and Land into its groups.
    3. Improve: for every pair of groups inside a window of `group_window` neighbours, apply the
       best member swap while it raises the objective; `group_passes` passes, windows shifted
       every other pass.

    The result depends only on the set of communes and the parameters, never on input order.
    """
    f, t = features, _topic_index(topic)
    sel = np.array(sorted({f.index[k] for k in kommune_ids}), dtype=np.int64)
    sizes = group_sizes(len(sel), size_min, size_max, lang)
    if not sizes:
        return _group_output(f, sel, np.zeros(0, dtype=np.int64), [], t, weights, lang)
    # experience level 0..4 used for mixing
    if t is not None:
        level = f.stand[sel, t].astype(np.int64)
    else:
        known = (f.stand[sel] > 0).sum(axis=1)
        level = np.where(known > 0, np.rint(f.stand[sel].sum(axis=1) / np.maximum(known, 1)), 0)
        level = level.astype(np.int64)
    prio = f.prio[sel]
    bits = (prio * (1 << np.arange(N_FIELDS - 1, -1, -1))).sum(axis=1).astype(np.int64)
    topic_first = (~prio[:, t]).astype(np.int64) if t is not None else np.zeros(len(sel), np.int64)
    ids = f.ids[sel]
    order = np.lexsort((ids, _gray_rank(bits), topic_first))

    # 2. bands dealt in snake order
    k = len(sizes)
    assign = np.empty(len(sel), dtype=np.int64)
    starts = np.concatenate([[0], np.cumsum(sizes)])
    land = f.land[sel].astype(np.int64)
    for b0 in range(0, k, max(weights.group_band, 1)):
        g_ids = np.arange(b0, min(b0 + weights.group_band, k))
        members = order[starts[g_ids[0]]:starts[g_ids[-1] + 1]]
        members = members[np.lexsort((ids[members], land[members], -level[members]))]
        slots = []
        for rnd in range(max(sizes[g] for g in g_ids)):
            seq = g_ids if rnd % 2 == 0 else g_ids[::-1]
            slots.extend(g for g in seq if rnd < sizes[g])
        assign[members] = slots

    # 3. improvement by swaps inside windows of neighbouring groups
    field_weight = np.ones(N_FIELDS)
    if t is not None:
        field_weight[t] = weights.group_topic_factor
    n_lands = len(BUNDESLAENDER) + 1
    land_idx = np.where(land >= 0, land, n_lands - 1)
    onehot_level = np.eye(MAX_STAND + 1, dtype=np.int64)[np.clip(level, 0, MAX_STAND)]
    onehot_land = np.eye(n_lands, dtype=np.int64)[land_idx]
    prio_i = prio.astype(np.int64)
    members_of = [list(np.flatnonzero(assign == g)) for g in range(k)]
    state = _GroupState(
        prio=np.stack([prio_i[m].sum(axis=0) for m in members_of]),
        level=np.stack([onehot_level[m].sum(axis=0) for m in members_of]),
        land=np.stack([onehot_land[m].sum(axis=0) for m in members_of]),
    )
    window = max(weights.group_window, 2)
    for p in range(weights.group_passes):
        improved = False
        offset = 0 if p % 2 == 0 or window >= k else window // 2
        bounds = [0, *range(offset or window, k, window), k]
        for w0, w1 in zip(bounds[:-1], bounds[1:], strict=True):
            for g1 in range(w0, w1):
                for g2 in range(g1 + 1, w1):
                    improved |= _improve_pair(g1, g2, members_of, state, prio_i, onehot_level,
                                              onehot_land, field_weight, weights)
        if not improved:
            break
    # number groups: most members sharing the topic first, then most shared pairs; stable by key
    topic_count = state.prio[:, t] if t is not None else np.zeros(k, dtype=np.int64)
    pairs = (state.prio * (state.prio - 1) // 2).sum(axis=1)
    first = [min(ids[m].tolist()) for m in members_of]
    numbering = sorted(range(k), key=lambda g: (-int(topic_count[g]), -int(pairs[g]), first[g]))
    for number, g in enumerate(numbering):
        assign[members_of[g]] = number
    return _group_output(f, sel, assign, sizes, t, weights, lang)


def _improve_pair(g1: int, g2: int, members_of: list[list[int]], state: _GroupState,
                  prio: np.ndarray, level: np.ndarray, land: np.ndarray,
                  field_weight: np.ndarray, w: PeerWeights) -> bool:
    """Apply the best swap between two groups while it raises the objective (all swaps at once)."""
    improved = False
    for _ in range(len(members_of[g1]) + len(members_of[g2])):
        a, b = members_of[g1], members_of[g2]
        before = (_GroupState.value(state.prio[g1], state.level[g1], state.land[g1],
                                    field_weight, w)
                  + _GroupState.value(state.prio[g2], state.level[g2], state.land[g2],
                                      field_weight, w))

        def moved(counts: np.ndarray, x: np.ndarray, g_out: int, out_m: list[int],
                  in_m: list[int]) -> np.ndarray:
            return counts[g_out][None, None, :] - x[out_m][:, None, :] + x[in_m][None, :, :]

        after = (_GroupState.value(moved(state.prio, prio, g1, a, b),
                                   moved(state.level, level, g1, a, b),
                                   moved(state.land, land, g1, a, b), field_weight, w)
                 + _GroupState.value(moved(state.prio, prio, g2, b, a).transpose(1, 0, 2),
                                     moved(state.level, level, g2, b, a).transpose(1, 0, 2),
                                     moved(state.land, land, g2, b, a).transpose(1, 0, 2),
                                     field_weight, w))
        gain = after - before
        best = int(np.argmax(gain))
        if gain.flat[best] <= 1e-9:
            break
        ia, ib = divmod(best, len(b))
        x, y = a[ia], b[ib]
        for counts, vec in ((state.prio, prio), (state.level, level), (state.land, land)):
            counts[g1] += vec[y] - vec[x]
            counts[g2] += vec[x] - vec[y]
        a[ia], b[ib] = y, x
        improved = True
    return improved


def _group_output(f: PeerFeatures, sel: np.ndarray, assign: np.ndarray, sizes: list[int],
                  t: int | None, w: PeerWeights, lang: str) -> PeerGroups:
    """Members and groups frames with a "why it fits" text per group."""
    members = (f.frame[sel.tolist()]
               .with_columns(pl.Series("gruppe", assign + 1, dtype=pl.Int64),
                             pl.col("einwohner").cast(pl.Int64),
                             pl.Series("schwerpunkte", [_fields(f.prio[i]) for i in sel],
                                       dtype=pl.List(pl.String)))
               .select("gruppe", "kommune_id", "name", "typ", "bundesland", "einwohner",
                       "schwerpunkte")
               .sort("gruppe", "name", "kommune_id"))
    rows = []
    for g in range(len(sizes)):
        idx = sel[assign == g]
        idx = idx[np.lexsort((f.ids[idx],))]
        names = members.filter(pl.col("gruppe") == g + 1).get_column("name").to_list()
        counts = f.prio[idx].sum(axis=0)
        shared = [k for k in np.argsort(-counts, kind="stable") if counts[k] >= 2]
        lands = sorted({BUNDESLAENDER[x] for x in f.land[idx] if x >= 0})
        rows.append({
            "gruppe": g + 1,
            "groesse": len(idx),
            "kommunen": names,
            "gemeinsame_schwerpunkte": [HANDLUNGSFELDER[k] for k in shared],
            "laender": lands,
            "begruendung": _group_reason(f, idx, counts, shared, lands, t, w, lang),
        })
    groups = pl.DataFrame(rows, schema={
        "gruppe": pl.Int64, "groesse": pl.Int64, "kommunen": pl.List(pl.String),
        "gemeinsame_schwerpunkte": pl.List(pl.String), "laender": pl.List(pl.String),
        "begruendung": pl.String})
    return PeerGroups(members=members, groups=groups)


def _group_reason(f: PeerFeatures, idx: np.ndarray, counts: np.ndarray, shared: list[int],
                  lands: list[str], t: int | None, w: PeerWeights, lang: str) -> str:
    """Why the group fits, in sentences: shared topics, experience in them, regions."""
    g = "vernetzung.groups."
    size = len(idx)
    parts = []
    if t is not None:
        topic = _quote([_field_name(t, lang)], lang)
        parts.append(translate(lang, g + "why_topic", k=int(counts[t]), n=size, topic=topic)
                     if counts[t] else translate(lang, g + "why_topic_none", topic=topic))
        shared = [k for k in shared if k != t]
    if shared:
        listed = ", ".join(f"{_quote([_field_name(k, lang)], lang)} ({int(counts[k])}/{size})"
                           for k in shared[:3])
        key = "why_shared_more" if t is not None else "why_shared"
        parts.append(translate(lang, g + key, fields=listed))
    elif t is None:
        parts.append(translate(lang, g + "why_shared_none"))
    focus = t if t is not None else (shared[0] if shared else None)
    if focus is not None:  # experience in the topic, or in the most shared priority
        experienced = f.stand[idx, focus] >= w.experience_min_stand
        names = f.frame[idx[experienced].tolist()].get_column("name").to_list()
        field = _quote([_field_name(focus, lang)], lang)
        parts.append(translate(lang, g + "why_experience", field=field, names=", ".join(names))
                     if names else translate(lang, g + "why_experience_none", field=field))
    lands = [value_in(lang, "bundesland", land) for land in lands]
    parts.append(translate(lang, g + "why_regions_one", land=lands[0]) if len(lands) == 1
                 else translate(lang, g + "why_regions", k=len(lands), lands=", ".join(lands)))
    return " ".join(parts)


def group_objective(features: PeerFeatures, groups: PeerGroups, topic: str | None = None,
                    weights: PeerWeights = DEFAULT_WEIGHTS) -> dict[str, float]:
    """Quality figures of a split (for the benchmark and tests): mean shared-priority pairs per
    group, mean distinct Länder and experience levels per group, and the total objective."""
    f, t = features, _topic_index(topic)
    field_weight = np.ones(N_FIELDS)
    if t is not None:
        field_weight[t] = weights.group_topic_factor
    shared, lands, levels, total = [], [], [], 0.0
    for _, frame in groups.members.group_by("gruppe", maintain_order=True):
        idx = np.array([f.index[k] for k in frame.get_column("kommune_id")])
        prio = f.prio[idx].sum(axis=0)
        lvl = (f.stand[idx, t] if t is not None
               else np.rint(f.stand[idx].sum(axis=1) / np.maximum((f.stand[idx] > 0).sum(1), 1)))
        shared.append(float((prio * (prio - 1) / 2).sum()))
        lands.append(len(set(f.land[idx].tolist())))
        levels.append(len({int(x) for x in lvl if x > 0}))
        total += float((prio * (prio - 1) / 2 * field_weight).sum() * weights.group_shared
                       + weights.group_mix_experience * levels[-1]
                       + weights.group_mix_region * lands[-1])
    return {"shared_pairs": float(np.mean(shared)) if shared else 0.0,
            "laender": float(np.mean(lands)) if lands else 0.0,
            "levels": float(np.mean(levels)) if levels else 0.0,
            "objective": total}
