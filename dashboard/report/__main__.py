"""Command line for scheduled reporting: the Bericht page's files without the UI.

    uv run python -m dashboard.report --stichtag 2021-12-31 --out berichte/2021
    uv run python -m dashboard.report --stichtag 2021-12-31 --von 2021-01-01 --bis 2021-12-31 \\
        --out berichte/2021 --public

Writes the XLSX, one CSV per table plus a ZIP, PNG and SVG of every chart and the PDF brief,
with the Stichtag in every file name. Without `--public` the files are the internal version for
the programme team (all values); with it, figures resting on fewer than 3 communes (and cells
that would give them away) show "x".
The database is `$WK_DB` or data/monitor.duckdb, or `--db`.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import sys
from pathlib import Path

from dashboard import data
from dashboard.i18n import translate
from dashboard.report import export as report_export
from dashboard.report.definitions import PROGRAMMSTART


def _date(text: str) -> dt.date:
    """ISO (2021-12-31) or German (31.12.2021) date."""
    for pattern in ("%Y-%m-%d", "%d.%m.%Y"):
        try:
            return dt.datetime.strptime(text, pattern).date()
        except ValueError:
            continue
    raise argparse.ArgumentTypeError(f"„{text}“ ist kein Datum (JJJJ-MM-TT oder TT.MM.JJJJ).")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m dashboard.report",
        description="NAP-I-Kennzahlen als XLSX, CSV, Diagramme (PNG/SVG) und PDF schreiben.")
    parser.add_argument("--stichtag", type=_date,
                        help="Stichtag (Standard: Datenstand der Datenbank)")
    parser.add_argument("--von", type=_date, default=PROGRAMMSTART,
                        help=f"Beginn des Berichtszeitraums (Standard: {PROGRAMMSTART:%d.%m.%Y})")
    parser.add_argument("--bis", type=_date, help="Ende des Berichtszeitraums (Standard: Stichtag)")
    parser.add_argument("--out", required=True, type=Path, help="Zielordner")
    parser.add_argument("--public", action="store_true",
                        help="öffentliche Fassung: Werte aus weniger als 3 Kommunen "
                        "(und was sie verriete) als „x“")
    parser.add_argument("--db", type=Path, help="Datenbank (Standard: $WK_DB oder "
                        "data/monitor.duckdb)")
    parser.add_argument("--lang", choices=("de", "en"), default="de",
                        help="Sprache von XLSX, CSV, Diagrammen und PDF-Kurzbericht (Standard: "
                        "de; Dateinamen auf Englisch enden auf _en)")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.db is not None:
        os.environ["WK_DB"] = str(args.db)
    try:
        info = data.build_info()
    except data.DatabaseMissing as exc:
        print(f"FEHLER: {exc}", file=sys.stderr)
        return 1
    stichtag = args.stichtag or info.datenstand
    bis = args.bis or stichtag
    print(f"Datenbank {data.database_path()} (Build {info.build_id}, Datenstand "
          f"{info.datenstand:%d.%m.%Y})", flush=True)
    if stichtag > info.datenstand:
        print(f"Hinweis: Der Stichtag {stichtag:%d.%m.%Y} liegt nach dem Datenstand; die Zahlen "
              f"zeigen den Stand vom {info.datenstand:%d.%m.%Y}.", flush=True)
    print(f"Kennzahlen zum Stichtag {stichtag:%d.%m.%Y}, Zeitraum {args.von:%d.%m.%Y} – "
          f"{min(bis, stichtag):%d.%m.%Y} ({'öffentliche' if args.public else 'interne'} "
          "Fassung) …", flush=True)
    if args.public and not data.is_site_edition(args.von, bis, stichtag):
        print(f"Hinweis: {translate('de', 'bericht.public_other_period')}", flush=True)
    try:
        # the operator publishes: the public edition of the chosen period
        report = data.load_report(data.STAFF, args.von, bis, stichtag, public=args.public)
        result = report_export.export_all(report, args.out,
                                          progress=lambda msg: print(msg, flush=True),
                                          lang=args.lang)
    except (ValueError, RuntimeError) as exc:
        print(f"FEHLER: {exc}", file=sys.stderr)
        return 2
    print(f"Fertig: {len(result.files)} Dateien in {args.out} "
          f"({result.seconds['total']:.1f} s)", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
