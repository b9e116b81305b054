"""Sample entries for the demo data (labelled "Beispieldaten" like the rest): offers and needs,
practice cards, a few contact requests and exchanges, so the first `make run` shows the exchange.

Deterministic (seeded by commune key) and written once: `seed` does nothing if the store already
holds exchange data. Needs come from each sample commune's own Selbstcheck priorities (as if it
had confirmed the prefilled draft); everything else is invented.
"""

from __future__ import annotations

import datetime as dt
import random

import polars as pl

from dashboard.store import db
from etl.schema import HANDLUNGSFELDER

OFFERS = {
    "Management und Steuerung": "Integrationskonzept mit Ratsbeschluss und jährlichem Monitoring",
    "Interkulturelle Öffnung und Antirassismus": "Fortbildungsreihe Diversität für die Verwaltung",
    "Fairer Zugang und Teilhabechancen": "Mehrsprachige Lotsen im Bürgerbüro",
    "Arbeit und wirtschaftliche Entwicklung": "Runder Tisch Fachkräfte mit Jobcenter und IHK",
    "Engagement und Beteiligung": "Beteiligungsformat für Migrantenorganisationen im Ausschuss",
    "Zusammenhalt und Begegnung": "Stadtteilfeste mit Nachbarschaftsbudget",
    "Kommunikation und Konfliktmanagement": "Leitfaden für Bürgerversammlungen bei Konflikten",
}
NEEDS = {
    "Management und Steuerung": "Wie verankern andere das Thema dauerhaft in der Spitze?",
    "Interkulturelle Öffnung und Antirassismus": "Erfahrungen mit Antirassismus-Schulungen gesucht",
    "Fairer Zugang und Teilhabechancen": "Zugang zu Beratung für Neuzugewanderte verbessern",
    "Arbeit und wirtschaftliche Entwicklung": "Betriebe für die Ausbildung Geflüchteter gewinnen",
    "Engagement und Beteiligung": "Junge Menschen mit Migrationsgeschichte für Ehrenamt gewinnen",
    "Zusammenhalt und Begegnung": "Begegnungsorte im ländlichen Raum beleben",
    "Kommunikation und Konfliktmanagement": "Umgang mit Konflikten um Unterkünfte",
}
TAGS = ("Workshop", "Hospitation", "Videocall", "Jugend", "Ehrenamt", "Verwaltung", "Politik")
PRACTICES = {
    "Management und Steuerung": ("Integrationsbeirat neu aufgestellt",
                                 "Beirat mit festen Sitzen für Vereine und Rederecht im Rat"),
    "Interkulturelle Öffnung und Antirassismus": ("Diversitäts-Check für Stellenausschreibungen",
                                                  "Alle Ausschreibungen werden vorab geprüft"),
    "Fairer Zugang und Teilhabechancen": ("Bürgerbüro in leichter Sprache",
                                          "Formulare und Wegweiser in leichter Sprache"),
    "Arbeit und wirtschaftliche Entwicklung": ("Ausbildungsbörse mit Sprachpaten",
                                               "Betriebe und Sprachpaten an einem Tisch"),
    "Engagement und Beteiligung": ("Quartiersrat mit Losverfahren",
                                   "Zufällig geloste Bewohnerinnen beraten den Ortsbeirat"),
    "Zusammenhalt und Begegnung": ("Lange Tafel im Ortskern",
                                   "Einmal im Jahr essen alle an einer langen Tafel"),
    "Kommunikation und Konfliktmanagement": ("Moderierte Bürgerversammlung",
                                             "Externe Moderation und klare Redeordnung"),
}
DEMO_USER = "demo"


def _rng(key: str) -> random.Random:
    return random.Random(int(key) if key.isdigit() else sum(map(ord, key)))


