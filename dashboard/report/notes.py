"""Texts every export carries: title, period, data version, edition, definitions (Hinweise)."""

from __future__ import annotations

import datetime as dt

import polars as pl

from dashboard import fmt
from dashboard.report.definitions import (
    FIGURES,
    RULES_DE,
    SMALL_CELL_TEXT,
    TABLES,
    Report,
)

TITLE = "Weltoffene Kommune – Kennzahlen für den NAP-I"
PROGRAMME = "Modellprogramm „Weltoffene Kommune – vom Dialog zum Zusammenhalt“"
SOURCE = "Programm-Monitor Weltoffene Kommune (Bertelsmann Stiftung, PHINEO)"


def _d(value: dt.date | None) -> str:
    return fmt.date(value, "de")


def period_text(report: Report) -> str:
    """`05.11.2019 – 31.12.2021`: the period as evaluated (ending at the Stichtag at the latest)."""
    return f"{_d(report.von)} – {_d(report.bis_effektiv)}"


def version_text(report: Report) -> str:
    """Stichtag, period and data version in one line (charts, PDF footer)."""
    return (f"Stichtag {_d(report.stichtag)} · Berichtszeitraum {period_text(report)} · "
            f"Datenstand {_d(report.build.datenstand)}")


def edition_text(report: Report) -> str:
    if report.public:
        return (f"öffentliche Fassung: Werte, die auf weniger als 3 Kommunen beruhen oder sich "
                f"aus anderen zurückrechnen ließen, stehen als „{SMALL_CELL_TEXT}“")
    return "interne Fassung (alle Werte, nur für das Programmteam)"


def hinweise(report: Report) -> list[tuple[str, list[tuple[str, str]]]]:
    """The notes of every export as (section, [(term, text)]): data version, rules, definitions."""
    build = report.build
    meta = [
        ("Titel", TITLE),
        ("Stichtag", _d(report.stichtag)),
        ("Berichtszeitraum", period_text(report)),
        ("Datenstand", _d(build.datenstand)),
        ("Build", build.build_id),
        ("Datenbank erstellt am", build.erstellt_am.strftime("%d.%m.%Y %H:%M")),
        ("Bericht erstellt am", report.erstellt_am.strftime("%d.%m.%Y %H:%M")),
        ("Fassung", edition_text(report)),
    ]
    if report.protection is not None:
        meta.append(("Schutz kleiner Fallzahlen", report.protection.text("de")))
    if build.beispieldaten:
        meta.append(("Beispieldaten", "ja – synthetische Daten, nicht für die Berichterstattung"))
    sections = [("Bericht", meta), ("Regeln", list(RULES_DE)),
                ("Kennzahlen (Blatt „Überblick“)",
                 [(f.label_de, f.definition_de) for f in FIGURES])]
    for table in TABLES[1:]:
        rows = [("Inhalt", f"{table.title_de}. {table.description_de}")]
        rows += [(c.label_de, c.definition_de) for c in table.columns]
        sections.append((f"Blatt „{table.sheet}“", rows))
    return sections


def input_files(report: Report) -> pl.DataFrame:
    """Input files of the build with their SHA-256 (what the figures were computed from)."""
    return report.build.dateien.select(
        "datei_art", "datei", "sha256", "zeilen_gelesen", "zeilen_geladen", "zeilen_abgelehnt")

def cell_text(value: object, kind: str) -> str:
    if value is None:
        return ""
    if kind == "int":
        return fmt.number(value, 0)
    if kind == "decimal":
        return fmt.number(value, 1)
    return str(value)


def hinweise_text(report: Report) -> str:
    """The notes as plain text (README of the CSV archive)."""
    lines = [TITLE, PROGRAMME, ""]
    for section, entries in hinweise(report):
        lines += [section, "-" * len(section)]
        lines += [f"{term}: {text}" for term, text in entries]
        lines.append("")
    lines += ["Eingabedateien (SHA-256)", "------------------------"]
    lines += [f"{r['datei_art']}: {r['datei']} {r['sha256']}"
              for r in input_files(report).iter_rows(named=True)]
    return "\n".join(lines) + "\n"
