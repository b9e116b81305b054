"""Delete a commune's personal data everywhere the dashboard keeps it.

    python -m dashboard.privacy delete --kommune 05766020 --user anna [--yes]

Personal data in this product is the contact person of a commune (`ansprechperson`, `email`,
`telefon`) and the internal note (`notiz`), which may name people. They live in
- the live database (`data/monitor.duckdb` or `$WK_DB`),
- every kept version: its database and its stored input file `kommunen.csv/.xlsx`
  (`data/builds/<build_id>/`, see dashboard/imports.py),
- rejected-row reports of those versions, where a rejected contact value may be quoted.
The command blanks these fields for one commune in all of them, under the version history's
lock, switches the live database atomically, and writes an audit event (without the deleted
values). The commune itself, its timeline, uptake and Selbstcheck stay: they are programme data
of the commune, not personal data.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path

import duckdb
import polars as pl

from dashboard import audit, data, imports
from etl.excel_csv import to_excel_csv_bytes
from etl.read import read_table
from etl.schema import KOMMUNEN

PERSONAL_FIELDS = ("ansprechperson", "email", "telefon", "notiz")


@dataclass(frozen=True)
class DeletionReport:
    kommune_id: str
    databases: int
    input_files: int
    reject_lines: int


def _blank_database(path: Path, kommune_id: str) -> int:
    """Blank the fields in one database file; return how many reject lines were removed."""
    con = duckdb.connect(str(path))
    try:
        old = con.execute(
            f"select {', '.join(PERSONAL_FIELDS)} from kommune where kommune_id = ?", [kommune_id]
        ).fetchone()
        sets = ", ".join(f"{f} = null" for f in PERSONAL_FIELDS)
        for table in ("kommune", "mart_kommune"):
            con.execute(f"update {table} set {sets} where kommune_id = ?", [kommune_id])
        removed = 0
        values = [v for v in (old or ()) if v]
        if values:
            removed = con.execute(
                "delete from meta_ablehnungen where datei like 'kommunen.%' and "
                "(wert in (select unnest(?)) or zeile in (select zeile from meta_ablehnungen "
                "where datei like 'kommunen.%' and spalte = 'kommune_id' and wert = ?))",
                [values, kommune_id],
            ).fetchone()[0]
        con.execute("checkpoint")
        return removed
    finally:
        con.close()


def _blank_input_file(path: Path, kommune_id: str) -> bool:
    """Blank the fields in a stored `kommunen` input file (CSV or XLSX); True if changed."""
    frame = read_table(path, KOMMUNEN).frame.drop("_zeile")
    ids = frame.get_column("kommune_id").str.strip_chars().str.zfill(len(kommune_id))
    hit = ids == kommune_id
    if not hit.any():
        return False
    frame = frame.with_columns(
        pl.when(hit).then(None).otherwise(pl.col(f)).alias(f) for f in PERSONAL_FIELDS
    )
    tmp = path.with_name(path.name + ".tmp")
    if path.suffix.lower() == ".xlsx":
        frame.write_excel(tmp, worksheet=KOMMUNEN.name)
    else:
        tmp.write_bytes(to_excel_csv_bytes(frame))
    os.replace(tmp, path)
    return True


def _refresh_version_files(folder: Path, db: Path, kommune_id: str) -> None:
    """Rewrite the version's rejects report and its checksums (rollback verifies them), and note
    the deletion in version.json."""
    con = duckdb.connect(str(db), read_only=True)
    try:
        rejects = con.sql("select * from meta_ablehnungen order by datei, zeile").pl()
    finally:
        con.close()
    report = folder / "ablehnungen.csv"
    if report.exists():
        report.write_bytes(to_excel_csv_bytes(rejects))
    meta_file = folder / "version.json"
    if not meta_file.exists():
        return
    meta = json.loads(meta_file.read_text(encoding="utf-8"))
    meta["datenbank_sha256"] = imports._sha256_file(db)
    for entry in meta.get("dateien", []):
        stored = folder / "eingabe" / entry.get("datei", "")
        if entry.get("datei_art") == KOMMUNEN.name and stored.is_file():
            entry["sha256"] = imports._sha256_file(stored)
    meta["personendaten_geloescht"] = sorted(
        {*meta.get("personendaten_geloescht", []), kommune_id})
    imports._write_json(meta_file, meta)


def delete_personal_data(viewer: data.Viewer, user: str, kommune_id: str) -> DeletionReport:
    """Blank the commune's personal fields in the live database, every version and its inputs."""
    data.require_staff(viewer, "personenbezogene Daten löschen")
    live = data.database_path()
    if not live.exists():
        raise data.DatabaseMissing(f"Es gibt keine Datenbank unter {live}.")
    databases = inputs = rejects = 0
    with imports._locked() as root:
        for folder in sorted(p for p in root.iterdir() if p.is_dir()):
            for db in folder.glob("*.duckdb"):
                rejects += _blank_database(db, kommune_id)
                databases += 1
            for stored in folder.glob("eingabe/kommunen.*"):
                inputs += _blank_input_file(stored, kommune_id)
            db = next(folder.glob("*.duckdb"), None)
            if db is not None:
                _refresh_version_files(folder, db, kommune_id)
        # the live file: change a copy, then switch atomically (readers never see a half state)
        tmp = live.with_name(f".{live.name}.loeschen.tmp")
        try:
            shutil.copyfile(live, tmp)
            rejects += _blank_database(tmp, kommune_id)
            os.replace(tmp, live)
        finally:
            tmp.unlink(missing_ok=True)
        databases += 1
    audit.log_event(user, "delete_personal",
                    {"kommune_id": kommune_id, "datenbanken": databases, "dateien": inputs})
    return DeletionReport(kommune_id, databases, inputs, rejects)


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
        r = delete_personal_data(data.STAFF, args.user, args.kommune)
    except (data.DatabaseMissing, imports.ImportFailed, PermissionError) as exc:
        print(f"FEHLER: {exc}", file=sys.stderr)
        return 1
    print(f"Gelöscht für {r.kommune_id}: {r.databases} Datenbanken, {r.input_files} "
          f"Eingabedateien, {r.reject_lines} Zeilen aus Prüfberichten.")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
