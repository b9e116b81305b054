"""Command line of the deadline watch (for cron or a systemd timer).

    python -m dashboard.watch [digest]                  new overdue items: in-app digest, mail
    python -m dashboard.watch versand [--outbox DIR]    due report deliveries (SMTP or outbox)
    python -m dashboard.watch alles [--outbox DIR]      both

Private calendar links need no job: dashboard/server.py serves them (/kalender/<token>.ics).

SMTP comes from the `[smtp]` section of .streamlit/secrets.toml (`digest_an` = recipients of the
digest, separated by semicolons). Without it the digest is only shown in the app and deliveries
go to the outbox folder. Exit code 0 also when there was nothing to do.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from dashboard import notify
from dashboard import watch as w

USER = "watch"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m dashboard.watch", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command")
    sub.add_parser("digest", help="Neue Fristüberschreitungen melden (Standard)")
    versand = sub.add_parser("versand", help="Fällige Berichte versenden")
    versand.add_argument("--outbox", type=Path)
    alles = sub.add_parser("alles", help="digest und versand nacheinander")
    alles.add_argument("--outbox", type=Path)
    args = parser.parse_args(argv)
    command = args.command or "digest"
    config = notify.smtp_config()

    if command in ("digest", "alles"):
        result = w.run_digest(USER, config)
        print(f"Zusammenfassung: {result['anzahl']} neue Einträge"
              + (f", gesendet an {result['versand']}" if result["versand"] else "")
              if result else "Zusammenfassung: nichts Neues.")
    if command in ("versand", "alles"):
        sent = w.deliver_due(USER, config, args.outbox)
        print(f"Berichtsversand: {len(sent)} versendet" + "".join(f"\n  {s}" for s in sent))
    return 0


if __name__ == "__main__":
    sys.exit(main())
