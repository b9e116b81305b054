"""Append-only audit log: who did what when (logins, imports, rollbacks, exports, deletions).

One JSON object per line in `$WK_AUDIT` (default `data/audit.jsonl`, ignored by git):
`{"zeit": "2026-01-31T09:15:02.123+00:00", "benutzer": "anna", "aktion": "import", "details": {…}}`.

Writers append each line with one `write` on a descriptor opened with `O_APPEND`, under an
exclusive `flock` and followed by `fsync`, so lines of concurrent threads or processes never
interleave and an acknowledged event survives a crash. Nothing here ever rewrites or truncates
the file.

The log must not hold personal data: `benutzer` is the account name, and `details` are scrubbed
before writing. Keys that name secrets or contact data (password, e-mail, phone, contact person)
are replaced by a marker, and e-mail addresses inside any text are masked.
"""

from __future__ import annotations

import collections
import datetime as dt
import fcntl
import json
import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import polars as pl

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_AUDIT = ROOT / "data" / "audit.jsonl"

# The actions the app writes; others are allowed if they are simple identifiers.
ACTIONS = (
    "login_ok",
    "login_failed",
    "lockout",
    "logout",
    "session_timeout",
    "import",
    "import_failed",
    "rollback",
    "rollback_failed",
    "export",
    "delete_personal",
)
_ACTION_PATTERN = re.compile(r"[a-z][a-z0-9_]{0,39}")

REDACTED = "[entfernt]"
# Keys (lower case, any `-`/space as `_`) whose values are never written.
_SECRET_KEYS = re.compile(
    r"(pass(wort|word)?|kennwort|pw|pin|secret|geheim|token|cookie|"
    r"e_?mail|mail|telefon|phone|tel|handy|mobil|ansprechperson|kontakt|contact)"
)
_EMAIL = re.compile(r"[^@\s;,<>\"'()]+@[^@\s;,<>\"'()]+\.[^@\s;,<>\"'()]+")
_MAX_TEXT = 500

EVENT_SCHEMA = {
    "zeit": pl.Datetime("us", "UTC"),
    "benutzer": pl.String,
    "aktion": pl.String,
    "details": pl.String,
}


class AuditUnwritable(OSError):
    """The audit log cannot be written; the message is German and says what to do. Actions that
    must be audited (imports, rollbacks, deletions) stop before they take effect."""

    def __str__(self) -> str:
        return str(self.strerror)


def audit_path() -> Path:
    """The audit log file: `$WK_AUDIT` if set, else data/audit.jsonl."""
    return Path(os.environ.get("WK_AUDIT", DEFAULT_AUDIT))


def _is_secret_key(key: str) -> bool:
    normalised = re.sub(r"[\s\-]+", "_", key.strip().lower())
    return any(_SECRET_KEYS.fullmatch(part) for part in (normalised, *normalised.split("_")))


def scrub(value: Any) -> Any:
    """A JSON-ready copy of `value` without personal data (see module docstring)."""
    if isinstance(value, Mapping):
        return {
            # a flag such as `kontakt_geloescht: true` is no personal data; any other value is
            str(k): REDACTED if _is_secret_key(str(k)) and not isinstance(v, bool | None)
            else scrub(v)
            for k, v in value.items()
        }
    if isinstance(value, list | tuple | set | frozenset):
        return [scrub(v) for v in value]
    if value is None or isinstance(value, bool | int | float):
        return value
    text = str(value)[:_MAX_TEXT]
    return _EMAIL.sub(REDACTED, text)


def log_event(user: str, action: str, details: Mapping[str, Any] | None = None) -> None:
    """Append one event (UTC time, account name, action, scrubbed details) to the audit log."""
    if not _ACTION_PATTERN.fullmatch(action):
        raise ValueError(f"invalid audit action {action!r}")
    record = {
        "zeit": dt.datetime.now(dt.UTC).isoformat(timespec="milliseconds"),
        "benutzer": str(user)[:200],
        "aktion": action,
        "details": scrub(dict(details or {})),
    }
    line = (json.dumps(record, ensure_ascii=False, separators=(",", ":")) + "\n").encode("utf-8")
    path = audit_path()
    try:
        _append(path, line)
    except OSError as exc:
        from etl.build import describe_os_error

        raise AuditUnwritable(
            exc.errno or 0, f"Das Prüfprotokoll „{path}“ kann nicht geschrieben werden: "
            f"{describe_os_error(exc)}") from exc


def _append(path: Path, line: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_APPEND | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        try:
            size = os.fstat(fd).st_size
            if size and os.pread(fd, 1, size - 1) != b"\n":
                line = b"\n" + line  # a line torn by a crash stays alone; this one starts fresh
            view = memoryview(line)
            while view:
                view = view[os.write(fd, view):]
            os.fsync(fd)
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)


def _parse(line: bytes) -> dict[str, Any] | None:
    try:
        record = json.loads(line)
        return {
            "zeit": dt.datetime.fromisoformat(record["zeit"]),
            "benutzer": str(record["benutzer"]),
            "aktion": str(record["aktion"]),
            "details": json.dumps(record.get("details", {}), ensure_ascii=False),
        }
    except (ValueError, KeyError, TypeError):
        return None  # a line torn by a crash or edited by hand is skipped, not fatal


def read_events(limit: int = 500) -> pl.DataFrame:
    """The newest `limit` events, newest first (columns: zeit, benutzer, aktion, details as
    JSON text). The caller checks that the viewer may see the log (staff only)."""
    path = audit_path()
    if not path.exists():
        return pl.DataFrame(schema=EVENT_SCHEMA)
    with path.open("rb") as fh:
        fcntl.flock(fh.fileno(), fcntl.LOCK_SH)
        try:
            # a bounded deque streams the file: memory stays at `limit` lines for any log size
            tail = collections.deque((ln for ln in fh if ln.strip()), maxlen=max(limit, 0))
        finally:
            fcntl.flock(fh.fileno(), fcntl.LOCK_UN)
    rows = [r for r in map(_parse, reversed(tail)) if r is not None]
    return pl.DataFrame(rows, schema=EVENT_SCHEMA)
