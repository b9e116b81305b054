"""The app store's generic core: the one connection, migrations, audited transactions, erasure.

Everything users write in the app (offers and needs, contact requests, practice cards, exchange
log; later Handlungsplan measures, timeline notes, report deliveries) lives in one SQLite file,
`$WK_STORE` or `data/store.sqlite`. It is not part of the ETL: a rebuild or a rollback of the
spreadsheet data never opens it.

- Connection: only `_connect` opens the file (WAL, `busy_timeout`, foreign keys,
  `secure_delete`). Every call opens a short-lived connection, so Streamlit's script threads and
  several app processes never share one.
- SQL: none in Python. Named queries live in `queries/<area>.sql` (`-- name: <query>` blocks,
  `:param` placeholders); `run("exchange.offers_of", {...})` executes one. Schema changes are
  numbered files `migrations/NNNN_<what>.sql`, applied once each, in order, recorded in
  `schema_version`.
- Writes: `write(user, action, details)` is a transaction opened with `BEGIN IMMEDIATE` (the
  writer takes SQLite's write lock before reading, so two processes never both read-modify-write
  and the loser waits up to `BUSY_TIMEOUT_MS` instead of failing). It appends one audit event
  (dashboard/audit.py) before it commits: a write that cannot be audited is not made.
- Erasure: `erase_kommune` deletes every row that names a commune in a `*kommune_id` column,
  then VACUUMs and truncates the WAL, so no deleted byte stays in the file, its free pages or the
  `-wal` file (`secure_delete` zeroes freed content on top).

Portability: the SQL files use only what SQLite and PostgreSQL share (text ids made in Python,
ISO-8601 text timestamps, integer flags, `on conflict … do update`, `check` constraints). See the
README section "App-Speicher" for the switch to PostgreSQL.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import os
import re
import sqlite3
import threading
import time
import uuid
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from dashboard import audit

ROOT = Path(__file__).resolve().parent.parent.parent
_LOG = logging.getLogger(__name__)
DEFAULT_STORE = ROOT / "data" / "store.sqlite"
MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
QUERIES_DIR = Path(__file__).resolve().parent / "queries"
# A writer waits this long for another process's write lock before giving up (SQLITE_BUSY).
BUSY_TIMEOUT_MS = 10_000
_MIGRATION_FILE = re.compile(r"(\d{4})_([a-z0-9_]+)\.sql")
_QUERY_NAME = re.compile(r"^--\s*name:\s*([a-z_][a-z0-9_]*)\s*$", re.MULTILINE)
# Columns that name a commune; `erase_kommune` deletes every row holding the id in one of them.
_KOMMUNE_COLUMN = re.compile(r"(.+_)?kommune_id")

_migrated: set[tuple[Path, int]] = set()
_migrate_lock = threading.Lock()


class StoreError(Exception):
    """A store operation the user can fix (German message for the UI)."""


def store_path() -> Path:
    """The store file: `$WK_STORE` if set, else data/store.sqlite."""
    return Path(os.environ.get("WK_STORE", DEFAULT_STORE))


def new_id() -> str:
    """A fresh row id (text, so PostgreSQL needs no sequence)."""
    return uuid.uuid4().hex


def now() -> str:
    """The current UTC time as ISO-8601 text (what every `*_am` timestamp column holds)."""
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")


# ---- SQL files -----------------------------------------------------------------------------------


def split_statements(script: str) -> list[str]:
    """The statements of a SQL script (semicolons inside strings or triggers respected)."""
    statements, current = [], ""
    for line in script.splitlines(keepends=True):
        current += line
        if sqlite3.complete_statement(current):
            if current.strip():
                statements.append(current.strip())
            current = ""
    if current.strip() and not all(ln.strip().startswith("--") or not ln.strip()
                                   for ln in current.splitlines()):
        raise ValueError(f"unvollständige SQL-Anweisung: {current[:80]!r}")
    return statements


@cache
def _queries(area: str) -> dict[str, str]:
    text = (QUERIES_DIR / f"{area}.sql").read_text(encoding="utf-8")
    parts = _QUERY_NAME.split(text)
    return {name: body.strip().rstrip(";") for name, body in zip(parts[1::2], parts[2::2],
                                                                 strict=True)}


def sql(name: str) -> str:
    """The text of a named query `area.query` from `queries/<area>.sql`."""
    area, _, query = name.partition(".")
    try:
        return _queries(area)[query]
    except (KeyError, FileNotFoundError):
        raise KeyError(f"unknown store query {name!r}") from None


def migrations() -> list[tuple[int, str, Path]]:
    """(version, name, file) of every migration, in order; numbers are unique and start at 1.
    Areas own number ranges (exchange 0001…, Handlungsplan/watch 0100…), so gaps are allowed."""
    found = sorted((int(m[1]), m[2], p) for p in MIGRATIONS_DIR.glob("*.sql")
                   if (m := _MIGRATION_FILE.fullmatch(p.name)))
    numbers = [v for v, _, _ in found]
    if len(set(numbers)) != len(numbers) or (numbers and numbers[0] != 1):
        raise RuntimeError(f"Migrationsnummern doppelt oder ohne 0001: {numbers}")
    return found


# ---- connection ----------------------------------------------------------------------------------


def _connect(path: Path) -> sqlite3.Connection:
    """The only place that opens the store (autocommit mode: transactions are explicit)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    con = sqlite3.connect(path, timeout=BUSY_TIMEOUT_MS / 1000, isolation_level=None,
                          check_same_thread=False)
    con.row_factory = sqlite3.Row
    con.execute(f"pragma busy_timeout = {BUSY_TIMEOUT_MS}")
    con.execute("pragma journal_mode = wal")
    con.execute("pragma synchronous = full")  # an acknowledged write survives a power cut
    con.execute("pragma foreign_keys = on")
    con.execute("pragma secure_delete = on")  # freed pages are zeroed, not just unlinked
    return con


