"""Deadline watch and report delivery in the app store, with their role checks.

- thresholds of the watch (staff set them; defaults in `DEFAULTS`);
- the digest ledger: every watch item reported once, so a second digest run reports nothing
  twice (`record_digest`);
- private calendar links per commune (only the hash of the token is stored);
- scheduled report deliveries and their send log.

Everything here is for the programme team only, except a commune's own calendar link.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

import polars as pl

from dashboard.store import db
from dashboard.store.austausch import _text
from dashboard.store.db import StoreError

if TYPE_CHECKING:
    from dashboard.data import Viewer

AREA = "watch"
# key -> (default, lowest, highest allowed)
DEFAULTS: dict[str, tuple[float, float, float]] = {
    "ueberfaellig_ab_tage": (1, 1, 365),   # a milestone is listed once this many days overdue
    "dauer_warnung_monate": (5.0, 1.0, 24.0),  # running track at least this long: heading past 6
}
STICHTAG_REGELN = ("quartalsende", "monatsende", "jahresende", "datenstand")
AUSGABEN = ("oeffentlich", "intern")
FORMATE = ("xlsx", "csv")
MAX_RECIPIENTS = 20


def _staff(viewer: Viewer, what: str) -> None:
    if not viewer.is_staff:
        raise PermissionError(f"Nur das Programmteam darf {what}.")


# ---- thresholds ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Thresholds:
    ueberfaellig_ab_tage: int
    dauer_warnung_monate: float


def thresholds() -> Thresholds:
    """The watch thresholds in force (stored values, else defaults)."""
    stored = {r["schluessel"]: r["wert"] for r in db.read("watch.settings")}
    values = {k: float(stored.get(k, d)) for k, (d, _lo, _hi) in DEFAULTS.items()}
    return Thresholds(int(values["ueberfaellig_ab_tage"]), values["dauer_warnung_monate"])


def set_thresholds(viewer: Viewer, user: str, **values: float) -> Thresholds:
    """Staff change thresholds (each within its allowed range)."""
    _staff(viewer, "die Schwellen der Fristenwache ändern")
    for key, value in values.items():
        if key not in DEFAULTS:
            raise StoreError(f"Unbekannte Einstellung „{key}“.")
        _d, lo, hi = DEFAULTS[key]
        if not lo <= float(value) <= hi:
            raise StoreError(f"Der Wert für „{key}“ muss zwischen {lo:g} und {hi:g} liegen.")
    with db.write(user, "watch_schwellen", {k: float(v) for k, v in values.items()}) as tx:
        for key, value in values.items():
            tx.run("watch.set_setting", {"schluessel": key, "wert": str(float(value)),
                                         "jetzt": db.now()})
        tx.bump(AREA)
    return thresholds()


# ---- digest ledger -------------------------------------------------------------------------------


class _NothingNew(Exception):
    pass


def reported_keys() -> set[str]:
    """Keys of every watch item already reported in a digest."""
    return {r["schluessel"] for r in db.read("watch.reported_keys")}


def record_digest(user: str, items: pl.DataFrame, datenstand: str, head_of, line_of,
                  deliver=None) -> dict | None:
    """Record a digest of the items not reported before; None if there are none.

    `items` has columns schluessel, kommune_id, art (and what `line_of(row)` needs to write one
    line); `head_of(new_items)` writes the heading (naming no commune). `deliver(text)`
    (optional) sends the whole text and returns the recipients text. It runs inside the write
    transaction: if sending fails, nothing is recorded and the next run tries again. Lines are
    stored one per row with their commune, so erasure removes them."""
    if items.filter(~pl.col("schluessel").is_in(sorted(reported_keys()))).is_empty():
        return None
    digest_id = db.new_id()
    try:
        with db.write(user, "watch_digest", {"digest_id": digest_id}) as tx:
            done = {r["schluessel"] for r in tx.rows("watch.reported_keys")}
            new = items.filter(~pl.col("schluessel").is_in(sorted(done)))
            if new.is_empty():
                raise _NothingNew  # another run reported them meanwhile
            head = head_of(new)
            lines = [line_of(row) for row in new.iter_rows(named=True)]
            text = "\n".join([head, ""] + [f"- {line}" for line in lines])
            versand = deliver(text) if deliver else ""
            tx.run("watch.insert_digest", {"id": digest_id, "jetzt": db.now(),
                                           "datenstand": datenstand, "anzahl": new.height,
                                           "kopf": head, "versand": versand})
            for n, (row, line) in enumerate(zip(new.iter_rows(named=True), lines, strict=True)):
                tx.run("watch.mark_reported", {"schluessel": row["schluessel"],
                                               "kommune_id": row["kommune_id"],
                                               "art": row["art"], "digest_id": digest_id,
                                               "jetzt": db.now()})
                tx.run("watch.insert_digest_line", {"digest_id": digest_id, "position": n,
                                                    "kommune_id": row["kommune_id"],
                                                    "zeile": line})
            tx.details.update(anzahl=new.height, versand=bool(versand))
            tx.bump(AREA)
    except _NothingNew:
        return None
    return {"id": digest_id, "anzahl": new.height, "text": text, "versand": versand}


def digests(viewer: Viewer, limit: int = 20) -> pl.DataFrame:
    """The latest digests (staff), with their text (heading and the lines still stored)."""
    _staff(viewer, "die Fristen-Zusammenfassungen sehen")
    lines: dict[str, list[str]] = {}
    for r in db.read("watch.digest_lines", {"limit": limit}):
        lines.setdefault(r["digest_id"], []).append(f"- {r['zeile']}")
    rows = [{**r, "text": "\n".join([r["kopf"], "", *lines.get(r["id"], [])])}
            for r in db.read("watch.digests", {"limit": limit})]
    return pl.DataFrame(rows, schema={"id": pl.String, "erstellt_am": pl.String,
                                      "datenstand": pl.String, "anzahl": pl.Int64,
                                      "kopf": pl.String, "versand": pl.String,
                                      "text": pl.String}, orient="row")


# ---- private calendar links ----------------------------------------------------------------------

TOKEN_BYTES = 32  # 256 random bits: `secrets.token_urlsafe` gives 43 characters
_TOKEN = re.compile(r"[A-Za-z0-9_-]{43}")


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("ascii")).hexdigest()


def _own_link(viewer: Viewer, kommune_id: str) -> None:
    if viewer.role == "public" or (viewer.role == "kommune" and viewer.kommune_id != kommune_id):
        raise PermissionError("Den Kalender-Link einer Kommune verwalten nur sie selbst und das "
                              "Programmteam.")


def calendar_link(viewer: Viewer, kommune_id: str) -> str | None:
    """When the commune's private calendar link was made (ISO time), None without one. The
    link itself cannot be shown again: only its hash is stored."""
    _own_link(viewer, kommune_id)
    rows = db.read("watch.calendar_link_of", {"kommune_id": kommune_id})
    return rows[0]["erstellt_am"] if rows else None


def new_calendar_token(viewer: Viewer, user: str, kommune_id: str) -> str:
    """Make (or renew: the old link stops working) the commune's private calendar link; the
    token, to show once. The commune itself or staff; audited without the token."""
    _own_link(viewer, kommune_id)
    token = secrets.token_urlsafe(TOKEN_BYTES)
    with db.write(user, "kalender_link_neu", {"kommune_id": kommune_id}) as tx:
        tx.details["erneuert"] = bool(tx.rows("watch.calendar_link_of",
                                              {"kommune_id": kommune_id}))
        tx.run("watch.set_calendar_link", {"kommune_id": kommune_id,
                                           "token_hash": _token_hash(token), "jetzt": db.now()})
        tx.bump(AREA)
    return token


def revoke_calendar_token(viewer: Viewer, user: str, kommune_id: str) -> None:
    """End the commune's private calendar link (the commune itself or staff; audited)."""
    _own_link(viewer, kommune_id)
    with db.write(user, "kalender_link_widerrufen", {"kommune_id": kommune_id}) as tx:
        tx.run("watch.delete_calendar_link", {"kommune_id": kommune_id})
        tx.bump(AREA)


