"""Accounts, passwords, lock-out and the OIDC role mapping (no Streamlit here).

Local accounts live in a TOML file outside git (`$WK_USERS` or `config/users.toml`); passwords are
hashed with Argon2id (argon2-cffi). After `MAX_FAILURES` wrong passwords an account is locked
for `LOCKOUT` for the client that tried (see `authenticate`); the counters live next to the
accounts in `<users>.state.json`, the login sessions in `<users>.sessions.sqlite`.

For organisations with an identity provider, Streamlit's `st.login` (OIDC) signs people in and
`viewer_for_email` maps the e-mail address to a role with an allowlist (`$WK_OIDC_ROLES` or
`config/oidc_roles.toml`).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
import json
import os
import re
import tomllib
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import tomli_w
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from dashboard import sessions
from dashboard.accounts import users_path
from dashboard.data import ROLES, ROOT, Viewer

MAX_FAILURES = 5  # per account and client
MAX_CLIENT_FAILURES = 20  # per client, any names
MAX_ACCOUNT_FAILURES = 50  # per account, all clients together
MAX_STATE_ENTRIES = 5000
LOCKOUT = dt.timedelta(minutes=15)
SESSION_TIMEOUT = sessions.IDLE_TIMEOUT
MIN_PASSWORD_LENGTH = 10
_USERNAME = re.compile(r"^[a-z0-9][a-z0-9._-]{1,39}$")
_hasher = PasswordHasher()


class AuthError(Exception):
    """A login or account problem, with a German message for the user."""


@dataclass(frozen=True)
class Account:
    username: str
    role: str
    kommune_id: str | None
    password_hash: str
    demo: bool = False  # made by `users demo` for the sample data; refused on real data

    @property
    def viewer(self) -> Viewer:
        return Viewer(self.role, self.kommune_id or None)  # type: ignore[arg-type]


def _state_path(path: Path) -> Path:
    return path.with_name(path.name + ".state.json")


@contextmanager
def _locked(path: Path) -> Iterator[None]:
    """Serialise changes to the account files between sessions and processes."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path.with_name(path.name + ".lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def _atomic_write(path: Path, data: bytes) -> None:
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())
    os.chmod(tmp, 0o600)  # password hashes: readable by the service account only
    os.replace(tmp, path)


def load_accounts(path: Path | None = None) -> dict[str, Account]:
    """All local accounts (empty if the file does not exist yet)."""
    path = path or users_path()
    if not path.exists():
        return {}
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    return {
        name: Account(name, entry["role"], entry.get("kommune_id") or None,
                      entry["password_hash"], bool(entry.get("demo", False)))
        for name, entry in data.get("users", {}).items()
    }


def _save_accounts(accounts: dict[str, Account], path: Path) -> None:
    data = {"users": {
        a.username: {"role": a.role, "kommune_id": a.kommune_id or "",
                     "password_hash": a.password_hash, "demo": a.demo}
        for a in sorted(accounts.values(), key=lambda a: a.username)
    }}
    _atomic_write(path, tomli_w.dumps(data).encode("utf-8"))


def add_account(username: str, password: str, role: str, kommune_id: str | None = None,
                path: Path | None = None, replace: bool = False, demo: bool = False) -> Account:
    """Create (or with `replace`, reset) a local account; raises AuthError with a German reason."""
    path = path or users_path()
    if not _USERNAME.match(username):
        raise AuthError("Der Benutzername darf nur Kleinbuchstaben, Ziffern, Punkt, Binde- und "
                        "Unterstrich enthalten (2–40 Zeichen).")
    if role not in ROLES or role == "public":
        raise AuthError("Die Rolle muss „staff“ oder „kommune“ sein.")
    if role == "kommune" and not (kommune_id and re.fullmatch(r"\d{5}|\d{8}|\d{12}", kommune_id)):
        raise AuthError("Für die Rolle „kommune“ wird der Gemeindeschlüssel der Kommune "
                        "gebraucht (--kommune, z. B. 05766020).")
    if len(password) < MIN_PASSWORD_LENGTH:
        raise AuthError(f"Das Passwort muss mindestens {MIN_PASSWORD_LENGTH} Zeichen haben.")
    with _locked(path):
        accounts = load_accounts(path)
        if username in accounts and not replace:
            raise AuthError(f"Den Benutzer „{username}“ gibt es schon.")
        account = Account(username, role, kommune_id if role == "kommune" else None,
                          _hasher.hash(password), demo)
        accounts[username] = account
        _save_accounts(accounts, path)
        _reset_failures(username, path)
    if replace:  # a new password ends the old logins
        sessions.revoke_user(username, sessions.store_for(path))
    return account


