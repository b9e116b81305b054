"""Sample Handlungsplan measures and timeline notes for the demo data ("Beispieldaten"), so the
first `make run` shows the path priority → measure → module use → state, notes on timelines and
a few measures past their due date.

Deterministic (seeded by commune key), dated around each commune's own workshop and the data
date, written once: `seed` does nothing if the store already holds a Handlungsplan.
"""

from __future__ import annotations

import datetime as dt

import polars as pl

from dashboard.store import db
from dashboard.store.demo import DEMO_USER, _rng

MEASURES = {
    "Management und Steuerung": ("Integrationskonzept fortschreiben", "Stabsstelle Integration",
                                 "Integrationsbeirat"),
    "Interkulturelle Öffnung und Antirassismus": ("Fortbildung Diversität für Führungskräfte",
                                                  "Personalamt", "Volkshochschule"),
    "Fairer Zugang und Teilhabechancen": ("Mehrsprachige Wegweiser im Bürgerbüro",
                                          "Bürgerbüro", "Migrantenorganisationen"),
    "Arbeit und wirtschaftliche Entwicklung": ("Runder Tisch Fachkräfte", "Wirtschaftsförderung",
                                               "Jobcenter; IHK"),
    "Engagement und Beteiligung": ("Beteiligungswerkstatt mit Vereinen", "Ehrenamtsbüro",
                                   "Vereine; Kirchengemeinden"),
    "Zusammenhalt und Begegnung": ("Begegnungsfest im Stadtteil", "Kulturamt",
                                   "Nachbarschaftsinitiativen"),
    "Kommunikation und Konfliktmanagement": ("Leitfaden Bürgerversammlungen", "Pressestelle",
                                             "Externe Moderation"),
}
NOTES = (("Kommunalwahl", "kommune", 0), ("Workshop wegen Personalwechsel verschoben",
                                          "programmteam", 20),
         ("Haushaltssperre: Maßnahmen ruhen", "kommune", 45))


def plan(priorities: pl.DataFrame, workshops: dict[str, dt.date],
         events: dict[str, list[str]], datenstand: dt.date) -> dict[str, list[dict]]:
    """Rows to write (pure): `priorities` (kommune_id, handlungsfeld) from the Selbstcheck,
    `workshops` the workshop date per commune, `events` its module event ids."""
    stamp = dt.datetime.combine(datenstand, dt.time(9), dt.UTC).isoformat(timespec="seconds")
    measures, notes = [], []
    for k, group in priorities.group_by("kommune_id", maintain_order=True):
        k = k[0]
        rng = _rng(k)
        base = workshops.get(k) or datenstand - dt.timedelta(days=120)
        fields = group["handlungsfeld"].to_list()
        # leave the last priority of every third commune without a measure
        if len(fields) > 1 and rng.random() < 0.35:
            fields = fields[:-1]
        for n, field in enumerate(fields):
            title, unit, partners = MEASURES[field]
            start = base + dt.timedelta(days=14 + 21 * n)
            due = start + dt.timedelta(days=rng.choice((60, 90, 150, 240)))
            if due < datenstand:
                state = rng.choice(("umgesetzt", "umgesetzt", "begonnen", "geplant"))
            else:
                state = rng.choice(("geplant", "begonnen"))
            used = events.get(k, [])
            measures.append({
                "id": db.new_id(), "kommune_id": k, "handlungsfeld": field, "titel": title,
                "zustaendig": unit, "partner": partners, "beginn": start.isoformat(),
                "faellig": due.isoformat(), "zustand": state,
                "veranstaltungen": "; ".join(rng.sample(used, k=min(len(used), 2))),
                "jetzt": stamp})
        if rng.random() < 0.5:
            text, visibility, offset = NOTES[rng.randrange(len(NOTES))]
            von = base + dt.timedelta(days=offset)
            notes.append({"id": db.new_id(), "kommune_id": k, "von": von.isoformat(),
                          "bis": (von + dt.timedelta(days=rng.choice((0, 14, 30)))).isoformat(),
                          "text": text, "sichtbarkeit": visibility, "autor": DEMO_USER,
                          "jetzt": stamp})
    return {"measures": measures, "notes": notes}


def seed(priorities: pl.DataFrame, workshops: dict[str, dt.date],
         events: dict[str, list[str]], datenstand: dt.date, user: str = DEMO_USER) -> bool:
    """Write the sample rows unless the store already has a Handlungsplan; True if written."""
    if db.revision("handlungsplan"):
        return False
    rows = plan(priorities, workshops, events, datenstand)
    with db.write(user, "demo_handlungsplan") as tx:
        for row in rows["measures"]:
            tx.run("handlungsplan.upsert_measure", row)
        for row in rows["notes"]:
            tx.run("notizen.insert_note", row)
        tx.bump("handlungsplan")
        tx.bump("notizen")
        tx.details.update({k: len(v) for k, v in rows.items()})
    return True