def kommune_for_token(token: str) -> str | None:
    """The commune whose current link has this token, else None (malformed, unknown, renewed
    or revoked alike). The stored hash is found by its index and compared in constant time."""
    if not _TOKEN.fullmatch(token or ""):
        return None
    digest = _token_hash(token)
    rows = db.read("watch.calendar_link_by_hash", {"token_hash": digest})
    if rows and hmac.compare_digest(rows[0]["token_hash"], digest):
        return rows[0]["kommune_id"]
    return None


# ---- deliveries ----------------------------------------------------------------------------------

DELIVERY_SCHEMA = {"id": pl.String, "name": pl.String, "empfaenger": pl.String,
                   "ausgabe": pl.String, "stichtag_regel": pl.String, "formate": pl.String,
                   "aktiv": pl.Int64, "erstellt_am": pl.String, "letzter_hash": pl.String,
                   "letzter_versand_am": pl.String}


def _recipients(value: str | Iterable[str]) -> list[str]:
    parts = value.replace(",", ";").split(";") if isinstance(value, str) else list(value)
    found = [p.strip() for p in parts if p and p.strip()]
    bad = [p for p in found if "@" not in p or " " in p or "\n" in p or len(p) > 200]
    if bad or not found:
        raise StoreError("Bitte gültige E-Mail-Adressen angeben, getrennt durch Semikolon"
                         + (f" (ungültig: {', '.join(bad[:3])})." if bad else "."))
    if len(found) > MAX_RECIPIENTS:
        raise StoreError(f"Höchstens {MAX_RECIPIENTS} Empfängerinnen und Empfänger je Versand.")
    return found


