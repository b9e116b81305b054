"""Deterministic synthetic programme data on real German geography (demo and benchmark input).

    uv run python -m tools.demo --out data/demo                       # the committed demo (40)
    uv run python -m tools.demo --kommunen 11000 --events 1000000 --out DIR   # national scale

Places are real (names, AGS, Land, Kreis, representative point and approximate population from
`data/geo/`); everything about the programme is invented: statuses, milestone dates, contact
persons (all "(fiktiv)", e-mails at example.org), module uptake and Selbstcheck answers.

Same arguments ⇒ byte-identical files. Randomness comes only from the seed; every stage draws
from its own stream derived from (seed, stage), so a change in one stage does not reshuffle the
others. Up to `CURATED_MAX` communes are picked as a curated mix of types, sizes and Länder; above
that every Gemeinde is a candidate (national benchmark scale), and beyond the 11,084 real
Gemeinden come synthetic copies, named "… (synthetisch n)" (stress tests only). The large
uptake table is built with numpy/polars; Python only loops per commune and per shared event,
never per uptake row.
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
import re
import sys
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import polars as pl

from etl.schema import (
    BUNDESLAENDER,
    GROESSENKLASSEN,
    HANDLUNGSFELDER,
    KOMMUNE_TYPEN,
    KOMMUNEN,
    LAT_RANGE,
    LON_RANGE,
    MEILENSTEINE,
    MEILENSTEINE_ENTITY,
    MODULE,
    MODULNUTZUNG,
    SEKTOREN,
    SELBSTCHECK,
    SOURCE_FILE,
    STATUS,
)

ROOT = Path(__file__).resolve().parent.parent
GEO_DIR = ROOT / "data" / "geo"

Progress = Callable[[str], None]

# ---- programme facts and generator parameters --------------------------------------------------

DEFAULT_KOMMUNEN = 40
DEFAULT_SEED = 2019
DEFAULT_HEUTE = dt.date(2022, 3, 15)

PROGRAMM_START = dt.date(2019, 11, 5)  # kick-off in Potsdam
LETZTER_START = dt.date(2022, 1, 31)  # a commune can start until January 2022
CURATED_MAX = 200  # up to this many communes: curated mix; above: all Gemeinden (national scale)

KREISFREI_BEZ = ("Kreisfreie Stadt", "Stadtkreis")
LANDKREIS_BEZ = ("Landkreis", "Kreis")
GEMEINDEFREI_BEZ = "Gemeindefreies Gebiet"

# Type mix per 40 communes and, cycled, the size class (index into GROESSENKLASSEN) of each pick.
TYPE_MIX: tuple[tuple[str, int], ...] = (
    ("kreisfreie Stadt", 8),
    ("Landkreis", 8),
    ("Stadt", 14),
    ("Gemeinde", 10),
)
SIZE_PLAN: dict[str, tuple[int, ...]] = {
    "kreisfreie Stadt": (4, 3, 3, 4, 3, 2, 3, 3),
    "Landkreis": (3, 3, 3, 4, 3, 2, 3, 3),
    "Stadt": (1, 2, 1, 2, 0, 2, 1, 3, 2, 1, 2, 0, 1, 2),
    "Gemeinde": (0, 0, 1, 0, 0, 1, 0, 2, 1, 0),
}

# Scenario mix per 40 communes. The status is derived from the generated timeline, so it always
# agrees with the milestones, whatever "heute" is.
SCENARIO_MIX: tuple[tuple[str, int], ...] = (
    ("abgeschlossen", 16),
    ("abgeschlossen_verspaetet", 6),
    ("aktiv", 6),
    ("aktiv_ueberfaellig", 4),
    ("aufgenommen", 3),
    ("ausgeschieden", 3),
    ("beworben", 1),
    ("interessiert", 1),
)

# Planned date of each milestone in days relative to the planned Erstgespräch (= track start).
PLAN_OFFSET_DAYS: dict[str, tuple[int, int]] = {
    "Bewerbung": (-84, -56),
    "Ratsbeschluss": (-49, -21),
    "Aufnahme": (-18, -7),
    "Erstgespräch": (0, 0),
    "Fragebogen": (21, 35),  # +3–5 weeks
    "Auswertung": (55, 68),  # ~ +2 months
    "Workshop": (91, 122),  # +3–4 months
    "Abschluss": (152, 183),  # +5–6 months
}
# Actual minus planned date (days) of a track that runs to plan.
ON_TIME_DELAY: dict[str, tuple[int, int]] = {
    "Bewerbung": (-7, 0),
    "Ratsbeschluss": (-10, 5),
    "Aufnahme": (-2, 2),
    "Erstgespräch": (-2, 1),
    "Fragebogen": (-7, 3),
    "Auswertung": (-5, 3),
    "Workshop": (-6, 3),
    "Abschluss": (-14, 3),
}
# Extra delay added milestone by milestone on a late track (cumulative, days).
LATE_STEP_DAYS: dict[str, tuple[int, int]] = {
    "Fragebogen": (10, 24),
    "Auswertung": (7, 21),
    "Workshop": (7, 21),
}
LATE_TRACK_DAYS = (213, 274)  # a late track lasts 7–9 months from Erstgespräch to Abschluss

assert tuple(PLAN_OFFSET_DAYS) == MEILENSTEINE == tuple(ON_TIME_DELAY)
assert {t for t, _ in TYPE_MIX} == set(SIZE_PLAN) == set(KOMMUNE_TYPEN)

M2_FORMATE: dict[str, float] = {
    "Webinar": 0.4,
    "Vernetzungstreffen": 0.3,
    "Workshop": 0.2,
    "Beratung": 0.1,
}
# Module 2 topics: the fields of action plus the programme's own training topics (weighted up).
M2_THEMEN: dict[str, float] = {
    **{h: 1.0 for h in HANDLUNGSFELDER},
    "Rassismus und Diskriminierung": 3.0,
    "Wirksame Kommunikation": 3.0,
    "Präventives Konfliktmanagement": 3.0,
}
M3_THEMEN: dict[str, float] = {
    "Zusammenhalt und Begegnung": 4.0,
    "Engagement und Beteiligung": 3.0,
    "Kommunikation und Konfliktmanagement": 2.0,
    "Interkulturelle Öffnung und Antirassismus": 2.0,
    "Fairer Zugang und Teilhabechancen": 1.0,
}
M2_EVENTS_PER_MONTH = 1.5  # natural event calendar when no row target is given
M3_SHARE = 0.35  # events per commune that reached the Auswertung (optional module)
M3_GROUP_SIZES = {1: 0.6, 2: 0.3, 3: 0.1}  # dialogue events are local; a few are joint

# Participants per commune row: (min, max, weights by sector in SEKTOREN order).
TEILNAHME: dict[str, tuple[int, int, tuple[float, ...]]] = {
    "Erstgespräch": (2, 6, (0.8, 0.15, 0.05, 0.0, 0.0)),
    "Selbstcheck-Workshop": (12, 40, (0.35, 0.15, 0.3, 0.1, 0.1)),
    "Webinar": (1, 6, (0.7, 0.2, 0.1, 0.0, 0.0)),
    "Vernetzungstreffen": (2, 6, (0.6, 0.3, 0.1, 0.0, 0.0)),
    "Workshop": (2, 8, (0.5, 0.2, 0.2, 0.1, 0.0)),
    "Beratung": (1, 4, (0.9, 0.1, 0.0, 0.0, 0.0)),
    "Dialogveranstaltung": (25, 120, (0.1, 0.08, 0.22, 0.1, 0.5)),
}
SECTORS_EMPTY_SHARE = 0.15  # rows where staff left the sector columns empty
SECTORS_EQUAL_SHARE = 0.45  # rows where the sectors add up to teilnehmende exactly

# Selbstcheck: mean self-assessed level per field and how often a field is chosen as priority.
SC_MITTEL: dict[str, float] = {
    "Management und Steuerung": 2.6,
    "Interkulturelle Öffnung und Antirassismus": 2.2,
    "Fairer Zugang und Teilhabechancen": 2.4,
    "Arbeit und wirtschaftliche Entwicklung": 2.3,
    "Engagement und Beteiligung": 2.8,
    "Zusammenhalt und Begegnung": 2.7,
    "Kommunikation und Konfliktmanagement": 2.1,
}
SC_BELIEBTHEIT: dict[str, float] = {
    "Management und Steuerung": 0.8,
    "Interkulturelle Öffnung und Antirassismus": 2.5,
    "Fairer Zugang und Teilhabechancen": 1.2,
    "Arbeit und wirtschaftliche Entwicklung": 0.8,
    "Engagement und Beteiligung": 1.5,
    "Zusammenhalt und Begegnung": 2.0,
    "Kommunikation und Konfliktmanagement": 3.0,
}
assert tuple(SC_MITTEL) == HANDLUNGSFELDER == tuple(SC_BELIEBTHEIT)

# Clearly fictitious contact persons.
VORNAMEN = ("Alex", "Kim", "Robin", "Sascha", "Jona", "Luca", "Mika", "Noah", "Sam", "Toni",
            "Charlie", "Eli", "Kai", "Maxi", "Nico", "Pat", "Ricky", "Jule", "Lou", "Fabi")
NACHNAMEN = ("Beispiel", "Muster", "Fiktiv", "Erfunden", "Platzhalter", "Probe", "Exempel",
             "Demo", "Modell", "Vorlage")
KOMMUNE_NOTIZEN = (
    "Kontakt über die Integrationsbeauftragte",
    "Ansprechperson ab Juni in Elternzeit, Vertretung ist benannt",
    "Wunschtermin für den Workshop nach den Sommerferien",
    "Interesse an gemeinsamer Dialogveranstaltung mit Nachbarkommune",
    "Unterlagen vollständig",
)
NOTIZ_SHARE = 0.15
ZUSTIMMUNG_SHARE = 0.75
VORAUSSETZUNG_JA: dict[str, float] = {
    "voraussetzung_ansprechperson": 0.95,
    "voraussetzung_leitung": 0.9,
    "voraussetzung_prozesse": 0.7,
    "voraussetzung_wissensteilung": 0.95,
}

_STAGES = ("kommunen", "szenarien", "verlauf", "kontakte", "selbstcheck", "modul2", "modul3",
           "teilnahme", "national", "synthetisch")


# ---- small helpers ------------------------------------------------------------------------------


def py_rng(seed: int, stage: str) -> random.Random:
    """An independent, reproducible Python RNG for one stage (string seeds are hashed stably)."""
    return random.Random(f"{seed}:{stage}")


def np_rng(seed: int, stage: str) -> np.random.Generator:
    """An independent, reproducible numpy Generator for one stage."""
    return np.random.default_rng([seed, _STAGES.index(stage)])


def apportion(total: int, weights: Sequence[float]) -> list[int]:
    """Split `total` into whole parts proportional to `weights` (largest remainder, stable)."""
    s = float(sum(weights))
    exact = [total * w / s for w in weights]
    parts = [int(x) for x in exact]
    order = sorted(range(len(weights)), key=lambda i: (-(exact[i] - parts[i]), i))
    for i in order[: total - sum(parts)]:
        parts[i] += 1
    return parts


def uniform_date(rng: random.Random, lo: dt.date, hi: dt.date) -> dt.date:
    """A date uniformly in [lo, hi]; `lo` when the window is empty."""
    if hi <= lo:
        return lo
    return lo + dt.timedelta(days=rng.randint(0, (hi - lo).days))


def clamp_date(d: dt.date, lo: dt.date, hi: dt.date) -> dt.date:
    return max(lo, min(hi, d))


def weekday_or_before(d: dt.date) -> dt.date:
    """Saturday and Sunday become the Friday before (meetings happen on working days)."""
    return d - dt.timedelta(days=max(0, d.weekday() - 4))


def size_class_bounds(index: int) -> tuple[int, int]:
    """Population bounds [from, to) of a size class from schema.GROESSENKLASSEN."""
    _, lo, hi = GROESSENKLASSEN[index]
    return lo, hi if hi is not None else 10**9


def kreis_display_name(name: str, bez: str) -> str:
    """How people write a Kreis: "Landkreis Göttingen", "Kreis Lippe", but "Rhein-Sieg-Kreis"."""
    if bez in KREISFREI_BEZ or re.search(r"kreis|region|verband", name, re.IGNORECASE):
        return name
    return f"{bez} {name}"


def ascii_fold(text: str) -> str:
    """Lower-case ASCII for e-mail local parts (ä → ae …)."""
    table = str.maketrans({"ä": "ae", "ö": "oe", "ü": "ue", "ß": "ss"})
    return text.lower().translate(table)


# ---- geography ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Kommune:
    """A real place used as a model commune (programme data is attached separately)."""

    kommune_id: str
    name: str
    typ: str
    bundesland: str
    kreis: str
    kreis_ags: str
    einwohner: int | None
    lat: float
    lon: float


def load_candidates(geo_dir: Path = GEO_DIR) -> list[Kommune]:
    """All Gemeinden (without gemeindefreie Gebiete) and all Landkreise as candidates, by AGS.

    A Gemeinde in a kreisfreie Stadt/Stadtkreis is typ "kreisfreie Stadt" and takes the Kreis
    population (Destatis) when there is one; Landkreise use the 5-digit Kreis AGS.
    """
    gemeinden = pl.read_csv(geo_dir / "gemeinden.csv", separator=";", infer_schema=False)
    kreise = pl.read_csv(geo_dir / "kreise.csv", separator=";", infer_schema=False)
    kreis_info = {
        r["ags"]: (kreis_display_name(r["name"], r["bez"]), r["bez"], r["einwohner"])
        for r in kreise.iter_rows(named=True)
    }
    out: list[Kommune] = []
    for r in gemeinden.filter(pl.col("bez") != GEMEINDEFREI_BEZ).iter_rows(named=True):
        kreis, kreis_bez, kreis_ew = kreis_info[r["kreis_ags"]]
        kreisfrei = kreis_bez in KREISFREI_BEZ
        ew = (kreis_ew if kreisfrei and kreis_ew else None) or r["einwohner"]
        out.append(Kommune(
            kommune_id=r["ags"], name=r["name"],
            typ="kreisfreie Stadt" if kreisfrei else r["bez"],
            bundesland=r["land"], kreis=kreis, kreis_ags=r["kreis_ags"],
            einwohner=int(ew) if ew else None, lat=float(r["lat"]), lon=float(r["lon"]),
        ))
    for r in kreise.filter(pl.col("bez").is_in(LANDKREIS_BEZ)).iter_rows(named=True):
        name = kreis_display_name(r["name"], r["bez"])
        out.append(Kommune(
            kommune_id=r["ags"], name=name, typ="Landkreis", bundesland=r["land"], kreis=name,
            kreis_ags=r["ags"], einwohner=int(r["einwohner"]) if r["einwohner"] else None,
            lat=float(r["lat"]), lon=float(r["lon"]),
        ))
    unknown = {k.bundesland for k in out} - set(BUNDESLAENDER)
    assert not unknown, f"Land names not in schema.BUNDESLAENDER: {unknown}"
    assert {k.typ for k in out} <= set(KOMMUNE_TYPEN)
    return sorted(out, key=lambda k: k.kommune_id)


def choose_model_communes(n: int, candidates: list[Kommune], rng: random.Random) -> list[Kommune]:
    """A curated mix: ~20 % kreisfreie Städte, 20 % Landkreise, 35 % Städte, 25 % Gemeinden.

    Each pick has a target size class (SIZE_PLAN), prefers a Kreis not used yet and a Land with
    the fewest picks so far, so 40 communes cover (nearly) all Länder and every size class.
    Only candidates with a known population are used.
    """
    counts = apportion(n, [c for _, c in TYPE_MIX])
    land_count: Counter[str] = Counter()
    used_ids: set[str] = set()
    used_kreise: set[str] = set()
    picked: list[Kommune] = []
    for (typ, _), count in zip(TYPE_MIX, counts, strict=True):
        pool = [k for k in candidates if k.typ == typ and k.einwohner]
        for i in range(count):
            lo, hi = size_class_bounds(SIZE_PLAN[typ][i % len(SIZE_PLAN[typ])])
            options = [k for k in pool if k.kommune_id not in used_ids]
            options = [k for k in options if lo <= (k.einwohner or 0) < hi] or options
            options = [k for k in options if k.kreis_ags not in used_kreise] or options
            if not options:
                break
            fewest = min(land_count[k.bundesland] for k in options)
            options = [k for k in options if land_count[k.bundesland] == fewest]
            choice = rng.choice(options)
            picked.append(choice)
            used_ids.add(choice.kommune_id)
            used_kreise.add(choice.kreis_ags)
            land_count[choice.bundesland] += 1
    return sorted(picked, key=lambda k: k.kommune_id)


def choose_national_communes(n: int, candidates: list[Kommune], seed: int) -> list[Kommune]:
    """`n` Gemeinden (8-digit AGS): those with population first, then the others; beyond the
    real Gemeinden (11,084), synthetic copies for stress tests (`synthetic_copies`).

    A missing population gets a plausible value drawn from a log-normal distribution (median about
    1,500 for a Gemeinde, 6,000 for a Stadt).
    """
    rng = np_rng(seed, "national")
    gemeinden = [k for k in candidates if k.typ != "Landkreis"]
    known = [k for k in gemeinden if k.einwohner]
    unknown = [k for k in gemeinden if not k.einwohner]
    order_known = rng.permutation(len(known))
    order_unknown = rng.permutation(len(unknown))
    chosen = [known[i] for i in order_known[:n]]
    missing = max(0, n - len(chosen))
    extra = [unknown[i] for i in order_unknown[:missing]]
    medians = np.array([6_000.0 if k.typ == "Stadt" else 1_500.0 for k in extra])
    pops = np.maximum(50, np.round(medians * rng.lognormal(0.0, 0.7, len(extra)))).astype(int)
    chosen += [_with_population(k, int(p)) for k, p in zip(extra, pops, strict=True)]
    chosen += synthetic_copies(n - len(chosen), chosen, seed)
    return sorted(chosen, key=lambda k: k.kommune_id)


def synthetic_copies(n: int, real: list[Kommune], seed: int) -> list[Kommune]:
    """`n` stress-test communes beyond the real ones, each clearly marked as synthetic.

    Copy c of a real Gemeinde keeps its Land, Kreis, type and population, is named
    "<Name> (synthetisch c)", lies up to about 2 km from it, and gets a 12-digit ARS that no real
    place has: the Gemeinde's Kreis (5 digits), a Verbandsschlüssel "9" + c (4 digits, c ≤ 999)
    and its own Gemeinde number (3 digits). So ids stay unique, pass the AGS/ARS check and keep
    the Land prefix; up to 999 copies of each real place.
    """
    if n <= 0:
        return []
    if n > 999 * len(real):
        raise ValueError(f"höchstens {999 * len(real)} synthetische Kommunen möglich")
    rng = np_rng(seed, "synthetisch")
    # every real place once before any gets a second copy, in a seeded order
    bases = [real[i] for i in np.resize(rng.permutation(len(real)), n)]
    jitter = rng.uniform(-0.02, 0.02, size=(n, 2))
    copies: Counter[str] = Counter()
    out = []
    for base, (dlat, dlon) in zip(bases, jitter, strict=True):
        copies[base.kommune_id] += 1
        c = copies[base.kommune_id]
        ars = f"{base.kommune_id[:5]}9{c:03d}{base.kommune_id[5:8]}"
        out.append(Kommune(ars, f"{base.name} (synthetisch {c})", base.typ, base.bundesland,
                           base.kreis, base.kreis_ags, base.einwohner,
                           _within(base.lat + float(dlat), LAT_RANGE),
                           _within(base.lon + float(dlon), LON_RANGE)))
    return out


def _within(value: float, bounds: tuple[float, float]) -> float:
    return round(min(max(value, bounds[0]), bounds[1]), 5)


def _with_population(k: Kommune, einwohner: int) -> Kommune:
    return Kommune(k.kommune_id, k.name, k.typ, k.bundesland, k.kreis, k.kreis_ags, einwohner,
                   k.lat, k.lon)


def choose_communes(n: int, seed: int, geo_dir: Path = GEO_DIR) -> list[Kommune]:
    """Pick `n` real places: a curated mix up to CURATED_MAX, else Gemeinden nationwide."""
    candidates = load_candidates(geo_dir)
    if n <= CURATED_MAX:
        return choose_model_communes(n, candidates, py_rng(seed, "kommunen"))
    return choose_national_communes(n, candidates, seed)


# ---- timelines ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Meilenstein:
    """One milestone row: planned and reached date (None = open) and a short internal note."""

    meilenstein: str
    geplant_am: dt.date | None
    erreicht_am: dt.date | None
    notiz: str = ""


@dataclass(frozen=True)
class Verlauf:
    """One commune's invented track: its scenario, the derived status and its milestones."""

    kommune_id: str
    szenario: str
    status: str
    start_geplant: dt.date | None
    meilensteine: tuple[Meilenstein, ...]

    def erreicht(self, meilenstein: str) -> dt.date | None:
        """Date the milestone was reached, or None."""
        return next((m.erreicht_am for m in self.meilensteine if m.meilenstein == meilenstein),
                    None)

    def letztes_erreicht(self) -> dt.date | None:
        """Date of the last reached milestone, or None."""
        dates = [m.erreicht_am for m in self.meilensteine if m.erreicht_am]
        return max(dates) if dates else None


