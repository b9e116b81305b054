"""Independent computation of the NAP-I report tables from the input CSV files.

Plain polars and Python, no DuckDB and no code from the ETL or the dashboard except the domain
lists of etl.schema: the tests compare this with the SQL macros and with the exported files,
value by value. The rules are the ones written down in dashboard/report/definitions.py (RULES_DE).
"""

from __future__ import annotations

import datetime as dt
import io
import statistics
import tomllib
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import polars as pl

from etl.schema import BUNDESLAENDER, GROESSENKLASSEN, KOMMUNE_TYPEN, MEILENSTEINE, MODULE, STATUS

ORDER = {m: i for i, m in enumerate(MEILENSTEINE, 1)}
SECTORS = ("verwaltung", "politik", "zivilgesellschaft", "wirtschaft", "einwohnerschaft")
STEPS = ("Erstgespräch", "Fragebogen", "Auswertung", "Workshop")
TARGET_MIN = 4
TARGET_MONTHS = 6
MONTH = 30.44


def _read(path: Path) -> pl.DataFrame:
    text = path.read_bytes().decode("utf-8-sig")
    return pl.read_csv(io.StringIO(text), separator=";", infer_schema=False)


def _date(col: str) -> pl.Expr:
    return pl.col(col).str.strip_chars().str.to_date("%d.%m.%Y", strict=True)


def _int(col: str) -> pl.Expr:
    return (pl.col(col).str.strip_chars().str.replace_all(".", "", literal=True)
            .replace("", None).cast(pl.Int64))


def round1(value: float | None) -> float | None:
    """Round half away from zero to one decimal, like SQL's round()."""
    if value is None:
        return None
    return float(Decimal(repr(value)).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP))


@dataclass
class Inputs:
    kommunen: pl.DataFrame
    meilensteine: pl.DataFrame
    modulnutzung: pl.DataFrame
    datenstand: dt.date


def read_inputs(folder: Path) -> Inputs:
    kommunen = _read(folder / "kommunen.csv")
    if "ausgeschieden_am" not in kommunen.columns:
        kommunen = kommunen.with_columns(ausgeschieden_am=pl.lit(""))
    kommunen = kommunen.select(
        pl.col("kommune_id").str.strip_chars(), "typ", "bundesland", _int("einwohner"),
        "status", "name", "ansprechperson", "email", "telefon", "notiz",
        pl.col("ausgeschieden_am").replace("", None).str.to_date("%d.%m.%Y"))
    meilensteine = _read(folder / "meilensteine.csv").select(
        pl.col("kommune_id").str.strip_chars(), "meilenstein", _date("geplant_am"),
        _date("erreicht_am"))
    nutzung = _read(folder / "modulnutzung.csv").select(
        pl.col("kommune_id").str.strip_chars(), pl.col("veranstaltung_id").str.strip_chars(),
        pl.col("modul").cast(pl.Int64), "format",
        pl.col("thema").str.strip_chars().replace("", None).fill_null("ohne Thema"),
        _date("datum"), _int("teilnehmende"), *(_int(s).fill_null(0) for s in SECTORS))
    settings = tomllib.loads((folder / "quelle.toml").read_text(encoding="utf-8"))
    return Inputs(kommunen, meilensteine, nutzung,
                  dt.date.fromisoformat(str(settings["datenstand"])))


def size_class(einwohner: int) -> str:
    return next(label for label, lo, hi in GROESSENKLASSEN
                if einwohner >= lo and (hi is None or einwohner < hi))