def save_delivery(viewer: Viewer, user: str, name: str, empfaenger: str | Iterable[str],
                  ausgabe: str, stichtag_regel: str, formate: Iterable[str], aktiv: bool = True,
                  delivery_id: str | None = None) -> str:
    """Create or (with `delivery_id`) change a scheduled report delivery (staff); its id. Every
    save is audited (`versand_gespeichert`, with `neu`); changing edition, rule or formats
    changes the build key, so the next run sends again."""
    _staff(viewer, "Berichtsversand einrichten")
    formats = [f for f in FORMATE if f in set(formate)]
    if ausgabe not in AUSGABEN or stichtag_regel not in STICHTAG_REGELN or not formats:
        raise StoreError("Bitte Ausgabe, Stichtag-Regel und mindestens ein Format wählen.")
    new = delivery_id is None
    delivery_id = delivery_id or db.new_id()
    with db.write(user, "versand_gespeichert", {"versand_id": delivery_id, "neu": new,
                                                "ausgabe": ausgabe, "regel": stichtag_regel,
                                                "aktiv": bool(aktiv)}) as tx:
        if not new and not tx.rows("watch.delivery_by_id", {"id": delivery_id}):
            raise StoreError("Diesen Versand gibt es nicht (mehr). Bitte die Seite neu laden.")
        tx.run("watch.upsert_delivery", {
            "id": delivery_id, "name": _text(name, "Name", 120),
            "empfaenger": "; ".join(_recipients(empfaenger)), "ausgabe": ausgabe,
            "stichtag_regel": stichtag_regel, "formate": "; ".join(formats),
            "aktiv": int(aktiv), "jetzt": db.now()})
        tx.bump(AREA)
    return delivery_id


def delete_delivery(viewer: Viewer, user: str, delivery_id: str) -> None:
    _staff(viewer, "Berichtsversand löschen")
    with db.write(user, "versand_geloescht", {"versand_id": delivery_id}) as tx:
        tx.run("watch.delete_delivery", {"id": delivery_id})
        tx.bump(AREA)


def deliveries(viewer: Viewer) -> pl.DataFrame:
    _staff(viewer, "Berichtsversand sehen")
    return pl.DataFrame(db.read("watch.deliveries"), schema=DELIVERY_SCHEMA, orient="row")


def record_send(user: str, delivery_id: str, stichtag: str, digest: str, ziel: str,
                test: bool, send) -> None:
    """Send (via `send()`) and log one delivery in one audited transaction; a test send does not
    change the delivery's last build hash."""
    with db.write(user, "versand_test" if test else "versand", {
            "versand_id": delivery_id, "stichtag": stichtag, "hash": digest[:16],
            "ziel": ziel}) as tx:
        send()
        tx.run("watch.log_delivery", {"id": db.new_id(), "versand_id": delivery_id,
                                      "jetzt": db.now(), "stichtag": stichtag, "hash": digest,
                                      "ziel": ziel, "test": int(test)})
        if not test:
            tx.run("watch.delivery_sent", {"id": delivery_id, "hash": digest, "jetzt": db.now()})
        tx.bump(AREA)


def delivery_log(viewer: Viewer, limit: int = 50) -> pl.DataFrame:
    _staff(viewer, "das Versandprotokoll sehen")
    return pl.DataFrame(db.read("watch.delivery_log", {"limit": limit}),
                        schema={"id": pl.String, "versand_id": pl.String, "name": pl.String,
                                "gesendet_am": pl.String, "stichtag": pl.String,
                                "hash": pl.String, "ziel": pl.String, "test": pl.Int64},
                        orient="row")
