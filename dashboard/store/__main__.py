"""Command line of the app store.

    python -m dashboard.store migrate                       apply pending migrations, print version
    python -m dashboard.store demo                          sample exchange data (once; demo only)
    python -m dashboard.store erase --kommune 01003000 --user anna [--yes]

The store is `$WK_STORE` or data/store.sqlite. `demo` reads the sample communes from the demo
database (`$WK_DB` or data/monitor.duckdb) and refuses on any other data.
"""

from __future__ import annotations

import argparse
import sys

from dashboard.store import db


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m dashboard.store", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("migrate", help="Migrationen anwenden")
    sub.add_parser("demo", help="Beispiel-Einträge für die Demodaten anlegen (einmalig)")
    erase = sub.add_parser("erase", help="Alles einer Kommune aus dem App-Speicher löschen")
    erase.add_argument("--kommune", required=True)
    erase.add_argument("--user", required=True, help="Konto, das löscht (für das Prüfprotokoll)")
    erase.add_argument("--yes", action="store_true", help="ohne Rückfrage")
    args = parser.parse_args(argv)

    if args.command == "migrate":
        print(f"App-Speicher {db.store_path()}: Schemaversion {db.schema_version()}")
        return 0
    if args.command == "demo":
        from dashboard import data
        from dashboard.store import demo

        if not data.build_info().beispieldaten:
            print("Die Datenbank enthält keine Beispieldaten; es werden keine Demo-Einträge "
                  "angelegt.", file=sys.stderr)
            return 1
        written = demo.seed(data.query("select * from mart_peer_merkmale order by kommune_id"))
        print("Demo-Einträge angelegt." if written else "App-Speicher enthält schon Einträge; "
              "nichts geändert.")
        from dashboard.store import demo_handlungsplan

        if demo_handlungsplan.seed(*demo_handlungsplan_inputs(data)):
            print("Demo-Handlungspläne und Notizen angelegt.")
        return 0
    if not args.yes and input(f"Alle Einträge von {args.kommune} löschen? [j/N] ").lower() != "j":
        print("Abgebrochen.")
        return 1
    deleted = db.erase_kommune(args.kommune, args.user)
    print(f"Gelöscht: {deleted or 'nichts gefunden'}")
    return 0


def demo_handlungsplan_inputs(data) -> tuple:
    """Priorities, workshop dates, module events per commune and the data date of the demo
    database, for `demo_handlungsplan.seed`."""
    progress = data.load_progress(data.STAFF)
    workshops = dict(progress.filter(progress["meilenstein"] == "Workshop")
                     .select("kommune_id", "geplant_am").rows())
    events = {k: p.uptake["veranstaltung_id"].unique().sort().to_list()
              for k in data.kommune_names() if (p := data.load_kommune_profile(data.STAFF, k))}
    return (data.priorities(data.STAFF), workshops, events, data.build_info().datenstand)


if __name__ == "__main__":
    sys.exit(main())
