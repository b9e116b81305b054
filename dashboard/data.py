"""The only module that talks to DuckDB: read-only, parameterised, returns polars DataFrames.

Every public function takes a `Viewer` (role + own commune). What a role may see is decided here,
in `apply_policy`, so a page cannot forget it: personal contact data, internal notes and
Selbstcheck values are dropped or blanked for roles that may not see them.

The database file is swapped atomically by the ETL; `_connection()` notices a new file (inode or
mtime changed) and opens it, so a new build is picked up without restarting the app. Query results
are cached per build id and SQL text only, before any role filtering, so a cache never carries
one role's rows to another.
"""

from __future__ import annotations

import datetime as dt
import os
import threading
from collections import OrderedDict
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any, Literal

import duckdb
import polars as pl

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DB = ROOT / "data" / "monitor.duckdb"

Role = Literal["staff", "kommune", "public"]
ROLES: tuple[Role, ...] = ("staff", "kommune", "public")

PERSONAL_COLUMNS = ("ansprechperson", "email", "telefon")
INTERNAL_COLUMNS = ("notiz",)
SELBSTCHECK_COLUMNS = ("stand", "prioritaet", "prioritaeten", "staende", "erhoben_am")


class DatabaseMissing(Exception):
    """No database has been built yet (German message for the UI)."""


@dataclass(frozen=True)
class Viewer:
    """Who is looking: the role and, for role `kommune`, the own commune's key."""

    role: Role
    kommune_id: str | None = None

    def __post_init__(self) -> None:
        if self.role not in ROLES:
            raise ValueError(f"unknown role {self.role!r}")
        if self.role == "kommune" and not self.kommune_id:
            raise ValueError("role 'kommune' needs a kommune_id")

    @property
    def is_staff(self) -> bool:
        return self.role == "staff"


STAFF = Viewer("staff")
PUBLIC = Viewer("public")


@dataclass(frozen=True)
class Filters:
    """Shared page filters; an empty tuple means "all"."""

    bundesland: tuple[str, ...] = ()
    typ: tuple[str, ...] = ()
    groessenklasse: tuple[str, ...] = ()
    status: tuple[str, ...] = ()
    start_quartal: tuple[str, ...] = ()

    def where(self, alias: str = "") -> tuple[str, list[Any]]:
        """SQL condition and parameters on mart_kommune columns (`alias.` prefix if given)."""
        prefix = f"{alias}." if alias else ""
        clauses, params = ["true"], []
        for f in fields(self):
            values = getattr(self, f.name)
            if values:
                clauses.append(f"list_contains(?, {prefix}{f.name})")
                params.append(list(values))
        return " and ".join(clauses), params

    @property
    def active(self) -> bool:
        return any(getattr(self, f.name) for f in fields(self))


NO_FILTERS = Filters()


# ---- connection ----------------------------------------------------------------------------------


@dataclass
class _Handle:
    path: Path
    stamp: tuple[int, int]
    con: duckdb.DuckDBPyConnection
    build_id: str
    cache: OrderedDict = field(default_factory=OrderedDict)


_lock = threading.Lock()
_handle: _Handle | None = None
_CACHE_SIZE = 256


def database_path() -> Path:
    """The database file: `$WK_DB` if set, else data/monitor.duckdb."""
    return Path(os.environ.get("WK_DB", DEFAULT_DB))


def _stamp(path: Path) -> tuple[int, int]:
    st = path.stat()
    return st.st_ino, st.st_mtime_ns


def _connection() -> _Handle:
    """Open (or re-open after a new build) the read-only connection."""
    global _handle
    path = database_path()
    if not path.exists():
        raise DatabaseMissing(
            f"Es gibt noch keine Datenbank ({path}). Bitte bauen Sie sie mit "
            "„make data“ oder laden Sie Daten auf der Seite „Daten“ hoch."
        )
    stamp = _stamp(path)
    with _lock:
        if _handle is None or _handle.path != path or _handle.stamp != stamp:
            con = duckdb.connect(str(path), read_only=True)
            build_id = con.execute("select build_id from meta_build").fetchone()[0]
            _handle = _Handle(path, stamp, con, build_id)
        return _handle


