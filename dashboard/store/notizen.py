"""Notes on a commune's timeline in the app store, with their role checks.

A note covers a date or a date range ("Kommunalwahl", "Workshop verschoben") and is visible to
the programme team only (`programmteam`) or to the commune and the team (`kommune`):

- staff read and write every note of every commune;
- a commune reads its own notes marked `kommune` and writes notes for itself (always `kommune`:
  a commune cannot write a note it could not read back);
- the public gets a PermissionError from every function, so no page can show a note to it.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

import polars as pl

from dashboard.store import db
from dashboard.store.austausch import _text
from dashboard.store.db import StoreError

if TYPE_CHECKING:
    from dashboard.data import Viewer

AREA = "notizen"
SICHTBARKEIT = ("programmteam", "kommune")
MAX_NOTE = 300
NOTE_SCHEMA = {"id": pl.String, "kommune_id": pl.String, "von": pl.String, "bis": pl.String,
               "text": pl.String, "sichtbarkeit": pl.String, "autor": pl.String,
               "erstellt_am": pl.String}


def _no_public(viewer: Viewer) -> None:
    if viewer.role == "public":
        raise PermissionError("Notizen zur Zeitleiste sind nur für angemeldete Kommunen und das "
                              "Programmteam sichtbar.")


def _check(viewer: Viewer, kommune_id: str) -> None:
    _no_public(viewer)
    if viewer.role == "kommune" and viewer.kommune_id != kommune_id:
        raise PermissionError("Eine Kommune sieht und schreibt nur Notizen zu ihrer eigenen "
                              "Zeitleiste.")


def _frame(rows: list[dict]) -> pl.DataFrame:
    return (pl.DataFrame(rows, schema=NOTE_SCHEMA, orient="row")
            .with_columns(pl.col("von", "bis").str.to_date("%Y-%m-%d")))


def add_note(viewer: Viewer, user: str, kommune_id: str, von: dt.date, bis: dt.date | None,
             text: str, sichtbarkeit: str = "kommune") -> str:
    """Attach a note to a commune's timeline; its id."""
    _check(viewer, kommune_id)
    if sichtbarkeit not in SICHTBARKEIT:
        raise StoreError("Unbekannte Sichtbarkeit der Notiz.")
    if viewer.role == "kommune":
        sichtbarkeit = "kommune"
    bis = bis or von
    if bis < von:
        raise StoreError("Das Ende des Zeitraums liegt vor dem Anfang. Bitte die Daten tauschen.")
    note_id = db.new_id()
    with db.write(user, "notiz_angelegt", {"notiz_id": note_id, "kommune_id": kommune_id,
                                           "sichtbarkeit": sichtbarkeit}) as tx:
        tx.run("notizen.insert_note", {
            "id": note_id, "kommune_id": kommune_id, "von": von.isoformat(),
            "bis": bis.isoformat(), "text": _text(text, "Notiz", MAX_NOTE),
            "sichtbarkeit": sichtbarkeit, "autor": user, "jetzt": db.now()})
        tx.bump(AREA)
    return note_id


def delete_note(viewer: Viewer, user: str, note_id: str) -> None:
    """Delete a note: staff any, a commune its own commune-visible notes."""
    _no_public(viewer)
    with db.write(user, "notiz_geloescht", {"notiz_id": note_id}, erases=True) as tx:
        owner = tx.rows("notizen.note_owner", {"id": note_id})
        if not owner:
            raise StoreError("Diese Notiz gibt es nicht (mehr).")
        _check(viewer, owner[0]["kommune_id"])
        if not viewer.is_staff and owner[0]["sichtbarkeit"] != "kommune":
            raise PermissionError("Diese Notiz gehört dem Programmteam.")
        tx.details["kommune_id"] = owner[0]["kommune_id"]
        tx.run("notizen.delete_note", {"id": note_id})
        tx.bump(AREA)


def notes(viewer: Viewer, kommune_id: str) -> pl.DataFrame:
    """The notes on one commune's timeline the viewer may see."""
    _check(viewer, kommune_id)
    return _frame(db.read("notizen.notes_of", {"kommune_id": kommune_id,
                                               "mit_intern": int(viewer.is_staff)}))


def notes_in_period(viewer: Viewer, von: dt.date, bis: dt.date) -> pl.DataFrame:
    """Notes overlapping a period (Fortschritt): staff all, a commune its own visible ones."""
    _no_public(viewer)
    frame = _frame(db.read("notizen.notes_in_period", {
        "von": von.isoformat(), "bis": bis.isoformat(), "mit_intern": int(viewer.is_staff)}))
    if viewer.role == "kommune":
        frame = frame.filter(pl.col("kommune_id") == viewer.kommune_id)
    return frame
