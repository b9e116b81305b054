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
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import duckdb
import polars as pl

from dashboard import audit, peers
from dashboard.model import (  # noqa: F401  (re-exported: pages name them as data.*)
    NO_FILTERS,
    PUBLIC,
    ROLES,
    STAFF,
    BuildInfo,
    Filters,
    ProgrammeRules,
    Role,
    Viewer,
)
from dashboard.report import definitions, protection
from dashboard.store import austausch
from dashboard.store import db as store_db

if TYPE_CHECKING:
    from dashboard.report.definitions import Report

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DB = ROOT / "data" / "monitor.duckdb"

# What a role may see, declared once: a column not named here is visible to every role that may
# read its table at all; the scattered checks below (`require_staff`, `may_see_details`, …) and
# `apply_policy` read this table instead of repeating role names.
STAFF_ONLY, OWN, OWN_OR_CONSENTING, SIGNED_IN = "staff", "own", "own_or_consenting", "signed_in"
COLUMN_POLICY: dict[str, str] = {
    # contact person: staff, the commune itself, and communes that consented to networking
    "ansprechperson": OWN_OR_CONSENTING,
    "email": OWN_OR_CONSENTING,
    "telefon": OWN_OR_CONSENTING,
    # internal notes of the programme team
    "notiz": STAFF_ONLY,
    # Selbstcheck: staff and the commune itself, never a peer (not a ranking instrument)
    "stand": OWN,
    "prioritaet": OWN,
    "prioritaeten": OWN,
    "staende": OWN,
    "erhoben_am": OWN,
    # consent flag: signed-in roles only
    "vernetzung_zustimmung": SIGNED_IN,
}
PERSONAL_COLUMNS = tuple(c for c, rule in COLUMN_POLICY.items() if rule == OWN_OR_CONSENTING)
INTERNAL_COLUMNS = tuple(c for c, rule in COLUMN_POLICY.items() if rule == STAFF_ONLY)
SELBSTCHECK_COLUMNS = tuple(c for c, rule in COLUMN_POLICY.items() if rule == OWN)


class DatabaseMissing(Exception):
    """No database has been built yet (German message for the UI)."""


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


_CATALOG = "wk"


def _open(path: Path) -> duckdb.DuckDBPyConnection:
    """A read-only connection to the file now at `path`, in a fresh in-memory DuckDB instance.

    `duckdb.connect(path)` would hand back DuckDB's cached instance for that path while any
    connection to it is still open, i.e. the old file after an atomic swap. Attaching the file
    to a new instance always opens what is at `path` now; queries that are still running keep
    their old instance (and file) until they finish.
    """
    con = duckdb.connect()
    literal = str(path).replace("'", "''")
    con.execute(f"attach '{literal}' as {_CATALOG} (read_only)").fetchall()
    con.execute(f"use {_CATALOG}").fetchall()
    return con


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
            con = _open(path)
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
        cur.execute(f"use {_CATALOG}").fetchall()  # a cursor starts in the in-memory catalog
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
    """Drop or blank the columns of `COLUMN_POLICY` the viewer may not see, row by row where it
    depends on the commune.

    - staff: everything.
    - kommune: no internal notes; contact data only for the own commune, for communes that
      consented to networking and for communes with an accepted contact request (app store);
      Selbstcheck values only for the own commune.
    - public: none of the columns in `COLUMN_POLICY`.
    """
    if viewer.is_staff:
        return frame
    guarded = {c: rule for c, rule in COLUMN_POLICY.items() if c in frame.columns}
    if viewer.role == "public":
        return frame.drop(list(guarded))
    drop = [c for c, rule in guarded.items() if rule == STAFF_ONLY]
    if "kommune_id" not in frame.columns:  # no row owner: nothing row-dependent can be shown
        drop += [c for c, rule in guarded.items() if rule in (OWN, OWN_OR_CONSENTING)]
        return frame.drop(drop)
    own = pl.col("kommune_id") == viewer.kommune_id
    consent = (pl.col("vernetzung_zustimmung").fill_null(False)
               if "vernetzung_zustimmung" in frame.columns else pl.lit(False))
    if any(c in frame.columns for c in PERSONAL_COLUMNS):
        # double opt-in: an accepted contact request shows contacts both ways, without consent
        consent = consent | pl.col("kommune_id").is_in(
            sorted(austausch.accepted_partners(viewer.kommune_id)))
    frame = frame.drop(drop)
    for rule, keep in ((OWN, own), (OWN_OR_CONSENTING, own | consent)):
        frame = blank_where(frame, keep, tuple(c for c, r in guarded.items() if r == rule))
    return frame