def _migrate(con: sqlite3.Connection) -> None:
    """Apply the migrations this file lacks, each in its own write transaction."""
    con.execute("begin immediate")
    try:
        con.execute("create table if not exists schema_version (version integer primary key, "
                    "name text not null, angewendet_am text not null)")
        done = {r[0] for r in con.execute("select version from schema_version")}
        con.execute("commit")
    except BaseException:
        con.execute("rollback")
        raise
    for version, name, file in migrations():
        if version in done:
            continue
        con.execute("begin immediate")
        try:
            # another process may have applied it while we waited for the lock
            if con.execute("select 1 from schema_version where version = ?",
                           [version]).fetchone() is None:
                for statement in split_statements(file.read_text(encoding="utf-8")):
                    con.execute(statement)
                con.execute("insert into schema_version values (?, ?, ?)", [version, name, now()])
            con.execute("commit")
        except BaseException:
            con.execute("rollback")
            raise


@contextlib.contextmanager
def connection() -> Iterator[sqlite3.Connection]:
    """A migrated connection to the store for one unit of work."""
    path = store_path()
    con = _connect(path)
    try:
        key = (path.resolve(), len(migrations()))
        if key not in _migrated:
            with _migrate_lock:
                _migrate(con)
                _migrated.add(key)
        yield con
    finally:
        con.close()


def schema_version() -> int:
    """The newest migration applied to the store."""
    with connection() as con:
        return con.execute("select coalesce(max(version), 0) from schema_version").fetchone()[0]


# ---- reads and writes ----------------------------------------------------------------------------


def read(name: str, params: Mapping[str, Any] | None = None) -> list[dict[str, Any]]:
    """Rows of a named query as dicts (a consistent snapshot: one statement)."""
    with connection() as con:
        return [dict(r) for r in con.execute(sql(name), dict(params or {}))]


def revision(area: str) -> int:
    """The change counter of an area (0 before its first write)."""
    return read("store.revision", {"bereich": area})[0]["nummer"]


@dataclass
class Transaction:
    """The open write transaction handed to a `write` block."""

    con: sqlite3.Connection
    details: dict[str, Any]

    def run(self, name: str, params: Mapping[str, Any] | None = None) -> int:
        """Execute a named statement; the number of rows it changed."""
        return self.con.execute(sql(name), dict(params or {})).rowcount

    def bump(self, area: str) -> None:
        """Mark `area` as changed (readers caching derived data see a new `revision`)."""
        self.run("store.bump_revision", {"bereich": area})

    def rows(self, name: str, params: Mapping[str, Any] | None = None) -> list[dict[str, Any]]:
        """Rows of a named query inside the transaction (read-your-writes, under the lock)."""
        return [dict(r) for r in self.con.execute(sql(name), dict(params or {}))]