def query(sql: str, params: list[Any] | None = None) -> pl.DataFrame:
    """Run a read-only query on the current build; results cached per build, SQL and parameters.

    Internal: pages call the viewer-aware functions below, never this one.
    """
    handle = _connection()
    key = (sql, repr(params))
    with _lock:
        hit = handle.cache.get(key)
        if hit is not None:
            handle.cache.move_to_end(key)
            return hit
    cur = handle.con.cursor()  # one cursor per call: connections are not thread-safe
    try:
        result = cur.sql(sql, params=params or None).pl()
    finally:
        cur.close()
    with _lock:
        handle.cache[key] = result
        if len(handle.cache) > _CACHE_SIZE:
            handle.cache.popitem(last=False)
    return result


# ---- role policy: the one place that decides what a viewer sees ----------------------------------


def apply_policy(frame: pl.DataFrame, viewer: Viewer) -> pl.DataFrame:
    """Drop or blank columns the viewer may not see, row by row where it depends on the commune.

    - staff: everything.
    - kommune: no internal notes; contact data only for the own commune and for communes that
      consented to networking; Selbstcheck values only for the own commune.
    - public: no contact data, notes, consent flags or Selbstcheck values at all.
    """
    if viewer.is_staff:
        return frame
    drop = [c for c in INTERNAL_COLUMNS if c in frame.columns]
    if viewer.role == "public":
        drop += [c for c in (*PERSONAL_COLUMNS, *SELBSTCHECK_COLUMNS, "vernetzung_zustimmung")
                 if c in frame.columns]
        return frame.drop(drop)
    frame = frame.drop(drop)
    if "kommune_id" not in frame.columns:
        return frame.drop([c for c in (*PERSONAL_COLUMNS, *SELBSTCHECK_COLUMNS)
                           if c in frame.columns])
    own = pl.col("kommune_id") == viewer.kommune_id
    consent = (pl.col("vernetzung_zustimmung").fill_null(False)
               if "vernetzung_zustimmung" in frame.columns else pl.lit(False))
    blank = [pl.when(own | consent).then(pl.col(c)).alias(c)
             for c in PERSONAL_COLUMNS if c in frame.columns]
    blank += [pl.when(own).then(pl.col(c)).alias(c)
              for c in SELBSTCHECK_COLUMNS if c in frame.columns]
    return frame.with_columns(blank) if blank else frame


# ---- build metadata ------------------------------------------------------------------------------


@dataclass(frozen=True)
class BuildInfo:
    build_id: str
    erstellt_am: dt.datetime
    datenstand: dt.date
    beispieldaten: bool
    bezeichnung: str
    dateien: pl.DataFrame


def build_info() -> BuildInfo:
    """Which build is being shown: id, time, data date, demo flag and input files."""
    meta = query("select * from meta_build").row(0, named=True)
    files = query("select datei_art, datei, sha256, zeilen_gelesen, zeilen_geladen, "
                  "zeilen_abgelehnt from meta_dateien order by datei_art")
    return BuildInfo(meta["build_id"], meta["erstellt_am"], meta["datenstand"],
                     meta["beispieldaten"], meta["bezeichnung"], files)


def rejects(viewer: Viewer) -> pl.DataFrame:
    """The rejected rows of the current build (staff only: values can hold personal data)."""
    if not viewer.is_staff:
        raise PermissionError("Nur das Programmteam sieht den Prüfbericht.")
    return query("select * from meta_ablehnungen order by datei, zeile, spalte")


# ---- communes and key figures ----------------------------------------------------------------------