def blank_where(frame: pl.DataFrame, keep: pl.Expr, columns: tuple[str, ...]) -> pl.DataFrame:
    """Set `columns` to null where `keep` is false, leaving no trace of the hidden values.

    `pl.when(keep).then(col)` only marks a value as null: the Arrow buffers still hold the text,
    and Streamlit sends those buffers to the browser (measured: a blanked e-mail address was in
    the page's dataframe bytes). So each column is rebuilt from Python values.
    """
    present = [c for c in columns if c in frame.columns]
    if not present or frame.is_empty():
        return frame
    mask = frame.select(keep.fill_null(False).alias("keep")).get_column("keep").to_list()
    return frame.with_columns(
        pl.Series(c, [v if k else None for v, k in zip(frame.get_column(c).to_list(), mask,
                                                        strict=True)],
                  dtype=frame.schema[c])
        for c in present)


def own_rows_only(frame: pl.DataFrame, viewer: Viewer) -> pl.DataFrame:
    """Per-commune monitoring rows: staff see all, a commune its own rows, the public none."""
    if viewer.is_staff:
        return frame
    if viewer.role == "kommune":
        return frame.filter(pl.col("kommune_id") == viewer.kommune_id)
    return frame.clear()


def public_small_cells(frame: pl.DataFrame, viewer: Viewer, basis: dict[str, list[str]]
                       ) -> pl.DataFrame:
    """For the public, figures resting on 1 or 2 communes become null (shown as "x"); the same
    rule as the public report exports (`definitions.suppress_small_cells`)."""
    if viewer.role != "public" or frame.is_empty():
        return frame

    shown, _hidden = definitions.suppress_small_cells(frame, basis, groups=())
    return shown


def require_staff(viewer: Viewer, what: str) -> None:
    """Raise for anything that only the programme team may do or see."""
    if not viewer.is_staff:
        raise PermissionError(f"Nur das Programmteam darf {what}.")


def require_signed_in(viewer: Viewer, message: str) -> None:
    """Raise for anything the public may not see (`message` says what, in German)."""
    if viewer.role == "public":
        raise PermissionError(message)


# ---- build metadata ------------------------------------------------------------------------------


def build_info() -> BuildInfo:
    """Which build is being shown: id, time, data date, demo flag and input files."""
    meta = query("select * from meta_build").row(0, named=True)
    files = query("select datei_art, datei, sha256, zeilen_gelesen, zeilen_geladen, "
                  "zeilen_abgelehnt from meta_dateien order by datei_art")
    return BuildInfo(meta["build_id"], meta["erstellt_am"], meta["datenstand"],
                     meta["beispieldaten"], meta["bezeichnung"], files, meta.get("eingabe") or "")


def programme_rules() -> ProgrammeRules:
    """Target band, modules and Handlungsfelder from the shown build's reference tables."""
    ziel = query("select ziel_monate_min, ziel_monate_max from ref_programm").row(0)
    module = query("select modul, bezeichnung from ref_modul order by modul").rows()
    felder = query("select handlungsfeld from ref_handlungsfeld order by nummer")
    return ProgrammeRules((int(ziel[0]), int(ziel[1])), {int(m): b for m, b in module},
                          tuple(felder["handlungsfeld"]))


def rejects(viewer: Viewer) -> pl.DataFrame:
    """The rejected rows of the current build (staff only: values can hold personal data)."""
    if not viewer.is_staff:
        raise PermissionError("Nur das Programmteam sieht den Prüfbericht.")
    return query("select * from meta_ablehnungen order by datei, zeile, spalte")


def core_tables(viewer: Viewer) -> dict[str, pl.DataFrame]:
    """The current build's registry and milestones as stored, keyed by input file name (staff
    only: the import preview compares them with an upload; they hold contact data)."""
    require_staff(viewer, "die gespeicherten Stammdaten vergleichen")
    return {"kommunen": query("select * from kommune order by kommune_id"),
            "meilensteine": query("select * from meilenstein order by kommune_id, meilenstein")}


def demo_account_communes(n: int = 2) -> pl.DataFrame:
    """(kommune_id, name) of consenting communes with Selbstcheck priorities: the communes the
    demo accounts stand for (sample data only; checked by the caller)."""
    return query("select kommune_id, name from mart_peer_merkmale where vernetzung_zustimmung "
                 "and len(prioritaeten) > 0 order by kommune_id limit ?", [n])


# ---- communes and key figures ---------------------------------------------------------------


_filter_options: dict[str, dict[str, list[str]]] = {}


def filter_options() -> dict[str, list[str]]:
    """The values each shared filter can take, in a sensible order (once per build: every page
    asks for them on every run)."""
    build_id = _connection().build_id
    hit = _filter_options.get(build_id)
    if hit is None:
        hit = _filter_options_of_build()
        _filter_options.clear()
        _filter_options[build_id] = hit
    return {name: list(values) for name, values in hit.items()}