def plan(communes: pl.DataFrame, today: dt.date) -> dict[str, list[dict]]:
    """The rows to write for communes shaped like `mart_peer_merkmale` (pure, deterministic)."""
    stamp = dt.datetime.combine(today, dt.time(9), dt.UTC).isoformat(timespec="seconds")
    entries, practices, requests, logs = [], [], [], []
    active = communes.filter(pl.col("status") != "ausgeschieden").sort("kommune_id")
    for row in active.iter_rows(named=True):
        k, rng = row["kommune_id"], _rng(row["kommune_id"])
        needs = list(row["prioritaeten"] or [])[:3]
        others = [h for h in HANDLUNGSFELDER if h not in needs]
        offers = rng.sample(others, k=min(len(others), rng.choice((1, 1, 2)))) if needs else []
        for art, fields, texts in (("gesuch", needs, NEEDS), ("angebot", offers, OFFERS)):
            for field in fields:
                entries.append({
                    "id": db.new_id(), "kommune_id": k, "art": art, "handlungsfeld": field,
                    "beschreibung": texts[field], "stichworte": "; ".join(rng.sample(TAGS, 2)),
                    "sichtbarkeit": "programmteam" if rng.random() < 0.15 else "modellkommunen",
                    "jetzt": stamp})
        if offers and rng.random() < 0.5:
            field = offers[0]
            title, what = PRACTICES[field]
            public = rng.random() < 0.5
            practices.append({
                "id": db.new_id(), "kommune_id": k, "handlungsfeld": field, "titel": title,
                "was": what, "mit_wem": "Verwaltung, Vereine, Ehrenamtliche",
                "ergebnis": "Läuft seit einem Jahr; wird fortgesetzt.",
                "oeffentlich_gewuenscht": int(public), "jetzt": stamp,
                "freigabe": "freigegeben" if public and rng.random() < 0.6 else None})
    # requests between consenting communes: the first demo accounts get one of each kind
    consenting = active.filter(pl.col("vernetzung_zustimmung").fill_null(False)
                               & (pl.col("prioritaeten").list.len() > 0))["kommune_id"].to_list()
    pairs = [(consenting[5], consenting[0], "offen"), (consenting[0], consenting[3], "angenommen"),
             (consenting[1], consenting[6], "angenommen"), (consenting[7], consenting[1], "offen"),
             (consenting[8], consenting[2], "abgelehnt"), (consenting[9], consenting[4],
                                                           "angenommen")] \
        if len(consenting) >= 10 else []
    field_of = dict(active.select("kommune_id", pl.col("prioritaeten").list.first()).rows())
    for n, (von, an, state) in enumerate(pairs):
        request_id = db.new_id()
        asked = (dt.datetime.combine(today, dt.time(10), dt.UTC)
                 - dt.timedelta(days=40 - 6 * n)).isoformat(timespec="seconds")
        requests.append({
            "id": request_id, "von_kommune_id": von, "an_kommune_id": an,
            "handlungsfeld": field_of[von], "zustand": state, "jetzt": asked,
            "nachricht": "Wir würden gern von Ihren Erfahrungen lernen. Hätten Sie Zeit für ein "
                         "Gespräch?"})
        if state == "angenommen" and n != 2:
            for side, helped in ((von, "ja"), (an, "teilweise")):
                logs.append({"id": db.new_id(), "anfrage_id": request_id, "kommune_id": side,
                             "datum": (today - dt.timedelta(days=20 - n)).isoformat(),
                             "format": "Video", "geholfen": helped,
                             "notiz": "Gute Impulse für unser Konzept.", "jetzt": stamp})
    return {"entries": entries, "practices": practices, "requests": requests, "logs": logs}


def seed(communes: pl.DataFrame, today: dt.date | None = None, user: str = DEMO_USER) -> bool:
    """Write the sample rows unless the store already has exchange data; True if written.
    One audited transaction (action `demo_austausch`)."""
    if db.revision("austausch"):
        return False
    rows = plan(communes, today or dt.date.today())
    with db.write(user, "demo_austausch") as tx:
        if tx.rows("store.revision", {"bereich": "austausch"})[0]["nummer"]:
            return False  # another process seeded meanwhile (commits nothing but this event)
        for row in rows["entries"]:
            tx.run("austausch.upsert_entry", row)
        for row in rows["practices"]:
            tx.run("austausch.upsert_practice", row)
            if row["freigabe"]:
                tx.run("austausch.review_practice", {"id": row["id"], "freigabe": "freigegeben",
                                                     "jetzt": row["jetzt"]})
        for row in rows["requests"]:
            tx.run("austausch.insert_request", row)
            if row["zustand"] != "offen":
                tx.run("austausch.set_request_state", row)
        for row in rows["logs"]:
            tx.run("austausch.upsert_exchange", row)
        tx.bump("austausch")
        tx.details.update({k: len(v) for k, v in rows.items()})
    return True
