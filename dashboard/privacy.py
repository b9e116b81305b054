"""Erase a commune's personal data everywhere the dashboard keeps it (GDPR Art. 17).

    python -m dashboard.privacy delete --kommune 05766020 --user anna [--yes]

Personal data in this product are the contact person of a commune (`ansprechperson`, `email`,
`telefon`) and the internal notes (`notiz` in `kommunen` and `meilensteine`), which may name
people. Columns a file has beyond the documented ones are treated as personal too.

Erasure works on the inputs and rebuilds, because a database edited in place keeps the old
values in its blocks (an UPDATE plus CHECKPOINT leaves them readable with `strings`):
1. under the version store's lock, unfinished builds and stale temp files are removed and the
   live database is registered as a version;
2. the fields are blanked in every stored input file of every version
   (`data/builds/<build_id>/eingabe/`), and each version's database is rebuilt from its blanked
   inputs with the normal ETL (`versions.rebuild`: new file, atomic swap, rejects report and
   checksums rewritten, so rollback keeps working). Rejected rows are rebuilt too, so their
   quoted values disappear whatever the rejection reason; a row rejected only for its contact
   data loads after the erasure, without it;
3. a version that did not keep its input files cannot be rebuilt and is removed (the live
   version must have its files; otherwise nothing is changed and the command says what to do);
4. the live database is switched to the rebuilt file of its version;
5. reject reports beside the live database (the CLI's `monitor.ablehnungen.csv`) lose every
   erased value;
6. every function in `ERASERS` runs with the commune key (the app store plugs in here).
The audit log gets an event before (nothing happens if it cannot be written) and after, without
the erased values. The commune itself, its timeline, uptake and Selbstcheck stay: they are
programme data of the commune, not personal data.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import polars as pl

from dashboard import audit, data
from dashboard.imports import versions
from dashboard.store import db as store_db
from etl.read import (
    InputError,
    decode_text,
    find_input_file,
    read_csv_text,
    read_xlsx_text,
    sniff_delimiter,
)
from etl.schema import ENTITIES, Entity
from etl.validate import parse_ags

PERSONAL_FIELDS: dict[str, tuple[str, ...]] = {
    "kommunen": ("ansprechperson", "email", "telefon", "notiz"),
    "meilensteine": ("notiz",),
}
# Other stores that hold a commune's data: each is called with the commune key and the user
# under the version store's lock, after the databases are rebuilt. The app store (what users
# wrote in the app: offers, requests, practice cards, measures, notes) erases its rows and
# rewrites its file (VACUUM), so no byte of them is left.
ERASERS: list[Callable[[str, str], object]] = [store_db.erase_kommune]
_ERASED = "[gelöscht]"


@dataclass(frozen=True)
class DeletionReport:
    kommune_id: str
    versions_rebuilt: int
    versions_removed: int
    input_files: int
    reports_cleaned: int
    values: int  # how many distinct values were erased


def _normalised(name: str) -> str:
    return name.strip().lower().replace(" ", "_")


def _read_raw(path: Path, entity: Entity) -> tuple[pl.DataFrame, dict]:
    """The file as it is (original headers and extra columns), plus how to write it back."""
    raw = path.read_bytes()
    if path.suffix.lower() in (".xlsx", ".xlsm"):
        return read_xlsx_text(raw, path.name, entity.name), {"xlsx": True}
    text, encoding = decode_text(raw, path.name)
    frame, _ = read_csv_text(raw, path.name)
    return frame, {"xlsx": False, "bom": encoding == "utf-8-sig",
                   "separator": sniff_delimiter(text.splitlines()[0] if text else "")}


def blank_input_file(path: Path, entity: Entity, kommune_id: str) -> set[str]:
    """Blank the personal fields (and undocumented columns) of the commune's rows in one stored
    input file; returns the values removed (empty if the commune has none there)."""
    frame, how = _read_raw(path, entity)
    by_name = {_normalised(c): c for c in frame.columns}
    if "kommune_id" not in by_name:
        return set()
    hit = parse_ags(pl.col(by_name["kommune_id"]).str.strip_chars()) == kommune_id
    personal = [c for c in frame.columns
                if _normalised(c) in PERSONAL_FIELDS.get(entity.name, ())
                or _normalised(c) not in entity.column_names]
    found = frame.filter(hit.fill_null(False)).select(personal)
    values = {v for col in found.iter_columns() for v in col.drop_nulls().to_list() if v.strip()}
    if not values:
        return set()
    frame = frame.with_columns(
        pl.when(hit.fill_null(False)).then(None).otherwise(pl.col(c)).alias(c) for c in personal)
    tmp = path.with_name(f".{path.name}.loeschen.tmp")
    try:
        if how["xlsx"]:
            frame.write_excel(tmp, worksheet=entity.name)
        else:
            text = frame.write_csv(separator=how["separator"], quote_style="necessary")
            tmp.write_bytes(("\ufeff" if how["bom"] else "").encode() + text.encode("utf-8"))
        versions.fsync_file(tmp)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    return values


def scrub_report(path: Path, values: set[str]) -> bool:
    """Replace every erased value (and its cut-off form, as reports quote at most 80
    characters) in a rejects report CSV; True if it changed."""
    raw = path.read_bytes()
    frame, _ = read_csv_text(raw, path.name)
    needles = sorted({n for v in values for n in (v, v[:80]) if len(n) >= 3}, key=len,
                     reverse=True)
    cleaned = frame.with_columns(pl.col(c).str.replace_many(needles, [_ERASED] * len(needles))
                                 for c in frame.columns)
    if cleaned.equals(frame):
        return False
    tmp = path.with_name(f".{path.name}.loeschen.tmp")
    text = cleaned.write_csv(separator=";", quote_style="necessary")
    tmp.write_bytes("\ufeff".encode() + text.encode("utf-8"))
    os.replace(tmp, path)
    return True


def _kommune_key(raw: str) -> str:
    key = pl.select(parse_ags(pl.lit(raw.strip()))).item()
    if key is None:
        raise ValueError(f"„{raw[:40]}“ ist kein gültiger Gemeindeschlüssel. Erwartet werden 8 "
                         "Ziffern (Gemeinde), 5 (Kreis) oder 12 (ARS), z. B. 05766020.")
    return key


def delete_personal_data(viewer: data.Viewer, user: str, kommune_id: str,
                         progress: Callable[[str], None] = lambda _m: None) -> DeletionReport:
    """Erase the commune's personal data from every version, input, report and temp file."""
    data.require_staff(viewer, "personenbezogene Daten löschen")
    key = _kommune_key(kommune_id)
    live = data.database_path()
    if not live.exists():
        raise data.DatabaseMissing(f"Es gibt keine Datenbank unter {live}.")
    with versions.locked() as root:
        versions.remove_unfinished(root)  # also stale temp files of dead builds
        live_version = versions.register_live(viewer)
        if live_version is not None and not live_version.complete:
            raise versions.ImportFailed(
                f"Die aktuelle Version „{live_version.build_id}“ hat ihre Eingabedateien nicht "
                "gespeichert, daher kann sie nicht ohne die Daten neu gebaut werden. Bitte laden "
                "Sie die vier Eingabedateien einmal auf der Seite „Daten“ hoch (oder bauen Sie "
                "die Datenbank mit „python -m etl build“ aus dem Eingabeordner neu) und "
                "wiederholen Sie dann die Löschung. Es wurde nichts geändert.")
        audit.log_event(user, "delete_personal", {"kommune_id": key, "schritt": "beginn"})
        values: set[str] = set()
        rebuilt = removed = inputs = 0
        # the live version last: a failure before it leaves the live database as it was
        ordered = sorted(versions.all_versions(root),
                         key=lambda v: live_version is not None
                         and v.build_id == live_version.build_id)
        for version in ordered:
            if not version.complete:
                shutil.rmtree(version.folder)
                removed += 1
                continue
            changed = set()
            for entity in ENTITIES:
                if entity.name in PERSONAL_FIELDS:
                    found = blank_input_file(find_input_file(version.input_dir, entity), entity,
                                             key)
                    changed |= found
                    inputs += bool(found)
            values |= changed
            done = version
            erased_before = key in _erased_list(version)
            if changed or not erased_before:
                progress(f"Version {version.build_id} wird ohne die Daten neu gebaut …")
                done = versions.rebuild(version, progress, personendaten_geloescht=sorted(
                    {*_erased_list(version), key}))
                rebuilt += 1
            if live_version is not None and version.build_id == live_version.build_id:
                versions.switch(done.database, done.build_id)
        cleaned = 0
        if values:
            for report in sorted(live.parent.glob("*.ablehnungen.csv")):
                cleaned += scrub_report(report, values)
        for erase in ERASERS:
            erase(key, user)
    audit.log_event(user, "delete_personal", {
        "kommune_id": key, "schritt": "ende", "versionen_neu_gebaut": rebuilt,
        "versionen_entfernt": removed, "eingabedateien": inputs, "berichte": cleaned})
    return DeletionReport(key, rebuilt, removed, inputs, cleaned, len(values))


