"""Deadline watch, staff digest, calendar feeds and scheduled report delivery (issue #15).

The rules (stated to users by `rule_text`):

- a milestone is *overdue* when its planned date lies at least `ueberfaellig_ab_tage` days
  before the data date and it has not been reached (communes that left the programme excluded);
- a track is *heading past 6 months* when the commune is aufgenommen/aktiv, its Erstgespräch was
  reached, its Abschluss not, and it has run at least `dauer_warnung_monate` months (30.44 days)
  up to the data date;
- a Handlungsplan measure is *overdue* when it is geplant or begonnen and its due date lies at
  least `ueberfaellig_ab_tage` days before the data date.

Thresholds are set by staff and kept in the app store (`dashboard.store.watch`). The digest
reports each item once (`watch_gemeldet`), so running it twice sends nothing twice. Everything
runs without Streamlit: `python -m dashboard.watch` (see `__main__.py`) for cron or systemd.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import polars as pl
from icalendar import Calendar, Event

from dashboard import data, fmt, notify
from dashboard.i18n import translate, value
from dashboard.store import handlungsplan
from dashboard.store import watch as store

_log = logging.getLogger(__name__)
DOMAIN = "weltoffene-kommune.monitor"
FEED_PATH = "/kalender/{token}.ics"  # the private link's route (dashboard/server.py)


# ---- watch list and digest -----------------------------------------------------------------------


def items(viewer: data.Viewer) -> pl.DataFrame:
    """The watch list at the data date with the thresholds in force (staff): overdue milestones,
    tracks heading past 6 months, and open Handlungsplan measures overdue by as many days as a
    milestone must be. A measure's key holds its due date: postponed and overdue again, it is
    reported again."""
    t = store.thresholds()
    found = data.watch_items(viewer, t.ueberfaellig_ab_tage, t.dauer_warnung_monate)
    info = data.build_info()
    late = handlungsplan.past_due(handlungsplan.all_measures(viewer), data.kommune_names(),
                                  info.datenstand, t.ueberfaellig_ab_tage)
    measures = late.select(
        schluessel=pl.concat_str([pl.lit("massnahme"), "kommune_id", "id",
                                  pl.col("faellig").cast(pl.String)], separator="|"),
        art=pl.lit("massnahme"), kommune_id="kommune_id", name="name",
        meilenstein=pl.lit(None, pl.String), datum="faellig", tage="tage",
        dauer_monate=pl.lit(None, pl.Float64), massnahme="titel")
    found = found.with_columns(massnahme=pl.lit(None, pl.String))
    return (pl.concat([found, measures.cast(found.schema)], how="vertical")
            .sort(["art", "name", "kommune_id", "datum", "meilenstein", "massnahme"],
                  descending=[True, False, False, False, False, False], nulls_last=True))


def rule_text(lang: str = "de") -> str:
    """The rule of the watch in words, with the thresholds in force."""
    t = store.thresholds()
    return " ".join([translate(lang, "fristen.rule", tage=t.ueberfaellig_ab_tage,
                               monate=fmt.number(t.dauer_warnung_monate, 1, lang)),
                     translate(lang, "pdfua.rule_measures", tage=t.ueberfaellig_ab_tage)])


def art_label(art: str, lang: str = "de") -> str:
    """The kind of a watch item in words."""
    return value(lang, "frist_art", art)


def item_line(row: Mapping[str, Any], lang: str = "de") -> str:
    """One watch item as a sentence (plain text: mail, digest; Markdown-escaped by callers)."""
    if row["art"] == "massnahme":
        return translate(lang, "pdfua.line_measure", name=row["name"], ags=row["kommune_id"],
                         titel=row["massnahme"], datum=fmt.date(row["datum"], lang),
                         tage=row["tage"])
    if row["art"] == "ueberfaellig":
        return translate(lang, "fristen.line_overdue", name=row["name"], ags=row["kommune_id"],
                         meilenstein=row["meilenstein"], datum=fmt.date(row["datum"], lang),
                         tage=row["tage"])
    return translate(lang, "fristen.line_duration", name=row["name"], ags=row["kommune_id"],
                     start=fmt.date(row["datum"], lang),
                     monate=fmt.number(row["dauer_monate"], 1, lang))


def digest_head(new: pl.DataFrame, datenstand: dt.date) -> str:
    """The digest's heading and rule (names no commune)."""
    return "\n".join([translate("de", "fristen.digest_head", n=new.height,
                                datenstand=fmt.date(datenstand)), rule_text()])


