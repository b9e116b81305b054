"""Preview of an upload: the checked files combined with the current version's other files,
validated with the ETL's own reader and rules, and compared with the current database; `apply`
turns a clean preview into a new version of the store."""

from __future__ import annotations

import datetime as dt
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import polars as pl

from dashboard import data
from dashboard.imports import versions
from dashboard.imports.uploads import (
    Upload,
    UploadCheck,
    UploadLike,
    UploadProblem,
    check_uploads,
)
from dashboard.imports.versions import ImportFailed, Progress, Version, _quiet
from etl.build import read_settings, report_lines, staged_tables, validate_inputs
from etl.read import InputError, InputLimits, RawTable, find_input_file, read_table
from etl.schema import ENTITIES
from etl.validate import REJECT_SCHEMA

# ---- preview -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Diff:
    """What an import would change, compared with the current database."""

    kommunen_neu: pl.DataFrame  # kommune_id, name
    kommunen_geaendert: pl.DataFrame  # kommune_id, name, aenderungen
    kommunen_entfernt: pl.DataFrame  # kommune_id, name
    meilensteine_neu: pl.DataFrame  # kommune_id, name, meilenstein
    meilensteine_geaendert: pl.DataFrame  # kommune_id, name, meilenstein, aenderungen
    meilensteine_entfernt: pl.DataFrame  # kommune_id, name, meilenstein

    def counts(self) -> dict[str, int]:
        return {name: getattr(self, name).height for name in self.__dataclass_fields__}


@dataclass(frozen=True)
class Preview:
    """The checked uploads combined with the current version's other files, validated."""

    base_build_id: str | None
    datenstand: dt.date
    beispieldaten: bool
    uploads: dict[str, Upload]
    problems: tuple[UploadProblem, ...]
    files: pl.DataFrame  # datei_art, datei, quelle, kodierung, zeilen_*
    rejects: pl.DataFrame  # datei, zeile, spalte, wert, meldung
    diff: Diff | None
    # (datei_art, rows before, rows after) of tables the upload would empty or, for the
    # registry, lose most communes of: applying them needs an explicit confirmation
    drastic: tuple[tuple[str, int, int], ...] = ()
    notes: tuple[str, ...] = ()  # what the reader interpreted (Excel date serials …)

    @property
    def can_apply(self) -> bool:
        """Only a preview without problems (rejected rows are fine) can become a version."""
        return (bool(self.uploads) and not self.problems and self.diff is not None
                and self.files.height == len(ENTITIES))

    @property
    def rows_loaded(self) -> int:
        return int(self.files.get_column("zeilen_geladen").sum())

    @property
    def rows_rejected(self) -> int:
        return int(self.files.get_column("zeilen_abgelehnt").sum())


FILE_SCHEMA = {"datei_art": pl.String, "datei": pl.String, "quelle": pl.String,
               "kodierung": pl.String, "zeilen_gelesen": pl.Int64, "zeilen_geladen": pl.Int64,
               "zeilen_abgelehnt": pl.Int64}
def _as_text(frame: pl.DataFrame) -> pl.DataFrame:
    """Every column as display text (German dates, decimal comma, ja/nein) for comparing and
    showing values."""
    exprs = []
    for name, dtype in frame.schema.items():
        col = pl.col(name)
        if dtype == pl.Date:
            exprs.append(col.dt.strftime("%d.%m.%Y"))
        elif dtype == pl.Boolean:
            exprs.append(pl.when(col).then(pl.lit("ja")).when(~col).then(pl.lit("nein")))
        elif dtype.is_float():
            exprs.append(col.cast(pl.String).str.replace(".", ",", literal=True))
        else:
            exprs.append(col.cast(pl.String))
    return frame.select(e.alias(n) for e, n in zip(exprs, frame.columns, strict=True))


def diff_rows(old: pl.DataFrame, new: pl.DataFrame, key: list[str]
              ) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame]:
    """(added keys, changed keys with `aenderungen` "feld: alt → neu; …", removed keys).
    A row is changed when any column both frames have differs."""
    common = [c for c in new.columns if c in old.columns and c not in key]
    o = _as_text(old.select(*key, *common))
    n = _as_text(new.select(*key, *common))
    added = n.join(o, on=key, how="anti").select(key)
    removed = o.join(n, on=key, how="anti").select(key)
    both = n.join(o, on=key, how="inner", suffix="__alt")

    def shown(col: pl.Expr) -> pl.Expr:
        return col.fill_null("–").str.slice(0, 40)

    changes = [
        pl.when(~pl.col(c).eq_missing(pl.col(f"{c}__alt")))
        .then(pl.format("{}: {} → {}", pl.lit(c), shown(pl.col(f"{c}__alt")), shown(pl.col(c))))
        for c in common
    ]
    changed = (
        both.with_columns(pl.concat_list(changes).list.drop_nulls().alias("_liste"))
        .filter(pl.col("_liste").list.len() > 0)
        .select(*key, pl.col("_liste").list.join("; ").alias("aenderungen"))
    ) if changes else both.select(key).clear().with_columns(aenderungen=pl.lit(""))
    return added.sort(key), changed.sort(key), removed.sort(key)


