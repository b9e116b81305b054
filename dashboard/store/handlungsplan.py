"""Handlungsplan in the app store: the measures a commune derived from its Selbstcheck, with
their role checks.

- A commune reads and writes its own measures; staff read and write every commune's; another
  commune and the public see none (PermissionError: the plan is internal to the commune and the
  programme team).
- A measure: Handlungsfeld, title, responsible unit, partners, start and due date, state
  (geplant, begonnen, umgesetzt, verworfen), optional module/dialogue events it used.
- Every write goes through `db.write` (audited) and bumps the revision of "handlungsplan".
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

import polars as pl

from dashboard.store import db
from dashboard.store.austausch import _field, _text
from dashboard.store.db import StoreError

if TYPE_CHECKING:
    from dashboard.data import Viewer

AREA = "handlungsplan"
ZUSTAENDE = ("geplant", "begonnen", "umgesetzt", "verworfen")
MAX_TITLE = 200
MAX_LIST = 300

MEASURE_SCHEMA = {"id": pl.String, "kommune_id": pl.String, "handlungsfeld": pl.String,
                  "titel": pl.String, "zustaendig": pl.String, "partner": pl.String,
                  "beginn": pl.Date, "faellig": pl.Date, "zustand": pl.String,
                  "veranstaltungen": pl.String, "erstellt_am": pl.String,
                  "geaendert_am": pl.String}


def check_access(viewer: Viewer, kommune_id: str) -> None:
    """The plan of a commune: the commune itself and staff; nobody else."""
    if viewer.role == "public":
        raise PermissionError("Der Handlungsplan ist nur nach Anmeldung sichtbar.")
    if viewer.role == "kommune" and viewer.kommune_id != kommune_id:
        raise PermissionError("Eine Kommune sieht und bearbeitet nur ihren eigenen "
                              "Handlungsplan.")


def _frame(rows: list[dict]) -> pl.DataFrame:
    frame = pl.DataFrame(rows, schema={**MEASURE_SCHEMA, "beginn": pl.String,
                                       "faellig": pl.String}, orient="row")
    return frame.with_columns(pl.col("beginn", "faellig").str.to_date("%Y-%m-%d", strict=False))


def save_measure(viewer: Viewer, user: str, kommune_id: str, handlungsfeld: str, titel: str,
                 zustaendig: str = "", partner: str = "", beginn: dt.date | None = None,
                 faellig: dt.date | None = None, zustand: str = "geplant",
                 veranstaltungen: list[str] | tuple[str, ...] = (),
                 measure_id: str | None = None) -> str:
    """Create (or, with `measure_id`, change) a measure of the commune's plan; its id."""
    check_access(viewer, kommune_id)
    if zustand not in ZUSTAENDE:
        raise StoreError(f"Unbekannter Stand „{zustand}“. Bitte geplant, begonnen, umgesetzt "
                         "oder verworfen wählen.")
    if beginn and faellig and faellig < beginn:
        raise StoreError("Das Fälligkeitsdatum liegt vor dem Beginn. Bitte die Daten prüfen.")
    row = {"kommune_id": kommune_id, "handlungsfeld": _field(handlungsfeld),
           "titel": _text(titel, "Maßnahme", MAX_TITLE),
           "zustaendig": _text(zustaendig, "Zuständig", MAX_LIST, required=False),
           "partner": _text(partner, "Partner", MAX_LIST, required=False),
           "beginn": beginn.isoformat() if beginn else None,
           "faellig": faellig.isoformat() if faellig else None, "zustand": zustand,
           "veranstaltungen": "; ".join(sorted({v.strip() for v in veranstaltungen
                                                if v and v.strip()}))[:MAX_LIST]}
    new = measure_id is None
    measure_id = measure_id or db.new_id()
    details = {"massnahme_id": measure_id, "kommune_id": kommune_id, "neu": new,
               "zustand": zustand}
    with db.write(user, "massnahme_gespeichert", details, erases=not new) as tx:
        if not new:
            owner = tx.rows("handlungsplan.measure_owner", {"id": measure_id})
            if not owner or owner[0]["kommune_id"] != kommune_id:
                raise PermissionError("Diese Maßnahme gehört einer anderen Kommune.")
        tx.run("handlungsplan.upsert_measure", {**row, "id": measure_id, "jetzt": db.now()})
        tx.bump(AREA)
    return measure_id