def assign_scenarios(n: int, rng: random.Random) -> list[str]:
    """The scenario mix of SCENARIO_MIX scaled to `n` communes, in random order."""
    counts = apportion(n, [c for _, c in SCENARIO_MIX])
    scenarios = [s for (s, _), c in zip(SCENARIO_MIX, counts, strict=True) for _ in range(c)]
    rng.shuffle(scenarios)
    return scenarios


def derive_status(szenario: str, reached: dict[str, dt.date | None]) -> str:
    """The registry status that matches the reached milestones."""
    if szenario == "ausgeschieden" and reached.get("Erstgespräch"):
        status = "ausgeschieden"
    elif reached.get("Abschluss"):
        status = "abgeschlossen"
    elif reached.get("Erstgespräch"):
        status = "aktiv"
    elif reached.get("Aufnahme"):
        status = "aufgenommen"
    elif reached.get("Bewerbung"):
        status = "beworben"
    else:
        status = "interessiert"
    assert status in STATUS
    return status


TRACK: tuple[str, ...] = MEILENSTEINE[MEILENSTEINE.index("Erstgespräch"):]  # the own track


@dataclass(frozen=True)
class _Plan:
    """Where a scenario puts a track: planned Erstgespräch, registry start, first open step."""

    start: dt.date  # planned Erstgespräch; track milestones are planned relative to it
    start_geplant: dt.date  # start as in the registry (differs when the first meeting moved)
    anchor: dt.date  # Bewerbung, Ratsbeschluss and Aufnahme are planned relative to it
    stop: str | None  # first track milestone not reached in this scenario
    notes: dict[str, str]  # notes on open milestones


