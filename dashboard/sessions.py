"""Login sessions of local accounts that survive a reload: a signed cookie plus a shared store.

Streamlit keeps `st.session_state` per browser tab and connection, so a reload or a new tab used
to end a password login. Here a login gets a server-side session (a row in a small SQLite file
next to the accounts, `config/users.toml.sessions.sqlite` or `$WK_SESSIONS`) and the browser gets an
HttpOnly cookie holding only the session id, signed with itsdangerous. Every process over the
same data folder shares the store (SQLite with WAL and a busy timeout), so:

- reload, new tab and bookmark: the script reads the cookie (`st.context.cookies`), checks the
  signature, looks the session up and continues it;
- idle timeout: `last_seen` in the store is shared by all tabs of the login; after
  `IDLE_TIMEOUT` without a script run the session is gone;
- logout and account removal delete the rows, so a copied cookie is worthless at once, in
  every process.

A Streamlit script cannot set an HttpOnly cookie (it only talks over the WebSocket). After a
successful password check the script creates the session and sends the browser to
`/sitzung/start?t=<ticket>&next=<page>` (the same redirect message `st.login` uses); that small
route on Streamlit's own server (`dashboard/server.py`, Streamlit's `st.App` with an extra
Starlette route) redeems the single-use ticket (valid 60 s, bound to the browser's client
address), sets the cookie and redirects to the requested page. `/sitzung/ende` clears it.

The signing secret is created on first start next to the store (`<store>.secret`, mode 0600,
outside git) and shared by all processes that share the accounts file.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import os
import secrets
import sqlite3
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from itsdangerous import BadSignature, URLSafeTimedSerializer

from dashboard.accounts import users_path

COOKIE = "wk_sitzung"
# A login ends after this long without any script run (click, reload) in any of its tabs.
IDLE_TIMEOUT = dt.timedelta(minutes=30)
# A login lasts at most this long even when used all the time (the cookie's max-age too).
MAX_LIFETIME = dt.timedelta(hours=12)
TICKET_LIFETIME = dt.timedelta(seconds=60)
# `last_seen` is written at most this often per session (a write per click is not needed).
TOUCH_EVERY = dt.timedelta(seconds=30)
# Set by dashboard/server.py when it adds the cookie routes to this process's server; under a
# plain `streamlit run dashboard/app.py` (or AppTest) logins stay in the tab as before.
ROUTES_SERVED = False
START_PATH = "/sitzung/start"
END_PATH = "/sitzung/ende"

_SCHEMA = """
create table if not exists sitzung (
    sid text primary key,
    benutzer text not null,
    methode text not null,
    erstellt real not null,
    zuletzt real not null,
    ticket_eingeloest integer not null default 0,
    client text not null default ''
);
create index if not exists sitzung_benutzer on sitzung (benutzer);
"""


@dataclass(frozen=True)
class Session:
    sid: str
    user: str
    method: str
    created: dt.datetime
    last_seen: dt.datetime


def store_for(users_file: Path) -> Path:
    """The session store of an accounts file: `<users>.sessions.sqlite` next to it (like the
    lock-out state), unless `$WK_SESSIONS` names another file."""
    env = os.environ.get("WK_SESSIONS")
    return Path(env) if env else users_file.with_name(users_file.name + ".sessions.sqlite")


def store_path() -> Path:
    """The session store of the configured accounts file."""
    return store_for(users_path())


def _secret(store: Path) -> str:
    """The signing secret, created once (atomically, so two starting processes agree)."""
    path = store.with_name(store.name + ".secret")
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        for _ in range(50):  # the creator may still be writing
            text = path.read_text(encoding="ascii").strip()
            if text:
                return text
            time.sleep(0.01)
        raise RuntimeError(f"Das Sitzungsgeheimnis {path} ist leer. Bitte die Datei löschen; "
                           "sie wird beim nächsten Start neu angelegt.") from None
    value = secrets.token_hex(32)
    with os.fdopen(fd, "w", encoding="ascii") as f:
        f.write(value)
        f.flush()
        os.fsync(f.fileno())
    return value


def _serializer(salt: str, store: Path) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(_secret(store), salt=salt)


@contextlib.contextmanager
def _db(store: Path | None = None) -> Iterator[sqlite3.Connection]:
    store = store or store_path()
    store.parent.mkdir(parents=True, exist_ok=True)
    con = sqlite3.connect(store, timeout=10, isolation_level=None)
    try:
        con.execute("pragma journal_mode=wal")
        con.execute("pragma busy_timeout=10000")
        con.executescript(_SCHEMA)
        yield con
    finally:
        con.close()
    with contextlib.suppress(OSError):
        os.chmod(store, 0o600)


def _ts(moment: dt.datetime) -> float:
    return moment.timestamp()


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def client_key(client: str | None) -> str:
    """What a ticket is bound to: a hash of the browser's client address (loopback counts as
    none, as in `st.context.ip_address`)."""
    if client in ("127.0.0.1", "::1"):
        client = None
    return hashlib.sha256((client or "").encode()).hexdigest()[:32]


def create(user: str, method: str, client: str | None, store: Path | None = None,
           now: dt.datetime | None = None) -> tuple[str, str]:
    """Start a session for `user`; return (session id, single-use ticket for the cookie)."""
    store = store or store_path()
    now = now or _now()
    sid = secrets.token_urlsafe(32)
    with _db(store) as con:
        con.execute("delete from sitzung where zuletzt < ? or erstellt < ?",
                    (_ts(now - IDLE_TIMEOUT), _ts(now - MAX_LIFETIME)))
        con.execute("insert into sitzung (sid, benutzer, methode, erstellt, zuletzt, client) "
                    "values (?, ?, ?, ?, ?, ?)",
                    (sid, user, method, _ts(now), _ts(now), client_key(client)))
    return sid, _serializer("ticket", store).dumps(sid)


def redeem_ticket(ticket: str, client: str | None, store: Path | None = None
                  ) -> str | None:
    """The signed cookie value for a fresh, unused ticket from the same client; None otherwise."""
    store = store or store_path()
    try:
        sid = _serializer("ticket", store).loads(
            ticket, max_age=int(TICKET_LIFETIME.total_seconds()))
    except BadSignature:
        return None
    with _db(store) as con:
        cur = con.execute("update sitzung set ticket_eingeloest = 1 "
                          "where sid = ? and ticket_eingeloest = 0 and client = ?",
                          (sid, client_key(client)))
        if cur.rowcount != 1:
            return None
    return _serializer("cookie", store).dumps(sid)


def _row(con: sqlite3.Connection, sid: str) -> Session | None:
    row = con.execute("select sid, benutzer, methode, erstellt, zuletzt from sitzung "
                      "where sid = ?", (sid,)).fetchone()
    if row is None:
        return None
    return Session(row[0], row[1], row[2], dt.datetime.fromtimestamp(row[3], dt.UTC),
                   dt.datetime.fromtimestamp(row[4], dt.UTC))


def current(sid: str, store: Path | None = None, now: dt.datetime | None = None
            ) -> Session | None:
    """The live session `sid` (touching its `last_seen`), or None when it was revoked, idle
    longer than the timeout or older than `MAX_LIFETIME` (it is then deleted)."""
    now = now or _now()
    with _db(store) as con:
        session = _row(con, sid)
        if session is None:
            return None
        if (now - session.last_seen > IDLE_TIMEOUT
                or now - session.created > MAX_LIFETIME):
            con.execute("delete from sitzung where sid = ?", (sid,))
            return None
        if now - session.last_seen >= TOUCH_EVERY:
            con.execute("update sitzung set zuletzt = ? where sid = ?", (_ts(now), sid))
    return session


def resume(cookie: str | None, store: Path | None = None, now: dt.datetime | None = None
           ) -> Session | None:
    """The session behind a cookie value, if its signature is valid and the session is live."""
    if not cookie:
        return None
    store = store or store_path()
    try:
        sid = _serializer("cookie", store).loads(
            cookie, max_age=int(MAX_LIFETIME.total_seconds()))
    except BadSignature:
        return None
    return current(sid, store, now)


def revoke(sid: str, store: Path | None = None) -> None:
    with _db(store) as con:
        con.execute("delete from sitzung where sid = ?", (sid,))


def revoke_user(user: str, store: Path | None = None) -> int:
    """End every session of `user` (account removed or password reset); the number ended."""
    with _db(store) as con:
        return con.execute("delete from sitzung where benutzer = ?", (user,)).rowcount


def base_path() -> str:
    """The server's URL prefix (`server.baseUrlPath`) as `/monitor`, or `` when served at `/`.

    The cookie routes, the cookie's Path and every redirect of the browser carry it: behind a
    proxy that forwards only `/monitor/…`, a bare `/sitzung/start` would not reach the app."""
    from streamlit import config

    base = (config.get_option("server.baseUrlPath") or "").strip("/")
    return f"/{base}" if base else ""


def url(path: str) -> str:
    """An absolute path on this server for `path` (`/sitzung/start` → `/monitor/sitzung/start`);
    anything that is not a local path becomes the start page."""
    return base_path() + safe_next(path)


def safe_next(target: str | None) -> str:
    """A local path to continue to after sign-in; anything pointing elsewhere becomes `/`."""
    if not target:
        return "/"
    parts = urlsplit(target)
    if (parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//")
            or "\\" in target or any(ord(c) < 32 for c in target)):
        return "/"
    return target