def run_digest(user: str = "watch", config: Mapping[str, Any] | None = None) -> dict | None:
    """Report watch items not reported before (in the app; by mail to `digest_an` when SMTP is
    configured); None when nothing is new. Idempotent: a second run returns None."""
    info = data.build_info()
    config = config if config is not None else notify.smtp_config()
    recipients = [a.strip() for a in str((config or {}).get("digest_an", "")).split(";")
                  if a.strip()]

    def deliver(text: str) -> str:
        if not (config and recipients):
            return ""
        subject = translate("de", "fristen.digest_subject", datenstand=fmt.date(info.datenstand))
        notify.send(config, ", ".join(recipients), subject, text)
        return "; ".join(recipients)

    return store.record_digest(user, items(data.STAFF), info.datenstand.isoformat(),
                               lambda new: digest_head(new, info.datenstand), item_line, deliver)


# ---- calendar feed -------------------------------------------------------------------------------


def calendar_ics(viewer: data.Viewer, kommune_id: str) -> bytes:
    """The commune's own calendar (.ics): planned milestones not yet reached, its module and
    dialogue events, due dates of its open measures. The commune itself or staff."""
    profile = data.own_profile(
        viewer, kommune_id,
        "Diesen Kalender sehen nur die Kommune selbst und das Programmteam.")
    info = data.build_info()
    name = profile.facts["name"]
    cal = Calendar()
    cal.add("prodid", "-//Weltoffene Kommune//Programm-Monitor//DE")
    cal.add("version", "2.0")
    cal.add("x-wr-calname", translate("de", "fristen.ics_name", name=name))
    stamp = info.erstellt_am.replace(tzinfo=dt.UTC) if info.erstellt_am.tzinfo is None \
        else info.erstellt_am

    def add(uid: str, day: dt.date, summary: str, description: str = "") -> None:
        event = Event()
        event.add("uid", f"{kommune_id}-{uid}@{DOMAIN}")
        event.add("dtstamp", stamp)
        event.add("dtstart", day)
        event.add("dtend", day + dt.timedelta(days=1))
        event.add("summary", summary)
        if description:
            event.add("description", description)
        cal.add_component(event)

    for m in profile.milestones.filter(pl.col("erreicht_am").is_null()
                                       & pl.col("geplant_am").is_not_null()).iter_rows(named=True):
        add(f"meilenstein-{m['reihenfolge']}", m["geplant_am"],
            translate("de", "fristen.ics_milestone", meilenstein=m["meilenstein"]),
            translate("de", "fristen.ics_state", zustand=m["zustand"]))
    for e in profile.uptake.unique("veranstaltung_id", maintain_order=True).iter_rows(named=True):
        add(f"veranstaltung-{e['veranstaltung_id']}", e["datum"],
            f"{e['format']}: {e['thema']}", f"Modul {e['modul']}")
    plan = handlungsplan.measures(viewer, kommune_id).filter(
        pl.col("faellig").is_not_null() & pl.col("zustand").is_in(["geplant", "begonnen"]))
    for m in plan.iter_rows(named=True):
        add(f"massnahme-{m['id']}", m["faellig"],
            translate("de", "fristen.ics_measure", titel=m["titel"]), m["handlungsfeld"])
    return cal.to_ical()


def feed_for_token(token: str) -> bytes | None:
    """The calendar behind a private link (`/kalender/<token>.ics`, dashboard/server.py): the
    commune's own .ics, or None for a malformed, unknown, renewed or revoked token, or a commune
    no longer in the data, so the server answers all of them with the same 404."""
    kommune_id = store.kommune_for_token(token)
    if kommune_id is None or kommune_id not in data.kommune_names():
        return None
    return calendar_ics(data.Viewer("kommune", kommune_id), kommune_id)


# ---- scheduled report delivery -------------------------------------------------------------------