def remove_account(username: str, path: Path | None = None) -> None:
    path = path or users_path()
    with _locked(path):
        accounts = load_accounts(path)
        if accounts.pop(username, None) is None:
            raise AuthError(f"Den Benutzer „{username}“ gibt es nicht.")
        _save_accounts(accounts, path)
    # open logins of the removed account end at once, in every process
    sessions.revoke_user(username, sessions.store_for(path))


def _read_state(path: Path) -> dict:
    state_file = _state_path(path)
    if not state_file.exists():
        return {}
    state = json.loads(state_file.read_text(encoding="utf-8"))
    # the old format (one entry per typed name) is dropped: it is only a throttle
    return state if all(k.startswith(("konto:", "client:")) for k in state) else {}


def _write_state(state: dict, path: Path) -> None:
    _atomic_write(_state_path(path), json.dumps(state, indent=1).encode("utf-8"))


def _reset_failures(username: str, path: Path) -> None:
    state = _read_state(path)
    kept = {k: v for k, v in state.items() if not k.startswith(f"konto:{username}|")}
    if kept != state:
        _write_state(kept, path)


def _client(client: str | None) -> str:
    return sessions.client_key(client)[:16]


def _prune(state: dict, now: dt.datetime) -> dict:
    """Drop counters whose window and lock have passed; keep at most MAX_STATE_ENTRIES."""
    stamp = now.timestamp()
    live = {k: v for k, v in state.items()
            if (v.get("bis") or 0) > stamp or v["seit"] > stamp - LOCKOUT.total_seconds()}
    if len(live) > MAX_STATE_ENTRIES:
        newest = sorted(live, key=lambda k: live[k]["seit"], reverse=True)[:MAX_STATE_ENTRIES]
        live = {k: live[k] for k in newest}
    return live


def _locked_until(state: dict, keys: list[str], now: dt.datetime) -> dt.datetime | None:
    until = max((state[k].get("bis") or 0 for k in keys if k in state), default=0)
    return dt.datetime.fromtimestamp(until, dt.UTC) if until > now.timestamp() else None


def _count(state: dict, key: str, limit: int, now: dt.datetime) -> None:
    stamp = now.timestamp()
    entry = state.get(key)
    if entry is None or entry["seit"] <= stamp - LOCKOUT.total_seconds():
        entry = {"n": 0, "seit": stamp, "bis": None}
    entry["n"] += 1
    if entry["n"] >= limit:
        entry.update(n=0, seit=stamp, bis=stamp + LOCKOUT.total_seconds())
    state[key] = entry


def _locked_message(until: dt.datetime) -> str:
    return (f"Zu viele Fehlversuche: die Anmeldung ist bis {until.astimezone():%H:%M} Uhr "
            "gesperrt. Bitte versuchen Sie es später erneut oder wenden Sie sich an das "
            "Programmteam.")


