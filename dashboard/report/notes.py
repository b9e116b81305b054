"""Texts every export carries: title, period, data version, edition, definitions (Hinweise)."""

from __future__ import annotations

import datetime as dt

import polars as pl

from dashboard import fmt
from dashboard.report.definitions import (
    FIGURES,
    RULES_DE,
    RULES_EN,
    SMALL_CELL_TEXT,
    TABLES,
    Report,
)

TITLE = "Weltoffene Kommune – Kennzahlen für den NAP-I"
PROGRAMME = "Modellprogramm „Weltoffene Kommune – vom Dialog zum Zusammenhalt“"
SOURCE = "Programm-Monitor Weltoffene Kommune (Bertelsmann Stiftung, PHINEO)"
SOURCE_EN = "Weltoffene Kommune programme monitor (Bertelsmann Stiftung, PHINEO)"
# The English export files (the data version and the programme's own names stay as they are)
TITLE_EN = "Weltoffene Kommune – key figures for the NAP-I"
PROGRAMME_EN = ("Model programme “Weltoffene Kommune – vom Dialog zum Zusammenhalt” "
                "(open-minded communes – from dialogue to cohesion)")
# Words of the notes that are not definitions, per language
WORDS: dict[str, dict[str, str]] = {
    "de": {
        "report": "Bericht", "title": "Titel", "stichtag": "Stichtag",
        "period": "Berichtszeitraum", "datenstand": "Datenstand", "build": "Build",
        "db_built": "Datenbank erstellt am", "report_built": "Bericht erstellt am",
        "edition": "Fassung", "protection": "Schutz kleiner Fallzahlen",
        "sample": "Beispieldaten",
        "sample_text": "ja – synthetische Daten, nicht für die Berichterstattung",
        "rules": "Regeln", "figures": "Kennzahlen (Blatt „{sheet}“)", "content": "Inhalt",
        "sheet": "Blatt „{sheet}“", "notes": "Hinweise", "inputs": "Eingabedateien (SHA-256)",
        "from": "von", "to": "bis", "page": "Seite &P von &N",
        "public": ("öffentliche Fassung: Werte, die auf weniger als 3 Kommunen beruhen oder "
                   "sich aus anderen zurückrechnen ließen, stehen als „{x}“"),
        "internal": "interne Fassung (alle Werte, nur für das Programmteam)",
        "hidden": "„{x}“: verdeckt (Schutz kleiner Fallzahlen)",
    },
    "en": {
        "report": "Report", "title": "Title", "stichtag": "Cut-off date",
        "period": "Reporting period", "datenstand": "Data as of", "build": "Build",
        "db_built": "Database built on", "report_built": "Report made on",
        "edition": "Edition", "protection": "Small-cell protection",
        "sample": "Sample data", "sample_text": "yes – synthetic data, not for reporting",
        "rules": "Rules", "figures": "Key figures (sheet “{sheet}”)", "content": "Content",
        "sheet": "Sheet “{sheet}”", "notes": "Notes", "inputs": "Input files (SHA-256)",
        "from": "from", "to": "to", "page": "Page &P of &N",
        "public": ("public edition: values resting on fewer than 3 communes, or that could be "
                   "recomputed from others, show as “{x}”"),
        "internal": "internal edition (all values, for the programme team only)",
        "hidden": "“{x}”: hidden (small-cell protection)",
    },
}
INPUT_HEADERS = {
    "de": ("Datei-Art", "SHA-256", "Datei", "Zeilen gelesen", "übernommen", "abgelehnt"),
    "en": ("File kind", "SHA-256", "File", "Rows read", "loaded", "rejected"),
}


def words(lang: str) -> dict[str, str]:
    return WORDS["de" if lang == "de" else "en"]


def title(lang: str = "de") -> str:
    return TITLE if lang == "de" else TITLE_EN


def programme(lang: str = "de") -> str:
    return PROGRAMME if lang == "de" else PROGRAMME_EN