def communes_at(inp: Inputs, stichtag: dt.date) -> list[dict]:
    """One dict per commune: status at the Stichtag, start and finish reached by then."""
    by_commune: dict[str, dict[str, tuple]] = {}
    for row in inp.meilensteine.iter_rows(named=True):
        by_commune.setdefault(row["kommune_id"], {})[row["meilenstein"]] = (
            row["geplant_am"], row["erreicht_am"])
    result = []
    for k in inp.kommunen.iter_rows(named=True):
        ms = by_commune.get(k["kommune_id"], {})
        reached = {m: e for m, (_, e) in ms.items() if e is not None}

        def first(*names: str, _reached: dict = reached) -> dt.date | None:
            dates = [_reached[n] for n in names if n in _reached]
            return min(dates) if dates else None

        abschluss = reached.get("Abschluss")
        start = reached.get("Erstgespräch") or first("Fragebogen", "Auswertung", "Workshop")
        aufnahme = reached.get("Aufnahme")
        bewerbung = first("Bewerbung", "Ratsbeschluss")
        austritt = None
        if k["status"] == "ausgeschieden":
            last_index = max((ORDER[m] for m in reached), default=0)
            last = max(reached.values(), default=None)
            open_planned = sorted((ORDER[m], g) for m, (g, e) in ms.items()
                                  if e is None and g is not None and ORDER[m] > last_index)
            estimate = open_planned[0][1] if open_planned else (last or inp.datenstand)
            if last is not None:
                estimate = max(estimate, last)
            austritt = k["ausgeschieden_am"] or min(inp.datenstand, estimate)
        proof = {"abgeschlossen": abschluss, "aktiv": start, "aufgenommen": aufnahme,
                 "beworben": bewerbung, "ausgeschieden": austritt}.get(k["status"])
        if k["status"] == "interessiert" or (proof is not None and proof <= stichtag):
            status = k["status"]
        elif abschluss is not None and abschluss <= stichtag:
            status = "abgeschlossen"
        elif start is not None and start <= stichtag:
            status = "aktiv"
        elif aufnahme is not None and aufnahme <= stichtag:
            status = "aufgenommen"
        elif bewerbung is not None and bewerbung <= stichtag:
            status = "beworben"
        else:
            status = None
        result.append({
            **k, "status_stichtag": status, "groessenklasse": size_class(k["einwohner"]),
            "start": start if start is not None and start <= stichtag else None,
            "abschluss": abschluss if abschluss is not None and abschluss <= stichtag else None,
        })
    return result


def _window(von: dt.date, bis: dt.date, stichtag: dt.date) -> tuple[dt.date, dt.date]:
    return von, min(bis, stichtag)


PARTICIPATING = ("aufgenommen", "aktiv", "abgeschlossen")


def kommunen_status(inp: Inputs, von, bis, stichtag) -> list[dict]:
    ks = communes_at(inp, stichtag)
    rows = [{"status": s or "noch nicht im Programm",
             "kommunen": sum(1 for k in ks if k["status_stichtag"] == s),
             "einwohner": sum(k["einwohner"] for k in ks if k["status_stichtag"] == s)}
            for s in (None, *STATUS)]
    return [*rows, {"status": "Insgesamt", "kommunen": len(ks),
                    "einwohner": sum(k["einwohner"] for k in ks)}]


def kommunen_merkmale(inp: Inputs, von, bis, stichtag) -> list[dict]:
    ks = communes_at(inp, stichtag)
    lo, hi = _window(von, bis, stichtag)
    rows = []
    for merkmal, field, values in (("Art", "typ", KOMMUNE_TYPEN),
                                   ("Größenklasse", "groessenklasse",
                                    [g[0] for g in GROESSENKLASSEN]),
                                   ("Bundesland", "bundesland", BUNDESLAENDER)):
        for value in values:
            group = [k for k in ks if k[field] == value]
            rows.append({
                "merkmal": merkmal, "auspraegung": value,
                "teilnehmend": sum(1 for k in group if k["status_stichtag"] in PARTICIPATING),
                "aktiv": sum(1 for k in group if k["status_stichtag"] == "aktiv"),
                "abgeschlossen": sum(1 for k in group if k["status_stichtag"] == "abgeschlossen"),
                "einwohner_erreicht": sum(k["einwohner"] for k in group
                                          if k["status_stichtag"] in ("aktiv", "abgeschlossen")),
                "gestartet_im_zeitraum": sum(1 for k in group
                                             if k["start"] is not None and lo <= k["start"] <= hi),
            })
    return rows