def authenticate(username: str, password: str, path: Path | None = None,
                 now: dt.datetime | None = None, client: str | None = None) -> Account:
    """The account if the password is right; AuthError (German) otherwise or while locked.

    The message for an unknown user and a wrong password is the same, so the form does not tell
    which user names exist.

    Throttling, counted within `LOCKOUT` and shared by all processes (the state file under the
    accounts lock): `MAX_FAILURES` wrong passwords for an account *from one client* (address
    as seen by the server) lock that account for that client only, so a stranger cannot keep
    a colleague locked out; `MAX_CLIENT_FAILURES` failures from one client (any names) block
    that client; `MAX_ACCOUNT_FAILURES` from all clients together lock the account for all
    (a spread-out guessing attack). Unknown names get no entry of their own, and old entries
    are pruned, so the state file stays small.
    """
    path = path or users_path()
    now = now or dt.datetime.now(dt.UTC)
    username = username.strip().lower()
    ck = _client(client)
    with _locked(path):
        state = _prune(_read_state(path), now)
        account = load_accounts(path).get(username)
        keys = [f"client:{ck}"]
        if account is not None:
            keys += [f"konto:{username}|{ck}", f"konto:{username}|*"]
        until = _locked_until(state, keys, now)
        if until is not None:
            raise AuthError(_locked_message(until))
        ok = False
        if account is not None:
            try:
                ok = _hasher.verify(account.password_hash, password)
            except (VerificationError, InvalidHashError):
                ok = False
        else:
            # spend the same time as a real check, so timing does not reveal unknown names
            with contextlib.suppress(VerificationError):
                _hasher.verify(_DUMMY_HASH, password)
        if ok:
            state.pop(f"konto:{username}|{ck}", None)
            _write_state(state, path)
            return account
        _count(state, f"client:{ck}", MAX_CLIENT_FAILURES, now)
        if account is not None:
            _count(state, f"konto:{username}|{ck}", MAX_FAILURES, now)
            _count(state, f"konto:{username}|*", MAX_ACCOUNT_FAILURES, now)
        _write_state(state, path)
        until = _locked_until(state, keys, now)
    if until is not None:
        raise AuthError(f"Zu viele Fehlversuche: die Anmeldung ist für "
                        f"{int(LOCKOUT.total_seconds() // 60)} Minuten gesperrt.")
    raise AuthError("Benutzername oder Passwort ist falsch.")


_DUMMY_HASH = _hasher.hash("kein-echtes-passwort")


def is_demo_account(account: Account) -> bool:
    return account.demo


def demo_accounts_affected(current_beispieldaten: bool, new_beispieldaten: bool,
                           path: Path | None = None) -> list[str]:
    """The demo accounts that stop working when data with `new_beispieldaten` replace data with
    `current_beispieldaten` (for the warning in the Daten preview; their open sessions end too).
    """
    if not current_beispieldaten or new_beispieldaten:
        return []
    return sorted(a.username for a in load_accounts(path).values() if a.demo)


def session_expired(last_seen: dt.datetime | None, now: dt.datetime | None = None) -> bool:
    """A logged-in session ends after SESSION_TIMEOUT without any interaction."""
    now = now or dt.datetime.now(dt.UTC)
    return last_seen is not None and now - last_seen > SESSION_TIMEOUT


# ---- OIDC allowlist ------------------------------------------------------------------------------


# local@domain.tld: one @, no spaces, quotes or control characters, a dotted domain, ≤ 254 chars
_EMAIL = re.compile(r"(?=.{3,254}$)[A-Za-z0-9!#$%&'*+/=?^_`{|}~.-]+@"
                    r"(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,63}")


def viewer_for_oidc(claims: Mapping[str, object], mapping: dict) -> Viewer | None:
    """Role for an OIDC sign-in: only from an address the identity provider has verified
    (`email_verified`), so an account that merely claims a colleague's address gets none."""
    verified = claims.get("email_verified")
    if not (verified is True or (isinstance(verified, str) and verified.lower() == "true")):
        return None
    email = claims.get("email")
    return viewer_for_email(email if isinstance(email, str) else None, mapping)


def oidc_roles_path() -> Path:
    return Path(os.environ.get("WK_OIDC_ROLES", ROOT / "config" / "oidc_roles.toml"))


def load_oidc_roles(path: Path | None = None) -> dict:
    """The allowlist: `[emails."x@y.de"]` and `[domains."y.de"]` tables with role/kommune_id."""
    path = path or oidc_roles_path()
    return tomllib.loads(path.read_text(encoding="utf-8")) if path.exists() else {}


def viewer_for_email(email: str | None, mapping: dict) -> Viewer | None:
    """Role for a signed-in e-mail address: an exact address wins over its domain; None if the
    address is not on the allowlist (such a person stays a public visitor)."""
    if not email or not _EMAIL.fullmatch(email.strip()):
        return None  # malformed (two @, spaces, control characters, no domain): no role
    email = email.strip().lower()
    domain = email.rsplit("@", 1)[1]
    emails = {k.lower(): v for k, v in mapping.get("emails", {}).items()}
    domains = {k.lower(): v for k, v in mapping.get("domains", {}).items()}
    entry = emails.get(email) or domains.get(domain)
    if not entry or entry.get("role") not in ("staff", "kommune"):
        return None
    try:
        return Viewer(entry["role"], entry.get("kommune_id") or None)
    except ValueError:
        return None  # a kommune entry without kommune_id is a configuration error: no access