def filter_options() -> dict[str, list[str]]:
    """The values each shared filter can take, in a sensible order."""
    k = query("select * from mart_kommune")
    quarters = k.get_column("start_quartal").drop_nulls().unique().sort().to_list()
    klassen = query("select groessenklasse from ref_groessenklasse order by reihenfolge")
    from etl.schema import BUNDESLAENDER, KOMMUNE_TYPEN, STATUS

    return {
        "bundesland": [b for b in BUNDESLAENDER if b in set(k.get_column("bundesland"))],
        "typ": list(KOMMUNE_TYPEN),
        "groessenklasse": klassen.get_column("groessenklasse").to_list(),
        "status": list(STATUS),
        "start_quartal": quarters,
    }


def load_kommunen(viewer: Viewer, filters: Filters = NO_FILTERS) -> pl.DataFrame:
    """One row per commune (mart_kommune) matching the filters, as the viewer may see it."""
    where, params = filters.where()
    frame = query(f"select * from mart_kommune where {where} order by name", params)
    return apply_policy(frame, viewer)


def load_overdue(viewer: Viewer, filters: Filters = NO_FILTERS) -> pl.DataFrame:
    """Milestones whose planned date has passed without being reached, most overdue first."""
    where, params = filters.where("k")
    frame = query(
        "select f.kommune_id, k.name, k.bundesland, f.meilenstein, f.geplant_am, "
        "f.tage_ueberfaellig from mart_fortschritt f join mart_kommune k using (kommune_id) "
        f"where f.zustand = 'überfällig' and {where} "
        "order by f.tage_ueberfaellig desc, k.name, f.reihenfolge",
        params,
    )
    if viewer.role == "kommune":
        frame = frame.filter(pl.col("kommune_id") == viewer.kommune_id)
    return apply_policy(frame, viewer)


def load_recent_changes(viewer: Viewer, filters: Filters = NO_FILTERS, days: int = 30
                        ) -> pl.DataFrame:
    """Milestones reached in the `days` before the data date, newest first."""
    where, params = filters.where("k")
    frame = query(
        "select f.kommune_id, k.name, f.meilenstein, f.erreicht_am "
        "from mart_fortschritt f join mart_kommune k using (kommune_id) "
        "cross join meta_build b "
        f"where f.erreicht_am > b.datenstand - ?::integer and {where} "
        "order by f.erreicht_am desc, k.name",
        [days, *params],
    )
    return apply_policy(frame, viewer)


@dataclass(frozen=True)
class KeyFigures:
    """Key figures of the filtered cohort (role-independent aggregates)."""

    kommunen: int
    nach_status: dict[str, int]
    gestartet: int
    abgeschlossen: int
    anteil_im_ziel: float | None  # share of finished tracks within the 6-month target
    median_dauer_monate: float | None
    verspaetet: int
    ueberfaellige_meilensteine: int
    nutzung_nach_modul: pl.DataFrame  # modul, bezeichnung, veranstaltungen, teilnehmende


def key_figures(viewer: Viewer, filters: Filters = NO_FILTERS) -> KeyFigures:
    """Headline numbers for the Überblick page."""
    del viewer  # aggregates only; the parameter keeps every read going through a viewer
    where, params = filters.where()
    k = query(f"select * from mart_kommune where {where}", params)
    status = dict(k.group_by("status").len().iter_rows())
    finished = k.filter(pl.col("beendet"))
    uptake = query(
        "with sel as (select kommune_id from mart_kommune where " + where + ") "
        "select r.modul, r.bezeichnung, count(distinct m.veranstaltung_id) as veranstaltungen, "
        "coalesce(sum(m.teilnehmende), 0) as teilnehmende "
        "from ref_modul r left join modulnutzung m on m.modul = r.modul "
        "and m.kommune_id in (select kommune_id from sel) "
        "group by all order by r.modul",
        params,
    )
    return KeyFigures(
        kommunen=k.height,
        nach_status=status,
        gestartet=k.filter(pl.col("start_ist").is_not_null()).height,
        abgeschlossen=finished.height,
        anteil_im_ziel=(finished.get_column("im_ziel").mean() if finished.height else None),
        median_dauer_monate=(finished.get_column("dauer_monate").median()
                             if finished.height else None),
        verspaetet=k.filter(pl.col("verspaetet")).height,
        ueberfaellige_meilensteine=int(k.get_column("ueberfaellig_anzahl").sum()),
        nutzung_nach_modul=uptake,
    )