def selbstcheck_schritte(inp: Inputs, von, bis, stichtag) -> list[dict]:
    lo, hi = _window(von, bis, stichtag)
    reached = inp.meilensteine.filter(pl.col("erreicht_am").is_not_null())
    start = {k["kommune_id"]: k["start"] for k in communes_at(inp, stichtag) if k["start"]}
    starts = list(start.values())
    rows = [{"schritt": "Beginn", "im_zeitraum": sum(1 for d in starts if lo <= d <= hi),
             "bis_stichtag": len(starts), "median_tage_seit_beginn": None}]
    for step in STEPS:
        dates = reached.filter(pl.col("meilenstein") == step).select("kommune_id", "erreicht_am")
        days = [(d - start[k]).days for k, d in dates.iter_rows()
                if d <= stichtag and k in start]
        rows.append({
            "schritt": step,
            "im_zeitraum": sum(1 for _, d in dates.iter_rows() if lo <= d <= hi),
            "bis_stichtag": sum(1 for _, d in dates.iter_rows() if d <= stichtag),
            "median_tage_seit_beginn": float(statistics.median(days)) if days else None,
        })
    return rows


def prozessdauer(inp: Inputs, von, bis, stichtag) -> list[dict]:
    ks = communes_at(inp, stichtag)
    lo, hi = _window(von, bis, stichtag)
    groups = {
        "abgeschlossen bis Stichtag": [(k["abschluss"] - k["start"]).days for k in ks
                                       if k["start"] and k["abschluss"]],
        "abgeschlossen im Zeitraum": [(k["abschluss"] - k["start"]).days for k in ks
                                      if k["start"] and k["abschluss"]
                                      and lo <= k["abschluss"] <= hi],
        "laufend am Stichtag": [(stichtag - k["start"]).days for k in ks
                                if k["status_stichtag"] == "aktiv" and k["start"]
                                and not k["abschluss"]],
    }
    return [{
        "gruppe": name, "kommunen": len(days),
        "unter_ziel": sum(d / MONTH < TARGET_MIN for d in days),
        "im_zielband": sum(TARGET_MIN <= d / MONTH <= TARGET_MONTHS for d in days),
        "ueber_ziel": sum(d / MONTH > TARGET_MONTHS for d in days),
        "median_monate": round1(statistics.median(days) / MONTH) if days else None,
        "anteil_im_ziel_prozent": round1(100 * sum(d / MONTH <= TARGET_MONTHS for d in days)
                                         / len(days)) if days else None,
    } for name, days in groups.items()]


def _participation(inp: Inputs, von, bis, stichtag) -> pl.DataFrame:
    """Uptake rows of the events in the period, with the event's attributes."""
    lo, hi = _window(von, bis, stichtag)
    known = inp.modulnutzung.filter(pl.col("datum") <= hi)
    events = (known.sort("datum", "kommune_id").group_by("veranstaltung_id", maintain_order=True)
              .agg(pl.col("datum").first().alias("e_datum"),
                   pl.col("modul").first().alias("e_modul"),
                   pl.col("format").first().alias("e_format"),
                   pl.col("thema").first().alias("e_thema"),
                   pl.col("kommune_id").n_unique().alias("e_kommunen")))
    rows = known.join(events, on="veranstaltung_id").filter(
        pl.col("e_datum").is_between(lo, hi))
    return rows.with_columns(
        quartal=pl.col("e_datum").dt.year().cast(pl.String) + "-Q"
        + pl.col("e_datum").dt.quarter().cast(pl.String))


def veranstaltungen(inp: Inputs, von, bis, stichtag) -> list[dict]:
    rows = _participation(inp, von, bis, stichtag).with_columns(
        Insgesamt=pl.lit("alle Veranstaltungen"),
        Modul=pl.col("e_modul").cast(pl.String) + " "
        + pl.col("e_modul").replace_strict(MODULE, return_dtype=pl.String),
        Format=pl.col("e_format"), Thema=pl.col("e_thema"))
    out = []
    rows = pl.concat([rows, rows.with_columns(quartal=pl.lit("Zeitraum"))])
    for merkmal in ("Insgesamt", "Modul", "Format", "Thema"):
        agg = rows.group_by("quartal", merkmal).agg(
            veranstaltungen=pl.col("veranstaltung_id").n_unique(), teilnahmen=pl.len(),
            kommunen=pl.col("kommune_id").n_unique(), teilnehmende=pl.col("teilnehmende").sum(),
            **{s: pl.col(s).sum() for s in SECTORS})
        for r in agg.iter_rows(named=True):
            r["ohne_sektor"] = r["teilnehmende"] - sum(r[s] for s in SECTORS)
            out.append({"quartal": r.pop("quartal"), "merkmal": merkmal,
                        "auspraegung": r.pop(merkmal), **r})
    return out