def _erased_list(version: versions.Version) -> list[str]:
    meta = json.loads((version.folder / versions.VERSION_FILE).read_text(encoding="utf-8"))
    return list(meta.get("personendaten_geloescht", []))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m dashboard.privacy", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    d = sub.add_parser("delete", help="Kontaktdaten und Notizen einer Kommune löschen")
    d.add_argument("--kommune", required=True, help="Gemeindeschlüssel, z. B. 05766020")
    d.add_argument("--user", required=True, help="wer löscht (für das Protokoll)")
    d.add_argument("--yes", action="store_true", help="ohne Rückfrage")
    args = parser.parse_args(argv)
    if not args.yes:
        answer = input(f"Kontaktdaten und Notizen von {args.kommune} in allen Versionen "
                       "unwiderruflich löschen? [ja/nein] ")
        if answer.strip().lower() not in ("ja", "j"):
            print("Abgebrochen.")
            return 1
    try:
        r = delete_personal_data(data.STAFF, args.user, args.kommune, progress=print)
    except (data.DatabaseMissing, versions.ImportFailed, InputError, PermissionError,
            ValueError) as exc:
        print(f"FEHLER: {exc}", file=sys.stderr)
        return 1
    except OSError as exc:
        print(f"FEHLER: {versions.failure_message(exc, 'Die Löschung')}", file=sys.stderr)
        return 1
    print(f"Gelöscht für {r.kommune_id}: {r.values} Werte aus {r.input_files} Eingabedateien; "
          f"{r.versions_rebuilt} Versionen neu gebaut, {r.versions_removed} Versionen ohne "
          f"gespeicherte Eingabedateien entfernt, {r.reports_cleaned} Prüfberichte bereinigt.")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