def _filter_options_of_build() -> dict[str, list[str]]:
    k = query("select * from mart_kommune")
    quarters = k.get_column("start_quartal").drop_nulls().unique().sort().to_list()
    klassen = query("select groessenklasse from ref_groessenklasse order by reihenfolge")
    from etl.schema import BUNDESLAENDER, KOMMUNE_TYPEN, STATUS

    present = set(k.get_column("bundesland").unique().to_list())
    return {
        "bundesland": [b for b in BUNDESLAENDER if b in present],
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
    return apply_policy(own_rows_only(frame, viewer), viewer)


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
    return apply_policy(own_rows_only(frame, viewer), viewer)


@dataclass(frozen=True)
class KeyFigures:
    """Monitoring figures of the filtered cohort that are not NAP-I report figures. The Überblick
    page reads its key figures from `load_report` (the same macros as the Bericht)."""

    kommunen: int  # communes in the register that match the filters (staff monitoring)
    ueberfaellige_meilensteine: int | None  # None: internal monitoring, not for the public


def key_figures(viewer: Viewer, filters: Filters = NO_FILTERS) -> KeyFigures:
    """Counts for internal monitoring: staff of the selection, a commune of its own rows only
    (as `load_overdue` lists them: a filter to a Land with one commune would otherwise give
    that commune's overdue milestones); the public gets nothing from here."""
    where, params = filters.where()
    if viewer.role == "kommune":
        where, params = f"{where} and kommune_id = ?", [*params, viewer.kommune_id]
    row = query(f"select count(*) as kommunen, coalesce(sum(ueberfaellig_anzahl), 0) as ueber "
                f"from mart_kommune where {where}", params).row(0, named=True)
    internal = viewer.role != "public"
    return KeyFigures(kommunen=row["kommunen"] if internal else 0,
                      ueberfaellige_meilensteine=int(row["ueber"]) if internal else None)


# ---- cohort monitoring: map, progress, modules, commune profile ------------------------------


# The public map shows no commune's programme state (DESIGN.md, role `public`): only communes
# admitted to the programme, and of those only official register facts (name, type, Land,
# population, position). A dropout counts as admitted if its track had started; interested and
# applying communes never appear. Filters on programme state (status, start quarter) would turn
# the list of points into a per-commune status list, so the public map ignores them.
PUBLIC_MAP_COLUMNS = ("kommune_id", "name", "typ", "bundesland", "einwohner", "lat", "lon")
PUBLIC_MAP_FILTERS = ("bundesland", "typ", "groessenklasse")
_ADMITTED = ("(status in ('aufgenommen', 'aktiv', 'abgeschlossen') "
             "or (status = 'ausgeschieden' and start_ist is not null))")


def public_map_filters(filters: Filters) -> Filters:
    """The part of `filters` the public map applies (register facts only)."""
    return Filters(**{f: getattr(filters, f) for f in PUBLIC_MAP_FILTERS})


def load_map_points(viewer: Viewer, filters: Filters = NO_FILTERS) -> pl.DataFrame:
    """Map points of the filtered communes, largest first (no personal data in mart_karte).

    The public gets admitted communes only, with `PUBLIC_MAP_COLUMNS` and without the
    programme-state filters (see above).
    """
    if viewer.role == "public":
        where, params = public_map_filters(filters).where()
        return query(f"select {', '.join(PUBLIC_MAP_COLUMNS)} from mart_kommune "
                     f"where {where} and {_ADMITTED} order by einwohner desc, kommune_id",
                     params)
    where, params = filters.where()
    frame = query(f"select * from mart_karte where {where} order by einwohner desc, kommune_id",
                  params)
    return apply_policy(frame, viewer)


def counts_by_land(viewer: Viewer, filters: Filters = NO_FILTERS) -> pl.DataFrame:
    """Number of communes and inhabitants per Bundesland (for the choropleth).

    The public counts exactly the communes its map shows (admitted ones, register filters only),
    so map and counts cannot be subtracted from each other, and counts resting on 1 or 2
    communes are hidden (null).
    """
    admitted = viewer.role == "public"
    where, params = (public_map_filters(filters) if admitted else filters).where()
    frame = query(
        "select bundesland, count(*) as kommunen, sum(einwohner) as einwohner "
        f"from mart_kommune where {where} {'and ' + _ADMITTED if admitted else ''} "
        "group by bundesland order by bundesland",
        params,
    )
    return public_small_cells(frame, viewer, {"kommunen": ["kommunen"],
                                              "einwohner": ["kommunen"]})


def load_progress(viewer: Viewer, filters: Filters = NO_FILTERS) -> pl.DataFrame:
    """Planned and reached milestones per commune with the commune's start and status."""
    where, params = filters.where("k")
    frame = query(
        "select f.*, k.name, k.status, k.start_datum, k.start_ist, k.ende_ist, k.dauer_monate "
        "from mart_fortschritt f join mart_kommune k using (kommune_id) "
        f"where {where} order by k.start_datum, k.name, f.reihenfolge",
        params,
    )
    return apply_policy(own_rows_only(frame, viewer), viewer)


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

    Reads the mart (never the core uptake table). `teilnahmen` counts a commune's
    attendance of an event; an event shared by three communes counts three times.

    Staff only: the figures are not protected (months and topics are mostly 1 or 2 communes per
    cell). Everyone else reads module uptake from the audited public edition (`load_report`).
    """
    require_staff(viewer, "die Nutzung je Monat, Format und Thema ungeschützt sehen")
    unknown = set(dims) - set(UPTAKE_DIMENSIONS)
    if unknown or not dims:
        raise ValueError(f"unknown uptake dimensions {unknown or dims}")
    source, params = _uptake_source(filters)
    return query(uptake_sql(source, dims), params)


def uptake_sql(source: str, dims: tuple[str, ...]) -> str:
    """The query of `uptake_by` over `source` (rows shaped like mart_nutzung_monat)."""
    cols = ", ".join(dims)
    sectors = ", ".join(f"coalesce(sum({s}), 0)::bigint as {s}" for s in SECTOR_COLUMNS)
    return (
        f"select {cols}, count(distinct kommune_id) as kommunen, "
        f"sum(teilnahmen)::bigint as teilnahmen, "
        f"sum(teilnehmende)::bigint as teilnehmende, {sectors} "
        f"from {source} group by {cols} order by {cols}"
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
    return apply_policy(own_rows_only(frame, viewer), viewer)


def shared_events_sql(where: str, own: bool = False) -> str:
    """The shared events (more than one commune) of which at least one commune matches `where`
    (over modulnutzung `m` and mart_kommune `k`), with their communes' names, sorted: built here
    for the events shown rather than stored for every event in the build. With `own`, instead of
    the event's participants (`teilnehmende`) those of one commune, the query's last parameter
    (`eigene_teilnehmende`)."""
    participants = ("sum(m.teilnehmende) filter (where m.kommune_id = ?) as eigene_teilnehmende"
                    if own else "any_value(s.teilnehmende) as teilnehmende")
    return (
        "with hit as (select distinct m.veranstaltung_id from modulnutzung m "
        f"join mart_kommune k using (kommune_id) where {where}), "
        "shown as (select v.* from mart_veranstaltung v join hit using (veranstaltung_id) "
        "where v.kommunen_anzahl > 1) "
        "select s.veranstaltung_id, any_value(s.datum) as datum, any_value(s.modul) as modul, "
        "any_value(s.format) as format, any_value(s.thema) as thema, "
        f"any_value(s.kommunen_anzahl) as kommunen_anzahl, {participants}, "
        "array_to_string(list_sort(list(k.name)), ', ') as kommunen "
        "from shown s join modulnutzung m using (veranstaltung_id) "
        "join kommune k using (kommune_id) "
        "group by s.veranstaltung_id order by datum desc, s.veranstaltung_id"
    )


def shared_events(viewer: Viewer, filters: Filters = NO_FILTERS) -> pl.DataFrame:
    """Events with more than one participating commune, with the communes' names.

    Staff see each event's participants; a commune only the events it took part in, with its
    own participants (`eigene_teilnehmende`) instead of the event's total: it knows its own
    part, so the total minus its own would give away the other communes' counts. The public
    sees none."""
    where, params = filters.where("k")
    own = viewer.role == "kommune"
    if own:  # its own events only (with a commune of the selection)
        where = (f"{where} and m.veranstaltung_id in (select veranstaltung_id from modulnutzung "
                 "where kommune_id = ?)")
        params = [*params, viewer.kommune_id, viewer.kommune_id]
    elif viewer.role == "public":
        where = "false"
        params = []
    return apply_policy(query(shared_events_sql(where, own=own), params), viewer)


@dataclass(frozen=True)
class KommuneProfile:
    """Everything the Kommune page shows for one commune, already filtered for the viewer.

    `None` means the viewer may not see that part: another commune sees only the facts of a
    peer (no timeline, uptake or Selbstcheck).
    """

    facts: dict[str, Any]
    milestones: pl.DataFrame | None
    uptake: pl.DataFrame | None
    selbstcheck: pl.DataFrame | None


def may_see_details(viewer: Viewer, kommune_id: str) -> bool:
    """Timeline, uptake and Selbstcheck details: staff, and the commune itself."""
    return viewer.is_staff or viewer.owns(kommune_id)


def load_kommune_profile(viewer: Viewer, kommune_id: str) -> KommuneProfile | None:
    """One commune's facts and, where allowed, timeline, uptake and Selbstcheck; None if unknown."""
    require_signed_in(viewer, "Kommunenprofile sind nur nach Anmeldung sichtbar.")
    facts = apply_policy(
        query("select * from mart_kommune where kommune_id = ?", [kommune_id]), viewer)
    if facts.is_empty():
        return None
    if not may_see_details(viewer, kommune_id):
        return KommuneProfile(facts.row(0, named=True), None, None, None)
    milestones = query(
        "select meilenstein, reihenfolge, geplant_am, erreicht_am, zustand, tage_ueberfaellig, "
        "tage_abweichung from mart_fortschritt where kommune_id = ? order by reihenfolge",
        [kommune_id])
    uptake = query(
        "select m.datum, m.veranstaltung_id, m.modul, m.format, m.thema, m.teilnehmende, "
        "v.kommunen_anzahl from modulnutzung m join mart_veranstaltung v using (veranstaltung_id) "
        "where m.kommune_id = ? order by m.datum", [kommune_id])
    selbstcheck = query(
        "select h.nummer, s.handlungsfeld, s.stand, s.prioritaet, s.erhoben_am "
        "from selbstcheck s join ref_handlungsfeld h using (handlungsfeld) "
        "where s.kommune_id = ? order by h.nummer", [kommune_id])
    return KommuneProfile(facts.row(0, named=True), milestones, uptake, selbstcheck)


def own_profile(viewer: Viewer, kommune_id: str, refused: str) -> KommuneProfile:
    """The commune's profile with its details, for what only the commune itself and staff may
    make (council brief, calendar feed); `refused` is the German message for anyone else."""
    profile = load_kommune_profile(viewer, kommune_id) if may_see_details(viewer, kommune_id) \
        else None
    if profile is None or profile.milestones is None:
        raise PermissionError(refused)
    return profile


def kommune_choices(viewer: Viewer, filters: Filters = NO_FILTERS) -> pl.DataFrame:
    """(kommune_id, name) of the communes a viewer can open, sorted by name."""
    where, params = filters.where()
    frame = query(f"select kommune_id, name, bundesland from mart_kommune where {where} "
                  "order by name", params)
    return apply_policy(frame, viewer)


# ---- peers ---------------------------------------------------------------------------------------
# The peer engine (dashboard/peers.py) runs here, inside the data layer, on features that join the
# registry (mart_peer_merkmale) with what communes wrote in the app store. For staff it uses
# everything (Selbstcheck included); for a commune it runs on `PeerFeatures.for_kommune`, which
# holds only the commune's own entries, the others' published entries and non-sensitive facts, so
# no other commune's Selbstcheck or unpublished entry can reach what the commune sees. Contact
# data leaves only where the peer consented or accepted a contact request (`apply_policy`).

_PEER_SQL = ("select p.*, k.groessenklasse from mart_peer_merkmale p "
             "join mart_kommune k using (kommune_id) order by kommune_id")
_peer_cache: dict[tuple[str, str, int], peers.PeerFeatures] = {}
# staff-only results, keyed by build, filters and settings (never shared across roles)
_group_cache: OrderedDict[tuple, PeerGroupSplit] = OrderedDict()


def _peer_engine_features() -> peers.PeerFeatures:
    """The full peer features of the current build and store revision (role-independent, cached;
    never handed to a page)."""
    key = (_connection().build_id, str(store_db.store_path()), austausch.revision())
    with _lock:
        hit = _peer_cache.get(key)
    if hit is None:
        hit = peers.PeerFeatures.from_frame(query(_PEER_SQL), austausch.all_entries_unchecked(),
                                            austausch.all_practices_unchecked())
        with _lock:
            _peer_cache.clear()
            _peer_cache[key] = hit
    return hit


def _check_peer_access(viewer: Viewer, kommune_id: str) -> None:
    if viewer.role == "public":
        raise PermissionError("Vorschläge für den Austausch gibt es nur für Modellkommunen und "
                              "das Programmteam.")
    if viewer.role == "kommune" and kommune_id != viewer.kommune_id:
        raise PermissionError("Eine Kommune sieht nur ihre eigenen Vorschläge.")


def load_peer_features(viewer: Viewer) -> pl.DataFrame:
    """mart_peer_merkmale as the viewer may see it.

    staff: every commune with priorities and levels; kommune: the own commune plus the communes
    that consented to networking, priorities and levels only for the own commune; public: no
    access (PermissionError).
    """
    if viewer.role == "public":
        raise PermissionError("Die Merkmale für Vorschläge sieht die Öffentlichkeit nicht.")
    frame = query(_PEER_SQL)
    if viewer.role == "kommune":
        frame = frame.filter((pl.col("kommune_id") == viewer.kommune_id)
                             | pl.col("vernetzung_zustimmung").fill_null(False))
    return apply_policy(frame, viewer)


def peer_kommune_choices(viewer: Viewer) -> pl.DataFrame:
    """(kommune_id, name, typ, bundesland, lat, lon) a viewer may ask suggestions for: staff
    every commune, a commune only itself, the public none."""
    if viewer.role == "public":
        return pl.DataFrame(schema={"kommune_id": pl.String, "name": pl.String,
                                    "typ": pl.String, "bundesland": pl.String,
                                    "lat": pl.Float64, "lon": pl.Float64})
    frame = query("select kommune_id, name, typ, bundesland, lat, lon from mart_kommune "
                  "order by name, kommune_id")
    if viewer.role == "kommune":
        frame = frame.filter(pl.col("kommune_id") == viewer.kommune_id)
    return frame


def peer_suggestions(viewer: Viewer, kommune_id: str, *, n: int = 5, topic: str | None = None,
                     max_km: float | None = None,
                     preferences: peers.Preferences = peers.DEFAULT_PREFERENCES,
                     lang: str = "de") -> pl.DataFrame:
    """Top-`n` exchange partners for `kommune_id` with reasons, as the viewer may see them.

    Columns: kommune_id, name, typ, bundesland, einwohner, lat, lon, distanz_km, gruende (list of
    sentences), kontakt_sichtbar, ansprechperson, email, telefon (blank unless the peer consented
    or accepted a request); staff also get `punkte` (the match score) and Selbstcheck-based
    matches. A commune may only ask for its own suggestions; they rest on published data only.
    """
    _check_peer_access(viewer, kommune_id)
    features = _peer_engine_features()
    if kommune_id not in features.index:
        frame = pl.DataFrame(schema=peers.SUGGESTION_SCHEMA)
    elif viewer.is_staff:
        frame = peers.suggest(features, kommune_id, n=n, topic=topic, max_km=max_km, staff=True,
                              preferences=preferences, lang=lang)
    else:
        frame = peers.suggest(features.for_kommune(kommune_id), kommune_id, n=n, topic=topic,
                              max_km=max_km, preferences=preferences, lang=lang).drop("punkte")
    contacts = query("select kommune_id, vernetzung_zustimmung, ansprechperson, email, telefon "
                     "from mart_kommune where list_contains(?, kommune_id)",
                     [frame["kommune_id"].to_list()])
    frame = apply_policy(frame.join(contacts, on="kommune_id", how="left"), viewer)
    visible = pl.any_horizontal(pl.col(c).is_not_null() for c in PERSONAL_COLUMNS)
    return frame.with_columns(visible.alias("kontakt_sichtbar")).drop("vernetzung_zustimmung")


def peer_contacts(viewer: Viewer, kommune_ids: list[str]) -> pl.DataFrame:
    """(kommune_id, name, ansprechperson, email, telefon) of the given communes, contact fields
    blank unless the viewer may see them (staff; own; consent; accepted request)."""
    if viewer.role == "public":
        raise PermissionError("Kontaktdaten sieht die Öffentlichkeit nicht.")
    frame = query("select kommune_id, name, vernetzung_zustimmung, ansprechperson, email, telefon "
                  "from mart_kommune where list_contains(?, kommune_id) order by name",
                  [list(kommune_ids)])
    return apply_policy(frame, viewer).drop("vernetzung_zustimmung")


def kommune_names() -> dict[str, str]:
    """kommune_id -> name of every commune (names are not personal data; for labels)."""
    return dict(query("select kommune_id, name from mart_kommune").rows())


@dataclass(frozen=True)
class PeerGroupSplit:
    """Exchange groups of a selection, with how many selected communes were left out."""

    groups: peers.PeerGroups | None  # members carry contact columns; None if sizes do not fit
    ausgewaehlt: int  # communes matching the filters
    ausgelassen: int  # of those, left out (status in PeerWeights.exclude_status)
    fehler: str | None = None  # why the selection cannot be split (German or English)


def peer_groups(viewer: Viewer, filters: Filters = NO_FILTERS, *, topic: str | None = None,
                size_min: int = 4, size_max: int = 6, lang: str = "de") -> PeerGroupSplit:
    """Split the filtered communes into exchange groups (staff only; contact data for
    invitations). If the sizes do not fit the selection, `groups` is None and `fehler` says why."""
    if not viewer.is_staff:
        raise PermissionError("Austauschgruppen bildet nur das Programmteam.")
    key = (_connection().build_id, filters, topic, size_min, size_max, lang)
    with _lock:
        hit = _group_cache.get(key)
    if hit is not None:  # a national split takes seconds; the page reruns on every click
        return hit
    where, params = filters.where()
    selected = query(f"select kommune_id, status from mart_kommune where {where}", params)
    excluded = peers.DEFAULT_WEIGHTS.exclude_status
    ids = selected.filter(~pl.col("status").is_in(list(excluded))).get_column("kommune_id")
    try:
        result = peers.build_groups(_peer_engine_features(), ids.to_list(), topic=topic,
                                    size_min=size_min, size_max=size_max, lang=lang)
    except peers.GroupSizeError as exc:
        return PeerGroupSplit(None, selected.height, selected.height - ids.len(), str(exc))
    contacts = query("select kommune_id, ansprechperson, email, telefon, vernetzung_zustimmung "
                     "from mart_kommune")
    members = result.members.join(contacts, on="kommune_id", how="left")
    split = PeerGroupSplit(peers.PeerGroups(members, result.groups), selected.height,
                           selected.height - ids.len())
    with _lock:
        _group_cache[key] = split
        while len(_group_cache) > 16:
            _group_cache.popitem(last=False)
    return split


# ---- report --------------------------------------------------------------------------------------
# NAP-I key figures: each report table is a DuckDB table macro (etl/sql/marts/kennzahl_*.sql)
# called with (von, bis, stichtag). Figures are aggregates without names or contact data; viewers
# other than staff get small cells hidden (dashboard/report/definitions.py: suppress_small_cells).


def _auswahl(filters: Filters) -> list[str] | None:
    """The kommune_ids of a filtered selection (None: no filter, every commune)."""
    if not filters.active:
        return None
    where, params = filters.where()
    return query(f"select kommune_id from mart_kommune where {where} order by kommune_id",
                 params).get_column("kommune_id").to_list()


def _report_frames(von: dt.date, bis: dt.date, stichtag: dt.date, auswahl: list[str] | None
                   ) -> dict[str, pl.DataFrame]:
    # macro names come from the definitions, never from input
    return {t.key: query(f"select * from {t.macro}(?::date, ?::date, ?::date, "
                         "auswahl := ?::varchar[])", [von, bis, stichtag, auswahl])
            for t in definitions.TABLES}


_report_cache: OrderedDict = OrderedDict()
_report_running: dict[tuple, threading.Lock] = {}  # one computation per key at a time


def _protected(von: dt.date, bis: dt.date, stichtag: dt.date, auswahl: list[str] | None):
    """Frames, primary/secondary masks and the audit of the public edition (cached per build).
    Sessions asking for the same edition at once wait for one computation (the warm-up, the
    first visitors) instead of each starting its own."""
    key = (_connection().build_id, von, bis, stichtag, None if auswahl is None else tuple(auswahl))
    with _lock:
        if key in _report_cache:
            return _report_cache[key]
        running = _report_running.setdefault(key, threading.Lock())
    with running:
        with _lock:
            if key in _report_cache:
                return _report_cache[key]
        try:
            return _protect_now(key, von, bis, stichtag, auswahl)
        finally:
            with _lock:
                _report_running.pop(key, None)


def _protect_now(key: tuple, von: dt.date, bis: dt.date, stichtag: dt.date,
                 auswahl: list[str] | None):
    full = _report_frames(von, bis, stichtag, auswahl)
    frames = {t.key: t.public_frame(full[t.key]) for t in definitions.TABLES}
    ids = auswahl if auswahl is not None else query(
        "select kommune_id from kommune order by kommune_id").get_column("kommune_id").to_list()

    def attackers():
        # every commune's view "the report without me" in one query per table (lateral join)
        without = {t.key: query(
            "select o.kommune_id as _ohne, x.* from unnest(?::varchar[]) as o(kommune_id), "
            f"lateral (select * from {t.macro}(?::date, ?::date, ?::date, auswahl := "
            "list_filter(?::varchar[], lambda v: v <> o.kommune_id))) as x",
            [ids, von, bis, stichtag, ids]) for t in definitions.TABLES}
        for kommune_id in ids:
            yield kommune_id, {key: definitions.TABLE_BY_KEY[key].public_frame(
                frame.filter(pl.col("_ohne") == kommune_id).drop("_ohne"))
                for key, frame in without.items()}

    audited = len(ids) <= definitions.ATTACKER_LIMIT
    result = protection.protect(frames, attackers if audited else None)
    result.attackers_audited = audited
    value = (frames, protection.masks(frames, result), result)
    with _lock:
        _report_cache[key] = value
        while len(_report_cache) > 32:
            _report_cache.popitem(last=False)
    return value


def is_site_edition(von: dt.date, bis: dt.date, stichtag: dt.date) -> bool:
    """Whether a period is that of the one public edition the pages show everyone but staff:
    from the programme start to the data date."""
    day = build_info().datenstand
    return (von, bis, stichtag) == (definitions.PROGRAMMSTART, day, day)


def load_report(viewer: Viewer, von: dt.date, bis: dt.date, stichtag: dt.date,
                filters: Filters = NO_FILTERS, *, public: bool = False):
    """All report tables for a period, Stichtag and selection (`definitions.Report`), stamped
    with the build; every macro gets the filtered communes (`auswahl`).

    Staff get the internal edition, or with `public` the public edition of any period they
    publish (Bericht, `python -m dashboard.report --public`, scheduled files). Every other viewer
    reads the public edition: figures resting on 1 or 2 communes hidden ("x"), further cells
    hidden ("x") until the interval audit finds none recomputable, also by a commune that knows
    its own contribution (`dashboard/report/protection.py`).

    A public edition is always one of the whole programme: `filters` apply to the internal
    edition only. The audit protects one edition; two editions of different selections could be
    subtracted ("all communes" minus "all Länder but Hamburg" is the one Hamburg commune's
    figures), and no audit of a single edition can see that. For the same reason a reader who is
    not staff gets one edition only, from the programme start to the data date (two Stichtage
    could be subtracted too): any other period is refused.
    """
    definitions.validate_period(von, bis, stichtag)
    if not viewer.is_staff and not is_site_edition(von, bis, stichtag):
        raise PermissionError("Die öffentliche Fassung gibt es nur für das ganze Programm vom "
                              "Programmstart bis zum Datenstand.")
    internal = viewer.is_staff and not public
    auswahl = _auswahl(filters) if internal else None
    if internal:
        frames = _report_frames(von, bis, stichtag, auswahl)
        return definitions.Report(
            von=von, bis=bis, stichtag=stichtag, public=False, build=build_info(),
            tables={t.key: definitions.ReportTable(t, frames[t.key]) for t in definitions.TABLES})
    frames, masks, result = _protected(von, bis, stichtag, auswahl)
    tables = {}
    for t in definitions.TABLES:
        hidden, secondary = masks[t.key]
        shown = frames[t.key].with_columns(
            pl.when(~hidden.get_column(c)).then(pl.col(c)).alias(c) for c in hidden.columns)
        tables[t.key] = definitions.ReportTable(t, shown, hidden, secondary)
    note = definitions.ProtectionNote(len(result.primary - result.secondary), len(result.secondary),
                                      result.audit_passed, result.attackers,
                                      result.attackers_audited)
    return definitions.Report(von=von, bis=bis, stichtag=stichtag, public=True,
                              build=build_info(), tables=tables, protection=note)


def public_selection_small(report: Report) -> bool:
    """True for a public edition whose selection (the whole programme: filters apply to staff
    only) holds fewer than `SMALL_CELL_LIMIT` admitted communes, none included: the "Insgesamt"
    count of communes by status is hidden as a small cell (not to protect another one) or is 0.

    Such a page shows no figures at all, the same message for 0, 1 and 2 communes: with 1 or 2
    every figure rests on them, and zeros ("0 aktiv") would tell their status; and were "none"
    shown differently from "hidden", a status filter on a Land with one commune would tell that
    commune's status too.
    """
    if not report.public:
        return False
    status = report["kommunen_status"]
    i = status.frame.get_column("status").to_list().index("Insgesamt")
    secondary = status.secondary is not None and bool(status.secondary["kommunen"][i])
    if bool(status.is_hidden("kommunen")[i]):
        return not secondary
    return (status.frame["kommunen"][i] or 0) == 0


def audit_events(viewer: Viewer, limit: int = 500) -> pl.DataFrame:
    """The newest `limit` audit events, newest first (staff only; see dashboard/audit.py)."""
    require_staff(viewer, "das Prüfprotokoll sehen")
    return audit.read_events(limit)
# ---- from diagnosis to action (issue #15) --------------------------------------------------------
# Watch rules and per-commune reads for the Handlungsplan, the calendar feed and the council brief.
# What users write (measures, notes, thresholds) lives in the app store (dashboard/store/).


def watch_items(viewer: Viewer, ueberfaellig_ab_tage: int, dauer_warnung_monate: float
                ) -> pl.DataFrame:
    """The deadline watch at the data date (staff): milestones overdue against their plan by at
    least `ueberfaellig_ab_tage` days, and running tracks (status aufgenommen/aktiv, started, not
    finished) that have run at least `dauer_warnung_monate` months, i.e. are heading past the
    6-month target. One row per item with a stable key `schluessel` for the digest."""
    require_staff(viewer, "die Fristenwache sehen")
    return query(
        "select 'ueberfaellig|' || f.kommune_id || '|' || f.meilenstein as schluessel, "
        "'ueberfaellig' as art, f.kommune_id, k.name, f.meilenstein, f.geplant_am as datum, "
        "f.tage_ueberfaellig as tage, null::double as dauer_monate "
        "from mart_fortschritt f join mart_kommune k using (kommune_id) "
        "where f.zustand = 'überfällig' and f.tage_ueberfaellig >= ? "
        "union all "
        "select 'dauer|' || kommune_id, 'dauer', kommune_id, name, null, start_ist, null, "
        "dauer_monate from mart_kommune where status in ('aufgenommen', 'aktiv') "
        "and start_ist is not null and ende_ist is null and dauer_monate >= ? "
        "order by art desc, name, kommune_id, datum, meilenstein",  # a list, not a ranking
        [int(ueberfaellig_ab_tage), float(dauer_warnung_monate)])


def priorities(viewer: Viewer, kommune_id: str | None = None) -> pl.DataFrame:
    """Selbstcheck priorities (kommune_id, name, handlungsfeld, nummer): staff for all or one
    commune; a commune only its own."""
    if viewer.role == "public" or (viewer.role == "kommune"
                                   and kommune_id != viewer.kommune_id):
        raise PermissionError("Prioritäten aus dem Selbstcheck sieht nur die Kommune selbst "
                              "und das Programmteam.")
    return query(
        "select s.kommune_id, k.name, s.handlungsfeld, h.nummer from selbstcheck s "
        "join mart_kommune k using (kommune_id) join ref_handlungsfeld h using (handlungsfeld) "
        "where s.prioritaet and (?::varchar is null or s.kommune_id = ?) "
        "order by k.name, h.nummer", [kommune_id, kommune_id])