def dialog_vernetzung(inp: Inputs, von, bis, stichtag) -> list[dict]:
    rows = _participation(inp, von, bis, stichtag).filter(pl.col("e_modul").is_in([2, 3]))
    agg = rows.group_by("e_modul", "e_format").agg(
        veranstaltungen=pl.col("veranstaltung_id").n_unique(),
        kommunenuebergreifend=pl.col("veranstaltung_id").filter(pl.col("e_kommunen") >= 2)
        .n_unique(),
        kommunen=pl.col("kommune_id").n_unique(), teilnehmende=pl.col("teilnehmende").sum())
    return [{"modul": r["e_modul"], "modul_bezeichnung": MODULE[r["e_modul"]],
             "format": r["e_format"], **{k: r[k] for k in (
                 "veranstaltungen", "kommunenuebergreifend", "kommunen", "teilnehmende")}}
            for r in agg.iter_rows(named=True)]


def ueberblick(inp: Inputs, von, bis, stichtag) -> list[dict]:
    ks = communes_at(inp, stichtag)
    status = [k["status_stichtag"] for k in ks]
    participating = [k for k in ks if k["status_stichtag"] in PARTICIPATING]
    aktiv, fertig = status.count("aktiv"), status.count("abgeschlossen")
    schritte = {r["schritt"]: r for r in selbstcheck_schritte(inp, von, bis, stichtag)}
    workshop = schritte["Workshop"]["bis_stichtag"]
    beginn = schritte["Beginn"]["im_zeitraum"]
    dauer, laufend = (prozessdauer(inp, von, bis, stichtag)[i] for i in (0, 2))
    part = _participation(inp, von, bis, stichtag)

    def events(modul: int | None) -> tuple[int, int]:
        rows = part if modul is None else part.filter(pl.col("e_modul") == modul)
        return rows["veranstaltung_id"].n_unique(), rows["kommune_id"].n_unique()

    n_events, n_communes = events(None)
    rows = [
        ("kommunen_teilnehmend", len(participating), None, len(participating)),
        ("kommunen_aktiv", aktiv, None, aktiv),
        ("kommunen_abgeschlossen", fertig, None, fertig),
        ("kommunen_ausgeschieden", status.count("ausgeschieden"), None,
         status.count("ausgeschieden")),
        ("einwohner_erreicht", sum(k["einwohner"] for k in ks
                                   if k["status_stichtag"] in ("aktiv", "abgeschlossen")),
         None, aktiv + fertig),
        ("bundeslaender", len({k["bundesland"] for k in participating}), None,
         len(participating)),
        ("tracks_gestartet", beginn, None, beginn),
        ("selbstcheck_workshop", workshop, None, workshop),
        ("tracks_abgeschlossen", dauer["kommunen"], None, dauer["kommunen"]),
        ("median_dauer_monate", None, dauer["median_monate"], dauer["kommunen"]),
        ("anteil_im_ziel_prozent", None, dauer["anteil_im_ziel_prozent"], dauer["kommunen"]),
        ("tracks_laufend_ueber_ziel", laufend["ueber_ziel"], None, laufend["ueber_ziel"]),
        ("veranstaltungen", n_events, None, n_communes),
        ("teilnehmende", int(part["teilnehmende"].sum()), None, n_communes),
        ("vernetzungsformate", *events(2)[:1], None, events(2)[1]),
        ("dialogveranstaltungen", *events(3)[:1], None, events(3)[1]),
    ]
    return [dict(zip(("kennzahl", "anzahl", "wert", "basis_kommunen"), r, strict=True))
            for r in rows]


TABLES = {
    "ueberblick": ueberblick,
    "kommunen_status": kommunen_status,
    "kommunen_merkmale": kommunen_merkmale,
    "selbstcheck_schritte": selbstcheck_schritte,
    "prozessdauer": prozessdauer,
    "veranstaltungen": veranstaltungen,
    "dialog_vernetzung": dialog_vernetzung,
}


def compute(folder: Path, von: dt.date, bis: dt.date, stichtag: dt.date) -> dict[str, list[dict]]:
    """Every report table as a list of row dicts (column names as in the SQL macros)."""
    inp = read_inputs(folder)
    return {key: fn(inp, von, bis, stichtag) for key, fn in TABLES.items()}