def delete_measure(viewer: Viewer, user: str, measure_id: str) -> None:
    """The owning commune (or staff) deletes a measure."""
    with db.write(user, "massnahme_geloescht", {"massnahme_id": measure_id},
                  erases=True) as tx:
        owner = tx.rows("handlungsplan.measure_owner", {"id": measure_id})
        if not owner:
            raise StoreError("Diese Maßnahme gibt es nicht (mehr).")
        check_access(viewer, owner[0]["kommune_id"])
        tx.details["kommune_id"] = owner[0]["kommune_id"]
        tx.run("handlungsplan.delete_measure", {"id": measure_id})
        tx.bump(AREA)


def measures(viewer: Viewer, kommune_id: str) -> pl.DataFrame:
    """The plan of one commune (commune itself or staff)."""
    check_access(viewer, kommune_id)
    return _frame(db.read("handlungsplan.measures_of", {"kommune_id": kommune_id}))


def all_measures(viewer: Viewer) -> pl.DataFrame:
    """Every commune's measures: staff only (for the cohort view and the watch)."""
    if not viewer.is_staff:
        raise PermissionError("Nur das Programmteam sieht die Handlungspläne aller Kommunen.")
    return _frame(db.read("handlungsplan.all_measures"))


def past_due(measures: pl.DataFrame, names: dict[str, str], datenstand: dt.date,
             min_days: int = 1) -> pl.DataFrame:
    """Open measures (geplant, begonnen) whose due date lies at least `min_days` days before the
    data date (the staff view and the deadline watch), with the commune's name and the days."""
    return (measures.filter(pl.col("zustand").is_in(["geplant", "begonnen"])
                            & (pl.col("faellig") < datenstand))
            .with_columns(name=pl.col("kommune_id").replace_strict(names, default=None),
                          tage=(pl.lit(datenstand) - pl.col("faellig")).dt.total_days())
            .filter(pl.col("tage") >= min_days)
            .sort(["name", "faellig", "titel"])  # alphabetical: a list, not a ranking
            .select("id", "name", "kommune_id", "handlungsfeld", "titel", "faellig", "zustand",
                    "tage"))


def revision() -> int:
    """Change counter of the Handlungsplan."""
    return db.revision(AREA)


def cohort_context(viewer: Viewer, limit: int = 3) -> pl.DataFrame:
    """Per Handlungsfeld: how many communes have measures and how many measures are implemented,
    over the whole cohort, for any signed-in viewer. A count resting on fewer than `limit`
    communes is null (shown "x"), so no commune's own plan can be read out of it."""
    if viewer.role == "public":
        raise PermissionError("Der Handlungsplan ist nur nach Anmeldung sichtbar.")
    frame = pl.DataFrame(db.read("handlungsplan.cohort_field_counts"),
                         schema={"handlungsfeld": pl.String, "kommunen": pl.Int64,
                                 "umgesetzt": pl.Int64}, orient="row")
    small = pl.col("kommunen") < limit
    return frame.with_columns(pl.when(small).then(None).otherwise(pl.col(c)).alias(c)
                              for c in ("umgesetzt", "kommunen"))


def share_as_practice(viewer: Viewer, user: str, measure_id: str, oeffentlich: bool = False
                      ) -> str:
    """The commune (or staff) shares one measure as a practice card for all model communes (and,
    with `oeffentlich`, asks the programme team to release it to the public); the card's id.
    The card is an ordinary practice card: the commune can edit or delete it on Vernetzung."""
    from dashboard.store import austausch

    rows = db.read("handlungsplan.measure_by_id", {"id": measure_id})
    if not rows:
        raise StoreError("Diese Maßnahme gibt es nicht (mehr).")
    m = rows[0]
    check_access(viewer, m["kommune_id"])
    done = {"umgesetzt": "Umgesetzt.", "begonnen": "Begonnen, läuft noch."}.get(m["zustand"], "")
    return austausch.save_practice(
        viewer, user, m["kommune_id"], m["handlungsfeld"], m["titel"][:austausch.MAX_TITLE],
        was=f"Maßnahme aus dem Handlungsplan; zuständig: {m['zustaendig'] or '–'}",
        mit_wem=m["partner"], ergebnis=done, oeffentlich=oeffentlich)