def stichtag_for(rule: str, reference: dt.date) -> dt.date:
    """The Stichtag a rule gives for a reference day (the data date, or today if earlier)."""
    if rule == "datenstand":
        return reference
    if rule == "monatsende":
        return reference.replace(day=1) - dt.timedelta(days=1)
    if rule == "jahresende":
        return dt.date(reference.year - 1, 12, 31)
    if rule == "quartalsende":
        first = dt.date(reference.year, 3 * ((reference.month - 1) // 3) + 1, 1)
        return first - dt.timedelta(days=1)
    raise ValueError(f"unbekannte Stichtag-Regel {rule!r}")


def report_files(public: bool, stichtag: dt.date, formats: list[str]) -> dict[str, bytes]:
    """The adapter to the report export API (the one place to re-point when the exports move
    to dashboard/report/): file name -> bytes of the NAP-I report."""
    from dashboard.report import csv as report_csv
    from dashboard.report import definitions
    from dashboard.report import xlsx as report_xlsx

    report = data.load_report(data.STAFF, definitions.PROGRAMMSTART, stichtag, stichtag,
                              public=public)
    files = {}
    if "xlsx" in formats:
        files[report.file_name("kennzahlen", "xlsx")] = report_xlsx.xlsx_bytes(report)
    if "csv" in formats:
        files[report.file_name("kennzahlen_csv", "zip")] = report_csv.csv_zip(report)
    return files


def _reference_day(today: dt.date) -> dt.date:
    return min(today, data.build_info().datenstand)


def build_key(row: Mapping[str, Any], stichtag: dt.date) -> str:
    """What makes a delivery's files: the data build, edition, Stichtag, formats. Equal key =
    unchanged build, so nothing is sent again."""
    parts = (data.build_info().build_id, row["ausgabe"], stichtag.isoformat(), row["formate"])
    return hashlib.sha256("|".join(parts).encode()).hexdigest()


def send_delivery(row: Mapping[str, Any], user: str, config: Mapping[str, Any] | None,
                  outbox: Path | None, today: dt.date, test: bool = False) -> str:
    """Build and send one delivery (SMTP if configured, else into `outbox`); where it went."""
    stichtag = stichtag_for(row["stichtag_regel"], _reference_day(today))
    key = build_key(row, stichtag)
    files = report_files(row["ausgabe"] == "oeffentlich", stichtag,
                         [f.strip() for f in row["formate"].split(";")])
    subject = translate("de", "fristen.delivery_subject", name=row["name"],
                        stichtag=fmt.date(stichtag)) + (" (Test)" if test else "")
    body = translate("de", "fristen.delivery_body", stichtag=fmt.date(stichtag),
                     ausgabe=translate("de", f"fristen.ausgabe_{row['ausgabe']}"),
                     dateien=", ".join(files))
    if config:
        ziel = "smtp"

        def send() -> None:
            notify.send(config, row["empfaenger"].replace(";", ","), subject, body,
                        attachments=files)
    else:
        if outbox is None:
            raise store.StoreError("Weder SMTP noch ein Ausgangsordner ist eingerichtet. Bitte "
                                   "[smtp] in .streamlit/secrets.toml oder --outbox angeben.")
        folder = outbox / f"{dt.datetime.now(dt.UTC):%Y%m%dT%H%M%S}_{row['id'][:8]}" \
            f"{'_test' if test else ''}"
        ziel = str(folder)

        def send() -> None:
            folder.mkdir(parents=True, exist_ok=True)
            for name, content in files.items():
                (folder / name).write_bytes(content)
            (folder / "nachricht.txt").write_text(
                f"An: {row['empfaenger']}\nBetreff: {subject}\n\n{body}\n", encoding="utf-8")
    store.record_send(user, row["id"], stichtag.isoformat(), key, ziel, test, send)
    return ziel


def deliver_due(user: str = "watch", config: Mapping[str, Any] | None = None,
                outbox: Path | None = None, today: dt.date | None = None) -> list[str]:
    """Send every active delivery whose build changed since its last send; where each went."""
    today = today or dt.date.today()
    sent = []
    for row in store.deliveries(data.STAFF).filter(pl.col("aktiv") == 1).iter_rows(named=True):
        stichtag = stichtag_for(row["stichtag_regel"], _reference_day(today))
        if build_key(row, stichtag) == row["letzter_hash"]:
            continue
        sent.append(send_delivery(row, user, config, outbox, today))
    return sent