def late_delays(offsets: dict[str, int], rng: random.Random) -> dict[str, int]:
    """Delays of a late track: 2–8 weeks on the way, 7–9 months from Erstgespräch to Abschluss."""
    delays = {"Erstgespräch": rng.randint(0, 7)}
    total = delays["Erstgespräch"]
    for m, (lo, hi) in LATE_STEP_DAYS.items():
        total += rng.randint(lo, hi)
        delays[m] = total
    length = rng.randint(*LATE_TRACK_DAYS)
    end = max(delays["Erstgespräch"] + length, offsets["Workshop"] + delays["Workshop"] + 21)
    delays["Abschluss"] = end - offsets["Abschluss"]
    return delays


def plan_scenario(
    szenario: str,
    offsets: dict[str, int],
    delays: dict[str, int],
    heute: dt.date,
    rng: random.Random,
) -> _Plan:
    """Choose the track start for a scenario so that it is in that state at `heute`.

    Starts stay within the programme window (5 Nov 2019 – 31 Jan 2022); when `heute` makes a
    scenario impossible the start is clamped and the status is derived from what was reached.
    """
    days = dt.timedelta
    stop: str | None = None
    notes: dict[str, str] = {}
    if szenario in ("abgeschlossen", "abgeschlossen_verspaetet"):
        end = offsets["Abschluss"] + delays["Abschluss"]
        latest = heute - days(end + rng.randint(3, 45))
        start = uniform_date(rng, PROGRAMM_START, min(LETZTER_START, latest))
    elif szenario == "aktiv":
        earliest = heute - days(offsets["Abschluss"] - 10)  # Abschluss still ahead
        start = uniform_date(rng, max(PROGRAMM_START, earliest),
                             min(LETZTER_START, heute - days(5)))
    elif szenario == "aktiv_ueberfaellig":
        stop = rng.choices(TRACK[1:], weights=(0.25, 0.3, 0.3, 0.15))[0]
        start = heute - days(offsets[stop] + rng.randint(7, 70))
        if rng.random() < 0.5:
            notes[stop] = "Termin wird neu abgestimmt"
    elif szenario == "ausgeschieden":
        stop = rng.choice(TRACK[1:-1])
        latest = heute - days(offsets[stop] + 21)
        start = uniform_date(rng, PROGRAMM_START, min(LETZTER_START, latest))
        notes[stop] = "Kommune hat die Teilnahme beendet"
    elif szenario == "aufgenommen":
        latest = min(LETZTER_START, heute + days(21))
        start_geplant = uniform_date(rng, max(PROGRAMM_START, latest - days(60)), latest)
        start = start_geplant
        if start_geplant <= heute:  # the first meeting was moved to a date after heute
            start = heute + days(rng.randint(7, 28))
            notes["Erstgespräch"] = "Termin verschoben"
        anchor = min(start_geplant, heute - days(7))
        return _Plan(start, start_geplant, anchor, "Erstgespräch", notes)
    else:
        raise ValueError(f"unknown scenario {szenario!r}")
    start = clamp_date(start, PROGRAMM_START, LETZTER_START)
    return _Plan(start, start, start, stop, notes)


