"""Manage local accounts: `python -m dashboard.users add|remove|list|demo`.

    python -m dashboard.users add --user lemgo --role kommune --kommune 05766020
    python -m dashboard.users add --user anna --role staff          (asks for the password)
    python -m dashboard.users list
    python -m dashboard.users demo     (demo accounts for the sample data, new passwords)

Passwords are read from the terminal (or one line on stdin with --password-stdin), never from
the command line, so they do not end up in the shell history.
"""

from __future__ import annotations

import argparse
import getpass
import secrets
import sys
from pathlib import Path

from dashboard import auth, data

# an older version kept the demo passwords here in plain text; removed on the next `demo`
OLD_DEMO_FILE = "demo_accounts.toml"


def _read_password(from_stdin: bool) -> str:
    if from_stdin:
        return sys.stdin.readline().rstrip("\n")
    first = getpass.getpass("Passwort: ")
    if getpass.getpass("Passwort wiederholen: ") != first:
        raise auth.AuthError("Die beiden Passwörter stimmen nicht überein.")
    return first


def demo_accounts(users_file: Path) -> list[dict[str, str]]:
    """(Re)create the demo accounts with fresh random passwords and return them, passwords
    included, for printing once. Only for a database built from the sample data.

    The passwords are kept nowhere in plain text (only their Argon2 hashes in the accounts
    file), so every call sets new ones and ends the open sessions of the old ones."""
    if not data.build_info().beispieldaten:
        raise auth.AuthError("Demo-Zugänge gibt es nur für die Beispieldaten; die aktuelle "
                             "Datenbank enthält echte Daten.")
    users_file.with_name(OLD_DEMO_FILE).unlink(missing_ok=True)  # held plain-text passwords
    kommunen = data.demo_account_communes()
    wanted = [{"user": "team", "role": "staff", "kommune_id": "", "name": "Programmteam"}]
    wanted += [{"user": f"kommune{i + 1}", "role": "kommune", "kommune_id": k, "name": n}
               for i, (k, n) in enumerate(kommunen.rows())]
    for account in wanted:
        account["password"] = secrets.token_urlsafe(9)
        auth.add_account(account["user"], account["password"], account["role"],
                         account["kommune_id"] or None, users_file, replace=True, demo=True)
    return wanted


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m dashboard.users", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    add = sub.add_parser("add", help="Konto anlegen (oder mit --replace Passwort neu setzen)")
    add.add_argument("--user", required=True)
    add.add_argument("--role", required=True, choices=["staff", "kommune"])
    add.add_argument("--kommune", help="Gemeindeschlüssel für die Rolle kommune")
    add.add_argument("--replace", action="store_true")
    add.add_argument("--password-stdin", action="store_true")
    rm = sub.add_parser("remove", help="Konto löschen")
    rm.add_argument("--user", required=True)
    sub.add_parser("list", help="Konten anzeigen")
    sub.add_parser("demo", help="Demo-Zugänge für die Beispieldaten anlegen und anzeigen")
    args = parser.parse_args(argv)
    path = auth.users_path()
    try:
        if args.command == "add":
            auth.add_account(args.user, _read_password(args.password_stdin), args.role,
                             args.kommune, path, replace=args.replace)
            print(f"Konto „{args.user}“ ({args.role}) gespeichert in {path}.")
        elif args.command == "remove":
            auth.remove_account(args.user, path)
            print(f"Konto „{args.user}“ gelöscht.")
        elif args.command == "list":
            for a in auth.load_accounts(path).values():
                print(f"{a.username:20} {a.role:8} {a.kommune_id or ''}"
                      f"{'  (Demo)' if a.demo else ''}")
        else:
            accounts = demo_accounts(path)
            print("Demo-Zugänge (nur für die Beispieldaten; neue Passwörter bei jedem Aufruf, "
                  "nirgends im Klartext gespeichert):")
            for a in accounts:
                extra = f", {a['name']} ({a['kommune_id']})" if a["kommune_id"] else ""
                print(f"  {a['user']:10} Passwort {a['password']:14} Rolle {a['role']}{extra}")
    except (auth.AuthError, data.DatabaseMissing) as exc:
        print(f"FEHLER: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