@contextlib.contextmanager
def write(user: str, action: str, details: Mapping[str, Any] | None = None,
          erases: bool = False) -> Iterator[Transaction]:
    """One audited write transaction: `BEGIN IMMEDIATE`, the block's statements, one audit event
    (`action`, `details` plus whatever the block adds to `tx.details`), `COMMIT`. Any exception
    rolls everything back and no event is written. With `erases` (the block deletes or
    overwrites what someone wrote), the WAL is cleared after the commit (`clear_wal`), so the old
    text or file leaves no byte behind."""
    with connection() as con:
        con.execute("begin immediate")
        try:
            tx = Transaction(con, dict(details or {}))
            yield tx
            audit.log_event(user, action, tx.details)
            con.execute("commit")
        except BaseException:
            con.execute("rollback")
            raise
    if erases:
        clear_wal()


# ---- erasure -------------------------------------------------------------------------------------


def _kommune_columns(con: sqlite3.Connection) -> list[tuple[str, str]]:
    tables = [r[0] for r in con.execute(
        "select name from sqlite_master where type = 'table' and name not like 'sqlite_%'")]
    return [(t, c["name"]) for t in tables
            for c in con.execute(f'pragma table_info("{t}")')
            if _KOMMUNE_COLUMN.fullmatch(c["name"])]


def erase_kommune(kommune_id: str, user: str) -> dict[str, int]:
    """Delete everything the store holds about a commune, leaving no byte of it in the file.

    Deletes every row with `kommune_id` in a `*kommune_id` column (child rows go by
    `on delete cascade`), then rewrites the file (VACUUM) and truncates the WAL. Returns the rows
    deleted per table; audited as `store_erase` (counts only)."""
    deleted: dict[str, int] = {}
    with write(user, "store_erase", {"kommune_id": kommune_id}) as tx:
        for table, column in _kommune_columns(tx.con):
            count = tx.con.execute(f'delete from "{table}" where "{column}" = ?',
                                   [kommune_id]).rowcount
            if count:
                deleted[table] = deleted.get(table, 0) + count
        tx.details["zeilen"] = dict(deleted)
        tx.run("store.bump_all_revisions")  # cached derived data of every area is stale now
    with connection() as con:
        cleaned = _checkpoint(con, ERASE_WAIT_S)
        if cleaned:
            con.execute("vacuum")
            cleaned = _checkpoint(con, ERASE_WAIT_S)
        if not cleaned:
            raise StoreError("Der App-Speicher ist gerade in Benutzung; die Löschung ist "
                             "erfolgt, aber das Aufräumen der Datei bitte gleich noch einmal "
                             "starten.")
    return deleted


# Longest waits for readers before the WAL is truncated, in seconds: `clear_wal` runs after a
# user's save, the erasure is an operator's command
CLEAR_WAL_WAIT_S = 2.0
ERASE_WAIT_S = 5.0


def clear_wal(wait_s: float = CLEAR_WAL_WAIT_S) -> bool:
    """After deleting or overwriting content (`write(..., erases=True)`): copy the WAL into the
    file, where `secure_delete` has zeroed the freed pages, and truncate it, so no deleted byte
    stays in the `-wal` file while other connections keep the store open (then SQLite does not
    remove it). The deletion itself is done already: if readers keep the WAL busy for more than
    `wait_s`, this is logged and the next checkpoint clears it (False)."""
    try:
        with connection() as con:
            if _checkpoint(con, wait_s):
                return True
        _LOG.warning("WAL des App-Speichers nach einer Löschung nicht geleert: Leser aktiv")
    except sqlite3.OperationalError as exc:
        _LOG.warning("WAL des App-Speichers nach einer Löschung nicht geleert: %s", exc)
    return False


def _checkpoint(con: sqlite3.Connection, wait_s: float) -> bool:
    """Copy the WAL into the file and truncate it to zero bytes, trying again for up to
    `wait_s` while readers keep it busy (each try waits briefly: a short busy timeout); False
    if they still did."""
    deadline = time.monotonic() + wait_s
    con.execute("pragma busy_timeout = 100")
    try:
        while True:
            busy, _log, _done = con.execute("pragma wal_checkpoint(truncate)").fetchone()
            if not busy:
                return True
            if time.monotonic() > deadline:
                return False
            threading.Event().wait(0.05)
    finally:
        con.execute(f"pragma busy_timeout = {BUSY_TIMEOUT_MS}")