# ---- cohort monitoring: map, progress, modules, commune profile -----------------------------------


def load_map_points(viewer: Viewer, filters: Filters = NO_FILTERS) -> pl.DataFrame:
    """Map points of the filtered communes (no personal data in mart_karte)."""
    where, params = filters.where()
    frame = query(f"select * from mart_karte where {where} order by einwohner desc", params)
    return apply_policy(frame, viewer)


def counts_by_land(viewer: Viewer, filters: Filters = NO_FILTERS) -> pl.DataFrame:
    """Number of communes and inhabitants per Bundesland (for the choropleth)."""
    del viewer  # aggregate, role-independent
    where, params = filters.where()
    return query(
        "select bundesland, count(*) as kommunen, sum(einwohner) as einwohner "
        f"from mart_kommune where {where} group by bundesland order by bundesland",
        params,
    )


def load_progress(viewer: Viewer, filters: Filters = NO_FILTERS) -> pl.DataFrame:
    """Planned and reached milestones per commune with the commune's start and status."""
    where, params = filters.where("k")
    frame = query(
        "select f.*, k.name, k.status, k.start_datum, k.start_ist, k.ende_ist, k.dauer_monate "
        "from mart_fortschritt f join mart_kommune k using (kommune_id) "
        f"where {where} order by k.start_datum, k.name, f.reihenfolge",
        params,
    )
    if viewer.role == "kommune":
        frame = frame.filter(pl.col("kommune_id") == viewer.kommune_id)
    return apply_policy(frame, viewer)


def milestone_funnel(viewer: Viewer, filters: Filters = NO_FILTERS) -> pl.DataFrame:
    """How many of the filtered communes reached each milestone, in track order."""
    del viewer  # aggregate, role-independent
    where, params = filters.where("k")
    return query(
        "select r.meilenstein, r.reihenfolge, "
        "count(f.erreicht_am) as erreicht, count(f.kommune_id) as geplant "
        "from ref_meilenstein r left join (select f.* from mart_fortschritt f "
        f"join mart_kommune k using (kommune_id) where {where}) f using (meilenstein) "
        "group by all order by r.reihenfolge",
        params,
    )


def _uptake_source(filters: Filters) -> tuple[str, list[Any]]:
    where, params = filters.where("k")
    return (
        "(select n.* from mart_nutzung_monat n join mart_kommune k using (kommune_id) "
        f"where {where})",
        params,
    )


UPTAKE_DIMENSIONS = ("monat", "modul", "format", "thema")
SECTOR_COLUMNS = ("verwaltung", "politik", "zivilgesellschaft", "wirtschaft", "einwohnerschaft")


def uptake_by(viewer: Viewer, filters: Filters, *dims: str) -> pl.DataFrame:
    """Participations, participants and sectors grouped by month/module/format/topic.

    Reads the pre-aggregated mart (never the raw uptake rows). `teilnahmen` counts a commune's
    attendance of an event; an event shared by three communes counts three times.
    """
    del viewer  # aggregate, role-independent
    unknown = set(dims) - set(UPTAKE_DIMENSIONS)
    if unknown or not dims:
        raise ValueError(f"unknown uptake dimensions {unknown or dims}")
    source, params = _uptake_source(filters)
    cols = ", ".join(dims)
    sectors = ", ".join(f"coalesce(sum({s}), 0)::bigint as {s}" for s in SECTOR_COLUMNS)
    return query(
        f"select {cols}, sum(teilnahmen)::bigint as teilnahmen, "
        f"sum(teilnehmende)::bigint as teilnehmende, {sectors} "
        f"from {source} group by {cols} order by {cols}",
        params,
    )