def milestone_rows(
    plan: _Plan,
    offsets: dict[str, int],
    delays: dict[str, int],
    done_notes: dict[str, str],
    heute: dt.date,
    running_to_plan: bool,
) -> tuple[Meilenstein, ...]:
    """Planned and reached dates in schema order; reached dates are working days, never after
    `heute`, never before the previous milestone, and nothing is reached after an open one."""
    rows: list[Meilenstein] = []
    previous: dt.date | None = PROGRAMM_START - dt.timedelta(days=120)
    for m in MEILENSTEINE:
        base = plan.start if m in TRACK else plan.anchor
        planned = weekday_or_before(base + dt.timedelta(days=offsets[m]))
        reached: dt.date | None = weekday_or_before(planned + dt.timedelta(days=delays[m]))
        if plan.stop is not None and m in TRACK and TRACK.index(m) >= TRACK.index(plan.stop):
            reached = None
        if reached and m in TRACK:
            reached = max(reached, PROGRAMM_START)  # nothing happens before the kick-off
        if running_to_plan and reached and reached > heute and planned < heute:
            reached = planned  # running to plan: what was due has been done
        if previous is None or (reached and reached > heute):
            reached = None
        if reached and previous:
            reached = max(reached, previous)
        previous = reached
        note = plan.notes.get(m) or (done_notes.get(m, "") if reached else "")
        rows.append(Meilenstein(m, planned, reached, note))
    return tuple(rows)