def _diff(viewer: data.Viewer, results: dict) -> Diff:
    new = staged_tables(results)
    try:
        old = data.core_tables(viewer)
    except data.DatabaseMissing:
        old = {name: frame.clear() for name, frame in new.items()}
    names = pl.concat([
        old["kommunen"].select("kommune_id", "name"),
        new["kommunen"].select("kommune_id", "name"),
    ]).unique("kommune_id", keep="last")  # the new name where there is one

    def named(frame: pl.DataFrame) -> pl.DataFrame:
        out = frame.join(names, on="kommune_id", how="left")
        return out.select("kommune_id", "name", *[c for c in frame.columns if c != "kommune_id"])

    k_new, k_changed, k_removed = diff_rows(old["kommunen"], new["kommunen"], ["kommune_id"])
    m_key = ["kommune_id", "meilenstein"]
    m_new, m_changed, m_removed = diff_rows(old["meilensteine"], new["meilensteine"], m_key)
    return Diff(named(k_new), named(k_changed), named(k_removed),
                named(m_new), named(m_changed), named(m_removed))


def preview(
    viewer: data.Viewer,
    uploads: Iterable[UploadLike] | UploadCheck,
    datenstand: dt.date,
    beispieldaten: bool = False,
    limits: InputLimits = InputLimits(),
    progress: Progress = _quiet,
) -> Preview:
    """Check the uploads, combine them with the current version's other input files, validate
    everything with the ETL's own reader and rules, and compare with the current database."""
    data.require_staff(viewer, "Daten importieren")
    check = uploads if isinstance(uploads, UploadCheck) else check_uploads(uploads, limits)
    base = versions.current_version(viewer)
    problems = list(check.problems)
    raws: dict[str, RawTable] = {}
    diff, rejects = None, pl.DataFrame(schema=REJECT_SCHEMA)
    files = pl.DataFrame(schema=FILE_SCHEMA)
    with tempfile.TemporaryDirectory(prefix="wk-vorschau-") as tmp:
        input_dir = Path(tmp)
        sources = versions.assemble(input_dir, check.accepted, base, datenstand, beispieldaten)
        for entity in ENTITIES:
            if entity.name not in sources:
                problems.append(UploadProblem(f"{entity.name}.csv", (
                    f"Es fehlt die Datei „{entity.name}.csv“ (oder .xlsx): die aktuelle Version "
                    "hat sie nicht gespeichert. Bitte laden Sie sie mit hoch.")))
                continue
            path = find_input_file(input_dir, entity)
            try:
                raws[entity.name] = read_table(path, entity)
            except InputError as exc:
                origin = "" if sources[entity.name] == "hochgeladen" else " (bisherige Datei)"
                problems.append(UploadProblem(path.name + origin, str(exc)))
        if len(raws) == len(ENTITIES):
            settings = read_settings(input_dir)
            results = validate_inputs(raws, settings.datenstand, progress)
            rejects = report_lines(results)
            files = pl.DataFrame([
                {"datei_art": name, "datei": raws[name].path.name, "quelle": sources[name],
                 "kodierung": raws[name].encoding, "zeilen_gelesen": r.rows_read,
                 "zeilen_geladen": r.loaded_rows, "zeilen_abgelehnt": r.rejected_rows}
                for name, r in results.items()
            ], schema=FILE_SCHEMA)
            diff = _diff(viewer, results)
    drastic = _drastic(base, files, diff)
    notes = tuple(note for raw in raws.values() for note in raw.notes)
    return Preview(base.build_id if base else None, datenstand, beispieldaten, check.accepted,
                   tuple(problems), files, rejects, diff, drastic, notes)


def _drastic(base: Version | None, files: pl.DataFrame, diff: Diff | None
             ) -> tuple[tuple[str, int, int], ...]:
    """Tables a header-only file would empty, and a registry that loses more than half of its
    communes: the staff member confirms these by name before they apply."""
    if base is None or diff is None:
        return ()
    before = {f["datei_art"]: int(f.get("zeilen_geladen") or 0) for f in base.dateien}
    after = dict(files.select("datei_art", "zeilen_geladen").iter_rows())
    found = []
    for name, old in before.items():
        new = int(after.get(name, 0))
        removed = diff.kommunen_entfernt.height if name == "kommunen" else 0
        if old and (new == 0 or 2 * removed > old):
            found.append((name, old, new))
    return tuple(found)




def apply(
    viewer: data.Viewer,
    user: str,
    preview: Preview,
    progress: Progress = _quiet,
    lock_timeout: float = versions.LOCK_TIMEOUT,
    keep: int = versions.KEEP_VERSIONS,
    confirmed: bool = False,
) -> Version:
    """Build a clean preview as a new version and make it the live database (see
    `versions.create`: nothing switches unless the build succeeded and was audited). A preview
    with `drastic` changes needs `confirmed`."""
    data.require_staff(viewer, "Daten übernehmen")
    if not preview.can_apply:
        raise ImportFailed("Die Vorschau enthält Fehler. Bitte beheben Sie die genannten "
                           "Probleme und laden Sie die Dateien erneut hoch.")
    if preview.drastic and not confirmed:
        tables = ", ".join(f"„{name}“ ({old} → {new} Zeilen)"
                           for name, old, new in preview.drastic)
        raise ImportFailed(f"Die Übernahme würde {tables} leeren oder die meisten Kommunen "
                           "entfernen. Bitte bestätigen Sie das in der Vorschau ausdrücklich.")
    return versions.create(viewer, user, preview.uploads, preview.base_build_id,
                           preview.datenstand, preview.beispieldaten, progress, lock_timeout,
                           keep)