def uptake_by_kommune(viewer: Viewer, filters: Filters = NO_FILTERS) -> pl.DataFrame:
    """Which commune used which format (participations per commune and format)."""
    source, params = _uptake_source(filters)
    frame = query(
        "select u.kommune_id, k.name, u.modul, u.format, sum(u.teilnahmen)::bigint as teilnahmen, "
        "sum(u.teilnehmende)::bigint as teilnehmende "
        f"from {source} u join mart_kommune k using (kommune_id) "
        "group by all order by k.name, u.modul, u.format",
        params,
    )
    return apply_policy(frame, viewer)


def shared_events(viewer: Viewer, filters: Filters = NO_FILTERS) -> pl.DataFrame:
    """Events with more than one participating commune, with the communes' names."""
    where, params = filters.where("k")
    frame = query(
        "select v.veranstaltung_id, v.datum, v.modul, v.format, v.thema, v.kommunen_anzahl, "
        "v.teilnehmende, (select string_agg(k2.name, ', ' order by k2.name) from mart_kommune k2 "
        "where list_contains(v.kommune_ids, k2.kommune_id)) as kommunen "
        "from mart_veranstaltung v where v.kommunen_anzahl > 1 and exists (select 1 from "
        f"mart_kommune k where list_contains(v.kommune_ids, k.kommune_id) and {where}) "
        "order by v.datum desc, v.veranstaltung_id",
        params,
    )
    return apply_policy(frame, viewer)


@dataclass(frozen=True)
class KommuneProfile:
    """Everything the Kommune page shows for one commune, already filtered for the viewer."""

    facts: dict[str, Any]
    milestones: pl.DataFrame
    uptake: pl.DataFrame
    selbstcheck: pl.DataFrame | None  # None: the viewer may not see it


def may_see_selbstcheck(viewer: Viewer, kommune_id: str) -> bool:
    """Selbstcheck details: staff, and the commune itself."""
    return viewer.is_staff or (viewer.role == "kommune" and viewer.kommune_id == kommune_id)


def load_kommune_profile(viewer: Viewer, kommune_id: str) -> KommuneProfile | None:
    """One commune's facts, timeline, uptake and (where allowed) Selbstcheck; None if unknown."""
    facts = apply_policy(
        query("select * from mart_kommune where kommune_id = ?", [kommune_id]), viewer)
    if facts.is_empty():
        return None
    milestones = apply_policy(
        query("select meilenstein, reihenfolge, geplant_am, erreicht_am, zustand, "
              "tage_ueberfaellig, tage_abweichung from mart_fortschritt where kommune_id = ? "
              "order by reihenfolge", [kommune_id]), viewer)
    uptake = query(
        "select m.datum, m.veranstaltung_id, m.modul, m.format, m.thema, m.teilnehmende, "
        "v.kommunen_anzahl from modulnutzung m join mart_veranstaltung v using (veranstaltung_id) "
        "where m.kommune_id = ? order by m.datum", [kommune_id])
    selbstcheck = None
    if may_see_selbstcheck(viewer, kommune_id):
        selbstcheck = query(
            "select h.nummer, s.handlungsfeld, s.stand, s.prioritaet, s.erhoben_am "
            "from selbstcheck s join ref_handlungsfeld h using (handlungsfeld) "
            "where s.kommune_id = ? order by h.nummer", [kommune_id])
    return KommuneProfile(facts.row(0, named=True), milestones, uptake, selbstcheck)


def kommune_choices(viewer: Viewer, filters: Filters = NO_FILTERS) -> pl.DataFrame:
    """(kommune_id, name) of the communes a viewer can open, sorted by name."""
    where, params = filters.where()
    frame = query(f"select kommune_id, name, bundesland from mart_kommune where {where} "
                  "order by name", params)
    return apply_policy(frame, viewer)