def make_timeline(
    kommune_id: str, typ: str, szenario: str, heute: dt.date, rng: random.Random
) -> Verlauf:
    """Milestones for one commune in schema order, realistic relative to `heute`.

    Scenarios: on time, late (7–9 months), stalled with overdue milestones, just admitted,
    dropped out mid-track, only applied or interested. No `erreicht_am` is ever after `heute`,
    and the status is derived from what was reached, so the two always agree.
    """
    if szenario in ("beworben", "interessiert"):
        return _application_only(kommune_id, szenario, heute, rng)
    offsets = {m: rng.randint(lo, hi) for m, (lo, hi) in PLAN_OFFSET_DAYS.items()}
    delays = {m: rng.randint(lo, hi) for m, (lo, hi) in ON_TIME_DELAY.items()}
    if szenario == "abgeschlossen_verspaetet":
        delays.update(late_delays(offsets, rng))
    elif szenario == "aktiv_ueberfaellig":  # slightly late until it stalls
        delays.update({m: rng.randint(0, 12) for m in TRACK[1:]})
    plan = plan_scenario(szenario, offsets, delays, heute, rng)
    done_notes = {  # shown only when the milestone was reached
        "Ratsbeschluss": "Beschluss des Kreistags" if typ == "Landkreis" else "",
        "Erstgespräch": "per Videokonferenz" if rng.random() < 0.35 else "",
        "Workshop": "hybrid durchgeführt" if rng.random() < 0.25 else "",
    }
    rows = milestone_rows(plan, offsets, delays, done_notes, heute, szenario == "aktiv")
    status = derive_status(szenario, {r.meilenstein: r.erreicht_am for r in rows})
    return Verlauf(kommune_id, szenario, status, plan.start_geplant, rows)


def _application_only(
    kommune_id: str, szenario: str, heute: dt.date, rng: random.Random
) -> Verlauf:
    """Interested or applied communes have only the Bewerbung row."""
    if szenario == "beworben":
        plan = heute - dt.timedelta(days=rng.randint(7, 35))
        row = Meilenstein(MEILENSTEINE[0], plan, plan - dt.timedelta(days=rng.randint(0, 3)))
    else:
        row = Meilenstein(MEILENSTEINE[0], heute + dt.timedelta(days=rng.randint(14, 45)), None,
                          "Interesse im Infogespräch bekundet")
    status = derive_status(szenario, {row.meilenstein: row.erreicht_am})
    return Verlauf(kommune_id, szenario, status, None, (row,))


def make_timelines(
    communes: list[Kommune], heute: dt.date, seed: int
) -> list[Verlauf]:
    """Scenarios and timelines for all communes (one Python step per commune)."""
    scenarios = assign_scenarios(len(communes), py_rng(seed, "szenarien"))
    rng = py_rng(seed, "verlauf")
    return [make_timeline(k.kommune_id, k.typ, s, heute, rng)
            for k, s in zip(communes, scenarios, strict=True)]


# ---- registry rows ------------------------------------------------------------------------------


def _ja_nein(flag: bool) -> str:
    return "ja" if flag else "nein"


def _de_date(d: dt.date | None) -> str:
    return d.strftime("%d.%m.%Y") if d else ""


def _de_decimal(x: float) -> str:
    return f"{x:.5f}".replace(".", ",")


def make_registry(communes: list[Kommune], verlaeufe: list[Verlauf], seed: int) -> pl.DataFrame:
    """The `kommunen` table as German-formatted text, columns in schema order.

    Contact persons are fictitious ("Alex Beispiel (fiktiv)", vorname.nachname@example.org,
    "0000 123456"); names are unique while there are enough combinations.
    """
    rng = py_rng(seed, "kontakte")
    combos = [(v, n) for n in NACHNAMEN for v in VORNAMEN]
    n = len(communes)
    people = rng.sample(combos, n) if n <= len(combos) else [rng.choice(combos) for _ in range(n)]
    consent = set(rng.sample(range(n), round(ZUSTIMMUNG_SHARE * n)))
    rows = []
    for i, (k, v) in enumerate(zip(communes, verlaeufe, strict=True)):
        vorname, nachname = people[i]
        flags = {col: _ja_nein(rng.random() < p) for col, p in VORAUSSETZUNG_JA.items()}
        notiz = rng.choice(KOMMUNE_NOTIZEN) if rng.random() < NOTIZ_SHARE else ""
        if v.status == "ausgeschieden":
            notiz = "Teilnahme nach Personalwechsel beendet"
        rows.append({
            "kommune_id": k.kommune_id,
            "name": k.name,
            "typ": k.typ,
            "bundesland": k.bundesland,
            "kreis": k.kreis,
            "einwohner": str(k.einwohner),
            "lat": _de_decimal(k.lat),
            "lon": _de_decimal(k.lon),
            "status": v.status,
            "start_geplant": _de_date(v.start_geplant),
            "ansprechperson": f"{vorname} {nachname} (fiktiv)",
            "email": f"{ascii_fold(vorname)}.{ascii_fold(nachname)}@example.org",
            "telefon": f"0000 {rng.randint(100000, 999999)}",
            "vernetzung_zustimmung": _ja_nein(i in consent),
            **flags,
            "notiz": notiz,
        })
    return pl.DataFrame(rows, schema={c: pl.String for c in KOMMUNEN.column_names})