def source(lang: str = "de") -> str:
    return SOURCE if lang == "de" else SOURCE_EN


def _d(value: dt.date | None, lang: str = "de") -> str:
    return fmt.date(value, lang)


def stamp(value: dt.datetime, lang: str = "de") -> str:
    """`30.11.2026 10:28` (de) or `30 Nov 2026 10:28` (en): the date from CLDR, 24-hour time."""
    return f"{fmt.date(value.date(), lang)} {value:%H:%M}"


def period_text(report: Report, lang: str = "de") -> str:
    """`05.11.2019 – 31.12.2021`: the period as evaluated (ending at the Stichtag at the latest)."""
    return f"{_d(report.von, lang)} – {_d(report.bis_effektiv, lang)}"


def version_text(report: Report, lang: str = "de") -> str:
    """Stichtag, period and data version in one line (charts, PDF footer)."""
    w = words(lang)
    return (f"{w['stichtag']} {_d(report.stichtag, lang)} · {w['period']} "
            f"{period_text(report, lang)} · {w['datenstand']} {_d(report.build.datenstand, lang)}")


def edition_text(report: Report, lang: str = "de") -> str:
    w = words(lang)
    return w["public"].format(x=SMALL_CELL_TEXT) if report.public else w["internal"]


def hinweise(report: Report, lang: str = "de") -> list[tuple[str, list[tuple[str, str]]]]:
    """The notes of every export as (section, [(term, text)]): data version, rules, definitions."""
    build = report.build
    w = words(lang)
    meta = [
        (w["title"], title(lang)),
        (w["stichtag"], _d(report.stichtag, lang)),
        (w["period"], period_text(report, lang)),
        (w["datenstand"], _d(build.datenstand, lang)),
        (w["build"], build.build_id),
        (w["db_built"], stamp(build.erstellt_am, lang)),
        (w["report_built"], stamp(report.erstellt_am, lang)),
        (w["edition"], edition_text(report, lang)),
    ]
    if report.protection is not None:
        meta.append((w["protection"], report.protection.text(lang)))
    if build.beispieldaten:
        meta.append((w["sample"], w["sample_text"]))
    sections = [(w["report"], meta), (w["rules"], list(RULES_DE if lang == "de" else RULES_EN)),
                (w["figures"].format(sheet=TABLES[0].sheet_name(lang)),
                 [(f.label(lang), f.definition(lang)) for f in FIGURES])]
    for table in TABLES[1:]:
        rows = [(w["content"], f"{table.title(lang)}. {table.description(lang)}")]
        rows += [(c.label(lang), c.definition(lang)) for c in table.columns]
        sections.append((w["sheet"].format(sheet=table.sheet_name(lang)), rows))
    return sections


def input_files(report: Report) -> pl.DataFrame:
    """Input files of the build with their SHA-256 (what the figures were computed from)."""
    return report.build.dateien.select(
        "datei_art", "datei", "sha256", "zeilen_gelesen", "zeilen_geladen", "zeilen_abgelehnt")

def cell_text(value: object, kind: str, lang: str = "de") -> str:
    if value is None:
        return ""
    if kind == "int":
        return fmt.number(value, 0, lang)
    if kind == "decimal":
        return fmt.number(value, 1, lang)
    return str(value)


def hinweise_text(report: Report, lang: str = "de") -> str:
    """The notes as plain text (README of the CSV archive)."""
    lines = [title(lang), programme(lang), ""]
    for section, entries in hinweise(report, lang):
        lines += [section, "-" * len(section)]
        lines += [f"{term}: {text}" for term, text in entries]
        lines.append("")
    inputs = words(lang)["inputs"]
    lines += [inputs, "-" * len(inputs)]
    lines += [f"{r['datei_art']}: {r['datei']} {r['sha256']}"
              for r in input_files(report).iter_rows(named=True)]
    return "\n".join(lines) + "\n"
