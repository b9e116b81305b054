"""Command line: `python -m etl build --input DIR --output FILE` and `python -m etl docs`."""

from __future__ import annotations

import argparse
import datetime as dt
import os
import sys
from pathlib import Path

import duckdb
import polars as pl

from etl.build import build, describe_os_error
from etl.docs import write_docs
from etl.excel_csv import to_excel_csv_bytes
from etl.read import DEFAULT_LIMITS, MB, InputError, InputLimits, InputTooLarge
from etl.validate import ART_FEHLER, ART_HINWEIS

ROOT = Path(__file__).resolve().parent.parent


def _date_argument(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"„{text}“ ist kein Datum; bitte JJJJ-MM-TT angeben, z. B. 2021-12-15") from None


def _positive_int(text: str) -> int:
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"„{text}“ ist keine positive ganze Zahl")
    return int(text)


def _progress(message: str) -> None:
    print(message, flush=True)


def _cmd_build(args: argparse.Namespace) -> int:
    output = Path(args.output)
    kept = "Die bisherige Datenbank bleibt unverändert."
    try:
        limits = InputLimits(max_bytes=args.max_mb * MB)
        report = build(Path(args.input), output, args.datenstand, progress=_progress,
                       limits=limits)
    except InputError as exc:
        hint = (f"\nWenn die Datei so groß sein soll: --max-mb {exc.size_mb} angeben."
                if isinstance(exc, InputTooLarge) else "")
        print(f"FEHLER: {exc}{hint}\n{kept}", file=sys.stderr)
        return 1
    except OSError as exc:
        print(f"FEHLER: {describe_os_error(exc)}\n{kept}", file=sys.stderr)
        return 1
    except duckdb.Error as exc:
        print(f"FEHLER: Der Build ist in einem SQL-Schritt gescheitert ({type(exc).__name__}). "
              f"Bitte melden Sie das der technischen Betreuung.\n{kept}", file=sys.stderr)
        return 1
    rejects = report.rejects
    report_path = Path(args.report) if args.report else output.with_suffix(".ablehnungen.csv")
    try:
        tmp = report_path.with_name(f".{report_path.name}.tmp")
        tmp.write_bytes(to_excel_csv_bytes(rejects))
        os.replace(tmp, report_path)
    except OSError as exc:
        print(f"FEHLER: Der Ablehnungsbericht „{report_path}“ konnte nicht geschrieben werden: "
              f"{describe_os_error(exc)} Die Datenbank {output} ist gebaut.", file=sys.stderr)
        return 1
    errors = rejects.filter(pl.col("art") == ART_FEHLER)
    warnings = rejects.filter(pl.col("art") == ART_HINWEIS)
    if rejects.height:
        rows = errors.select("datei", "zeile").n_unique()
        print(
            f"{rows} Zeilen abgelehnt ({errors.height} Fehler), {warnings.height} Hinweise zu "
            f"übernommenen Zeilen, Bericht: {report_path}"
        )
        for row in rejects.head(args.show).iter_rows(named=True):
            print(
                f"  {row['art']}: {row['datei']} Zeile {row['zeile']}, Spalte {row['spalte']}: "
                f"{row['meldung']}"
            )
        if rejects.height > args.show:
            print(f"  … und {rejects.height - args.show} weitere, siehe {report_path}")
    else:
        print("Keine Zeile abgelehnt.")
    print(f"Build {report.build_id} in {report.seconds:.1f} s")
    return 0


def _cmd_docs(_args: argparse.Namespace) -> int:
    for path in write_docs(ROOT):
        print(f"geschrieben: {path.relative_to(ROOT)}")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m etl", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    b = sub.add_parser("build", help="Eingabedateien prüfen und Datenbank bauen")
    b.add_argument("--input", required=True, help="Ordner mit kommunen, meilensteine, …")
    b.add_argument("--output", required=True, help="Ziel-Datenbank, z. B. data/monitor.duckdb")
    b.add_argument(
        "--datenstand",
        type=_date_argument,
        default=None,
        help="Datenstand JJJJ-MM-TT (sonst aus quelle.toml oder heute)",
    )
    b.add_argument("--report", help="Ablehnungsbericht (CSV); Standard: neben der Datenbank")
    b.add_argument("--show", type=int, default=20, help="so viele Ablehnungen anzeigen")
    b.add_argument(
        "--max-mb",
        type=_positive_int,
        default=DEFAULT_LIMITS.max_bytes // MB,
        help="größte erlaubte Eingabedatei in MB (Standard wie beim Hochladen: %(default)s); "
        "für landesweite Datenmengen höher setzen",
    )
    b.set_defaults(func=_cmd_build)
    d = sub.add_parser("docs", help="data/README.md und Vorlagen aus dem Schema erzeugen")
    d.set_defaults(func=_cmd_docs)
    args = parser.parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    raise SystemExit(main())