def make_milestone_table(verlaeufe: list[Verlauf]) -> pl.DataFrame:
    """The `meilensteine` table as German-formatted text, columns in schema order."""
    rows = [
        (v.kommune_id, m.meilenstein, _de_date(m.geplant_am), _de_date(m.erreicht_am), m.notiz)
        for v in verlaeufe
        for m in v.meilensteine
    ]
    return pl.DataFrame(rows, schema={c: pl.String for c in MEILENSTEINE_ENTITY.column_names},
                        orient="row")


# ---- Selbstcheck --------------------------------------------------------------------------------


def make_selbstcheck(verlaeufe: list[Verlauf], seed: int) -> tuple[pl.DataFrame, dict[str, str]]:
    """Seven rows per commune that reached the Fragebogen; 2–3 priorities each.

    Levels scatter around a per-field mean plus a per-commune effect. Priorities are drawn
    without replacement (Gumbel top-k) with weights favouring popular fields and weak levels, so
    communes share priorities. Returns the table and each commune's main priority.
    """
    rng = np_rng(seed, "selbstcheck")
    done = [(v.kommune_id, v.erreicht("Fragebogen")) for v in verlaeufe if v.erreicht("Fragebogen")]
    m, f = len(done), len(HANDLUNGSFELDER)
    mean = np.array(list(SC_MITTEL.values()))
    effect = rng.normal(0.0, 0.4, (m, 1))
    stand = np.clip(np.rint(mean + effect + rng.normal(0.0, 0.7, (m, f))), 1, 4).astype(int)
    weight = np.array(list(SC_BELIEBTHEIT.values())) * np.where(stand <= 2, 1.6, 0.6)
    keys = np.log(weight) + rng.gumbel(size=(m, f))
    k = rng.integers(2, 4, m)  # 2 or 3 priorities
    rank = np.argsort(np.argsort(-keys, axis=1), axis=1)
    prio = rank < k[:, None]
    top = np.argmax(keys, axis=1)
    ids = [kid for kid, _ in done]
    dates = [_de_date(d) for _, d in done]
    frame = pl.DataFrame({
        "kommune_id": np.repeat(np.array(ids, dtype=object), f).tolist(),
        "handlungsfeld": list(HANDLUNGSFELDER) * m,
        "stand": stand.ravel().astype(str).tolist(),
        "prioritaet": np.where(prio.ravel(), "ja", "nein").tolist(),
        "erhoben_am": np.repeat(np.array(dates, dtype=object), f).tolist(),
    }, schema={c: pl.String for c in SELBSTCHECK.column_names})
    main_priority = {kid: HANDLUNGSFELDER[t] for kid, t in zip(ids, top, strict=True)}
    return frame, main_priority


# ---- module uptake ------------------------------------------------------------------------------

_EPOCH = dt.date(1970, 1, 1)
_NEVER = np.iinfo(np.int32).max


def _days(d: dt.date | None) -> int:
    return (d - _EPOCH).days if d else _NEVER


def _to_weekday(days: np.ndarray) -> np.ndarray:
    """Move Saturdays and Sundays back to the Friday before (never later than the input)."""
    weekday = (days + 3) % 7  # 1970-01-01 was a Thursday; Monday = 0
    return days - np.where(weekday == 5, 1, 0) - np.where(weekday == 6, 2, 0)


@dataclass(frozen=True)
class Events:
    """Shared events (one entry each) and their participations (event index, commune index)."""

    datum: np.ndarray  # int days since epoch, per event
    format: np.ndarray  # str, per event
    thema: np.ndarray  # str, per event
    teilnahme_event: np.ndarray  # int, per participation
    teilnahme_kommune: np.ndarray  # int, per participation


def _draw(rng: np.random.Generator, options: dict[str, float], size: int) -> np.ndarray:
    keys = np.array(list(options), dtype=object)
    p = np.array(list(options.values()))
    return keys[rng.choice(len(keys), size, p=p / p.sum())]


def _assign(
    datum: np.ndarray,
    sizes: np.ndarray,
    start: np.ndarray,
    end: np.ndarray,
    rng: np.random.Generator,
    same_land: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Pick distinct participating communes per event among those running at its date.

    A commune is eligible from `start` to `end` (inclusive, epoch days). With `same_land`
    (Land code per commune) the further communes of an event come from the first one's Land.
    """
    ev_parts, ko_parts = [], []
    for e, (d, size) in enumerate(zip(datum, sizes, strict=True)):
        pool = np.flatnonzero((start <= d) & (d <= end))
        if not len(pool):
            continue
        if same_land is not None and size > 1:
            first = rng.choice(pool)
            mates = pool[(same_land[pool] == same_land[first]) & (pool != first)]
            k = min(size - 1, len(mates))
            chosen = np.concatenate([[first], rng.choice(mates, k, replace=False)])
        else:
            chosen = rng.choice(pool, min(size, len(pool)), replace=False)
        ev_parts.append(np.full(len(chosen), e))
        ko_parts.append(chosen.astype(np.int64))
    if not ev_parts:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    return np.concatenate(ev_parts), np.concatenate(ko_parts)


def make_m2_events(
    start: np.ndarray,
    end: np.ndarray,
    heute: dt.date,
    seed: int,
    target_rows: int | None,
) -> Events:
    """Module 2 networking events shared by several communes.

    Without a row target the calendar has ~1.5 events a month with 2–10 communes each (Beratung
    1–3). With a target, events are added in batches until the participations reach it (the last
    event is cut), with group sizes growing with the number of started communes.
    """
    rng = np_rng(seed, "modul2")
    started = start[start < _NEVER]
    if not len(started) or (target_rows is not None and target_rows <= 0):
        return _no_events()
    first, last = int(started.min()) + 14, _days(heute)
    if first > last:
        return _no_events()
    hi = 10 if target_rows is None else max(10, len(started) // 30)

    def batch(count: int) -> tuple[np.ndarray, ...]:
        datum = _to_weekday(rng.integers(first, last + 1, count))
        fmt = _draw(rng, M2_FORMATE, count)
        sizes = np.where(fmt == "Beratung", rng.integers(1, 4, count),
                         rng.integers(2, hi + 1, count))
        thema = _draw(rng, M2_THEMEN, count)
        ev, ko = _assign(datum, sizes, start, end, rng)
        return datum, fmt, thema, ev, ko

    if target_rows is None:
        months = max(1.0, (last - first) / 30.44)
        datum, fmt, thema, ev, ko = batch(max(1, round(M2_EVENTS_PER_MONTH * months)))
        return Events(datum, fmt, thema, ev, ko)

    parts: list[tuple[np.ndarray, ...]] = []
    rows, offset = 0, 0
    while rows < target_rows:
        need = target_rows - rows
        count = max(16, int(need / ((2 + hi) / 2) * 1.1))
        datum, fmt, thema, ev, ko = batch(count)
        if not len(ev):  # nobody can attend (e.g. every started commune left early)
            break
        parts.append((datum, fmt, thema, ev + offset, ko))
        rows += len(ev)
        offset += count
    if not parts:
        return _no_events()
    datum, fmt, thema = (np.concatenate([p[i] for p in parts]) for i in range(3))
    ev = np.concatenate([p[3] for p in parts])[:target_rows]
    ko = np.concatenate([p[4] for p in parts])[:target_rows]
    return Events(datum, fmt, thema, ev, ko)


def make_m3_events(
    auswertung: np.ndarray, end: np.ndarray, land: np.ndarray, heute: dt.date, seed: int
) -> Events:
    """Optional module 3: local dialogue events, mostly one commune, a few joint within a Land."""
    rng = np_rng(seed, "modul3")
    eligible_from = auswertung[auswertung < _NEVER] + 14
    last = _days(heute)
    eligible_from = eligible_from[eligible_from <= last]
    count = round(M3_SHARE * len(eligible_from))
    if not count:
        return _no_events()
    datum = _to_weekday(rng.integers(int(eligible_from.min()), last + 1, count))
    sizes = np.array(list(M3_GROUP_SIZES))[
        rng.choice(len(M3_GROUP_SIZES), count, p=list(M3_GROUP_SIZES.values()))]
    thema = _draw(rng, M3_THEMEN, count)
    fmt = np.full(count, "Dialogveranstaltung", dtype=object)
    ev, ko = _assign(datum, sizes, auswertung + 14, end, rng, same_land=land)
    return Events(datum, fmt, thema, ev, ko)


def _no_events() -> Events:
    empty = np.zeros(0, np.int64)
    return Events(empty, np.zeros(0, object), np.zeros(0, object), empty, empty)


def _event_frame(events: Events, modul: int, ids: pl.Series) -> pl.DataFrame:
    """Participations of shared events with ids like "M2-2020-03-1" (per month, by date)."""
    used = np.unique(events.teilnahme_event)
    ev = pl.DataFrame({
        "_event": used,
        "datum": pl.Series(events.datum[used].astype(np.int32)).cast(pl.Date),
        "format": events.format[used].astype(str),
        "thema": events.thema[used].astype(str),
    }).sort(["datum", "_event"]).with_columns(
        (pl.int_range(pl.len()).over(pl.col("datum").dt.strftime("%Y-%m")) + 1).alias("_nr")
    ).with_columns(
        pl.format("M{}-{}-{}", pl.lit(modul), pl.col("datum").dt.strftime("%Y-%m"), pl.col("_nr"))
        .alias("veranstaltung_id")
    )
    part = pl.DataFrame({
        "_event": events.teilnahme_event,
        "kommune_id": ids.gather(events.teilnahme_kommune),
    })
    return part.join(ev, on="_event").select(
        "kommune_id", "veranstaltung_id", pl.lit(modul).alias("modul"), "format",
        pl.col("format").alias("_art"), "thema", "datum",
    )


def _m1_frame(verlaeufe: list[Verlauf], main_priority: dict[str, str]) -> pl.DataFrame:
    """Module 1: the commune's own Erstgespräch and Selbstcheck workshop (own event ids)."""
    rows = []
    for v in verlaeufe:
        if d := v.erreicht("Erstgespräch"):
            rows.append((v.kommune_id, f"M1-{v.kommune_id}-EG", "Erstgespräch", "Erstgespräch",
                         MODULE[1], d))
        if d := v.erreicht("Workshop"):
            rows.append((v.kommune_id, f"M1-{v.kommune_id}-WS", "Workshop",
                         "Selbstcheck-Workshop", main_priority.get(v.kommune_id, MODULE[1]), d))
    frame = pl.DataFrame(
        rows, orient="row",
        schema={"kommune_id": pl.String, "veranstaltung_id": pl.String, "format": pl.String,
                "_art": pl.String, "thema": pl.String, "datum": pl.Date},
    )
    return frame.with_columns(pl.lit(1).alias("modul"))


def add_participants(frame: pl.DataFrame, seed: int) -> pl.DataFrame:
    """`teilnehmende` and sector counts per row, vectorised.

    Sector sums never exceed the total: for some rows they are left empty, for some they add up
    exactly, for the rest part of the participants has no known sector.
    """
    rng = np_rng(seed, "teilnahme")
    n = frame.height
    kinds = list(TEILNAHME)
    kind_idx = frame.get_column("_art").replace_strict(
        {k: i for i, k in enumerate(kinds)}, return_dtype=pl.Int64).to_numpy()
    lo = np.array([TEILNAHME[k][0] for k in kinds])[kind_idx]
    hi = np.array([TEILNAHME[k][1] for k in kinds])[kind_idx]
    weights = np.array([TEILNAHME[k][2] for k in kinds], dtype=float)
    weights /= weights.sum(axis=1, keepdims=True)
    total = rng.integers(lo, hi + 1)
    mode = rng.random(n)
    empty = mode < SECTORS_EMPTY_SHARE
    partial = mode >= SECTORS_EMPTY_SHARE + SECTORS_EQUAL_SHARE
    unknown = np.where(partial, rng.integers(1, np.maximum(2, total // 4 + 1)), 0)
    unknown = np.minimum(unknown, total)
    sectors = rng.multinomial(total - unknown, weights[kind_idx]) if n else np.zeros((0, 5))
    cols = {
        s: pl.Series(s, sectors[:, i], dtype=pl.Int64).set(pl.Series(empty), None)
        for i, s in enumerate(SEKTOREN)
    }
    return frame.with_columns(pl.Series("teilnehmende", total, dtype=pl.Int64), **cols)


def make_uptake(
    communes: list[Kommune],
    verlaeufe: list[Verlauf],
    main_priority: dict[str, str],
    heute: dt.date,
    seed: int,
    target_rows: int | None = None,
) -> pl.DataFrame:
    """The `modulnutzung` table (typed): modules 1, 2 and 3, only while a commune takes part.

    A commune can join shared events from its Erstgespräch on; one that dropped out stops a
    month after its last milestone; finished communes keep networking. No date after `heute`.
    """
    start = np.array([_days(v.erreicht("Erstgespräch")) for v in verlaeufe], dtype=np.int64)
    auswertung = np.array([_days(v.erreicht("Auswertung")) for v in verlaeufe], dtype=np.int64)
    end = np.array([
        _days(v.letztes_erreicht()) + 30 if v.status == "ausgeschieden" else _days(heute)
        for v in verlaeufe
    ], dtype=np.int64)
    land = np.array([BUNDESLAENDER.index(k.bundesland) for k in communes])
    ids = pl.Series("kommune_id", [k.kommune_id for k in communes])

    m1 = _m1_frame(verlaeufe, main_priority)
    m3 = _event_frame(make_m3_events(auswertung, end, land, heute, seed), 3, ids)
    target_m2 = None if target_rows is None else target_rows - m1.height - m3.height
    m2 = _event_frame(make_m2_events(start, end, heute, seed, target_m2), 2, ids)
    columns = ["kommune_id", "veranstaltung_id", "modul", "format", "_art", "thema", "datum"]
    frame = pl.concat([f.select(columns).cast({"modul": pl.Int64}) for f in (m1, m2, m3)])
    frame = frame.sort(["datum", "veranstaltung_id", "kommune_id"])
    return add_participants(frame, seed).drop("_art")


def format_uptake(frame: pl.DataFrame) -> pl.DataFrame:
    """Typed uptake rows as German-formatted text in schema column order."""
    return frame.select(
        pl.col(c).dt.strftime("%d.%m.%Y") if c == "datum" else pl.col(c).cast(pl.String)
        for c in MODULNUTZUNG.column_names
    )


# ---- files --------------------------------------------------------------------------------------


def excel_csv_bytes(frame: pl.DataFrame) -> bytes:
    """German Excel CSV: `;`, UTF-8 with BOM, empty string for missing, LF line ends."""
    frame = frame.with_columns(pl.col(pl.String).replace("", None))  # "" would be quoted
    text = frame.write_csv(separator=";", null_value="", quote_style="necessary")
    return "\ufeff".encode() + text.encode("utf-8")


def source_toml(heute: dt.date, seed: int) -> str:
    """`quelle.toml`: data date and the "Beispieldaten" label for the dashboard."""
    return (
        f'datenstand = "{heute.isoformat()}"\n'
        "beispieldaten = true\n"
        f'bezeichnung = "Synthetische Beispieldaten (Seed {seed})"\n'
    )


def write_files(out: Path, tables: dict[str, pl.DataFrame], heute: dt.date, seed: int) -> None:
    """Write the four CSV files and `quelle.toml` into `out` (created if missing)."""
    out.mkdir(parents=True, exist_ok=True)
    for name, frame in tables.items():
        (out / f"{name}.csv").write_bytes(excel_csv_bytes(frame))
    (out / SOURCE_FILE).write_text(source_toml(heute, seed), encoding="utf-8")


# ---- orchestration ------------------------------------------------------------------------------


def _de_int(n: int) -> str:
    return f"{n:,}".replace(",", ".")


def generate(
    out: Path,
    kommunen: int = DEFAULT_KOMMUNEN,
    seed: int = DEFAULT_SEED,
    heute: dt.date = DEFAULT_HEUTE,
    events: int | None = None,
    geo_dir: Path = GEO_DIR,
    progress: Progress = lambda _msg: None,
) -> dict[str, int]:
    """Generate all files into `out`; return the row count per table."""
    t0 = time.perf_counter()

    def step(msg: str) -> None:
        progress(f"[{time.perf_counter() - t0:5.1f} s] {msg}")

    communes = choose_communes(kommunen, seed, geo_dir)
    step(f"Kommunen: {_de_int(len(communes))} echte Orte ausgewählt")
    verlaeufe = make_timelines(communes, heute, seed)
    status = Counter(v.status for v in verlaeufe)
    step("Zeitpläne: " + ", ".join(f"{s} {status[s]}" for s in STATUS if status[s]))
    selbstcheck, main_priority = make_selbstcheck(verlaeufe, seed)
    uptake = make_uptake(communes, verlaeufe, main_priority, heute, seed, events)
    step(f"Modulnutzung: {_de_int(uptake.height)} Zeilen, "
         f"{_de_int(uptake.get_column('veranstaltung_id').n_unique())} Veranstaltungen")
    tables = {
        KOMMUNEN.name: make_registry(communes, verlaeufe, seed),
        MEILENSTEINE_ENTITY.name: make_milestone_table(verlaeufe),
        MODULNUTZUNG.name: format_uptake(uptake),
        SELBSTCHECK.name: selbstcheck,
    }
    write_files(out, tables, heute, seed)
    step(f"Geschrieben nach {out}")
    return {name: frame.height for name, frame in tables.items()}


def main(argv: list[str] | None = None) -> int:
    """Command line entry point."""
    parser = argparse.ArgumentParser(prog="python -m tools.demo", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", default=str(ROOT / "data" / "demo"), help="Zielordner")
    parser.add_argument("--kommunen", type=int, default=DEFAULT_KOMMUNEN,
                        help=f"Anzahl Kommunen (Standard {DEFAULT_KOMMUNEN}; über 11.084 kommen "
                        "synthetische Kopien echter Gemeinden hinzu, als „(synthetisch n)“ "
                        "markiert – nur für Lasttests)")
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED,
                        help=f"Startwert des Zufalls (Standard {DEFAULT_SEED})")
    parser.add_argument("--heute", type=dt.date.fromisoformat, default=DEFAULT_HEUTE,
                        help=f"Datenstand JJJJ-MM-TT (Standard {DEFAULT_HEUTE.isoformat()})")
    parser.add_argument("--events", type=int, default=None,
                        help="ungefähre Zahl der Zeilen in modulnutzung (Standard: natürlich)")
    args = parser.parse_args(argv)
    if args.kommunen < 1:
        parser.error("--kommunen muss mindestens 1 sein")
    counts = generate(Path(args.out), args.kommunen, args.seed, args.heute, args.events,
                      progress=lambda msg: print(msg, flush=True))
    print("Zeilen: " + ", ".join(f"{k} {_de_int(v)}" for k, v in counts.items()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
