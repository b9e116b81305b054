"""Every validation rule has a failing example with its expected German message."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest

from etl.build import build
from tests.cohort import KOMMUNEN, MEILENSTEINE, MODULNUTZUNG, SELBSTCHECK, write_cohort


def _replace_row(text: str, row: int, column: str, value: str) -> str:
    """Set `column` of data row `row` (1 = first data row) to `value` in CSV text."""
    lines = text.splitlines()
    header = lines[0].split(";")
    cells = lines[row].split(";")
    cells[header.index(column)] = value
    lines[row] = ";".join(cells)
    return "\n".join(lines) + "\n"


def _append(text: str, line: str) -> str:
    return text + line + "\n"


# (entity, text after the change, spreadsheet row, column, expected message fragment)
CASES = [
    ("kommunen", _replace_row(KOMMUNEN, 2, "name", ""), 3, "name", "Pflichtfeld „name“ ist leer"),
    (
        "kommunen",
        _replace_row(KOMMUNEN, 2, "kommune_id", "5766A20"),
        3,
        "kommune_id",
        "ist kein gültiger Gemeinde- oder Kreisschlüssel",
    ),
    (
        "kommunen",
        _replace_row(KOMMUNEN, 2, "typ", "Dorf"),
        3,
        "typ",
        "„Dorf“ ist kein erlaubter Wert für „typ“. Erlaubt sind: Gemeinde, Stadt",
    ),
    (
        "kommunen",
        _replace_row(KOMMUNEN, 2, "bundesland", "Preußen"),
        3,
        "bundesland",
        "kein erlaubter Wert für „bundesland“",
    ),
    (
        "kommunen",
        _replace_row(KOMMUNEN, 2, "status", "fertig"),
        3,
        "status",
        "kein erlaubter Wert für „status“",
    ),
    (
        "kommunen",
        _replace_row(KOMMUNEN, 2, "einwohner", "viele"),
        3,
        "einwohner",
        "ist keine ganze Zahl",
    ),
    (
        "kommunen",
        _replace_row(KOMMUNEN, 2, "einwohner", "0"),
        3,
        "einwohner",
        "ist zu klein: der Wert muss mindestens 1 sein",
    ),
    (
        "kommunen",
        _replace_row(KOMMUNEN, 2, "lat", "8,90061"),
        3,
        "lat",
        "liegt nicht in Deutschland",
    ),
    (
        "kommunen",
        _replace_row(KOMMUNEN, 2, "lon", "890061"),
        3,
        "lon",
        "liegt nicht in Deutschland",
    ),
    ("kommunen", _replace_row(KOMMUNEN, 2, "lat", "N 52,1"), 3, "lat", "ist keine Zahl"),
    (
        "kommunen",
        _replace_row(KOMMUNEN, 2, "start_geplant", "31.02.2021"),
        3,
        "start_geplant",
        "ist kein gültiges Datum. Bitte im Format TT.MM.JJJJ",
    ),
    (
        "kommunen",
        _replace_row(KOMMUNEN, 2, "start_geplant", "01.01.2017"),
        3,
        "start_geplant",
        "liegt außerhalb des Programmzeitraums (01.01.2018 bis 31.12.2030)",
    ),
    (
        "kommunen",
        _replace_row(KOMMUNEN, 2, "email", "lars(at)example.org"),
        3,
        "email",
        "ist keine gültige E-Mail-Adresse",
    ),
    (
        "kommunen",
        _replace_row(KOMMUNEN, 2, "vernetzung_zustimmung", "vielleicht"),
        3,
        "vernetzung_zustimmung",
        "ist kein Ja/Nein-Wert",
    ),
    (
        "kommunen",
        _append(KOMMUNEN, KOMMUNEN.splitlines()[2]),
        6,
        "kommune_id",
        "Doppelter Eintrag: dieselbe Kombination aus „kommune_id“ steht schon in Zeile 3",
    ),
    (
        "meilensteine",
        _replace_row(MEILENSTEINE, 1, "meilenstein", "Party"),
        2,
        "meilenstein",
        "kein erlaubter Wert für „meilenstein“",
    ),
    (
        "meilensteine",
        _replace_row(_replace_row(MEILENSTEINE, 8, "geplant_am", ""), 8, "erreicht_am", ""),
        9,
        "geplant_am",
        "Weder „geplant_am“ noch „erreicht_am“ ist gefüllt",
    ),
    (
        "meilensteine",
        _replace_row(MEILENSTEINE, 8, "erreicht_am", "01.01.2022"),
        9,
        "erreicht_am",
        "liegt nach dem Datenstand 15.12.2021",
    ),
    (
        "meilensteine",
        _append(MEILENSTEINE, "99999999;Erstgespräch;01.01.2021;;"),
        20,
        "kommune_id",
        "Die Kommune „99999999“ steht nicht im Register",
    ),
    (
        "meilensteine",
        _append(MEILENSTEINE, "01001000;Aufnahme;01.02.2020;;"),
        20,
        "meilenstein",
        "steht schon in Zeile 2",
    ),
    (
        "modulnutzung",
        _replace_row(MODULNUTZUNG, 2, "modul", "4"),
        3,
        "modul",
        "„4“ ist kein erlaubter Wert für „modul“",
    ),
    (
        "modulnutzung",
        _replace_row(MODULNUTZUNG, 2, "format", "Kaffeeklatsch"),
        3,
        "format",
        "kein erlaubter Wert für „format“",
    ),
    (
        "modulnutzung",
        _replace_row(MODULNUTZUNG, 2, "teilnehmende", "-3"),
        3,
        "teilnehmende",
        "ist zu klein: der Wert muss mindestens 0 sein",
    ),
    (
        "modulnutzung",
        _replace_row(MODULNUTZUNG, 2, "verwaltung", "-1"),
        3,
        "verwaltung",
        "ist zu klein",
    ),
    (
        "modulnutzung",
        _replace_row(MODULNUTZUNG, 2, "teilnehmende", "2"),
        3,
        "teilnehmende",
        "Die Summe der Sektoren (6) ist größer als „teilnehmende“ (2)",
    ),
    (
        "modulnutzung",
        _replace_row(MODULNUTZUNG, 2, "datum", ""),
        3,
        "datum",
        "Pflichtfeld „datum“ ist leer",
    ),
    (
        "selbstcheck",
        _replace_row(SELBSTCHECK, 1, "stand", "5"),
        2,
        "stand",
        "ist zu groß: der Wert darf höchstens 4 sein",
    ),
    (
        "selbstcheck",
        _replace_row(SELBSTCHECK, 1, "handlungsfeld", "Sport"),
        2,
        "handlungsfeld",
        "kein erlaubter Wert für „handlungsfeld“",
    ),
    (
        "selbstcheck",
        _replace_row(SELBSTCHECK, 1, "prioritaet", ""),
        2,
        "prioritaet",
        "Pflichtfeld „prioritaet“ ist leer",
    ),
]


@pytest.mark.parametrize(
    ("entity", "text", "row", "column", "message"),
    CASES,
    ids=[f"{c[0]}-{c[3]}-{i}" for i, c in enumerate(CASES)],
)
def test_rule_rejects_row_with_german_message(tmp_path: Path, entity, text, row, column, message):
    report = build(write_cohort(tmp_path / "in", **{entity: text}), tmp_path / "db.duckdb")
    rejects = report.results[entity].rejects
    hit = rejects.filter((pl.col("zeile") == row) & (pl.col("spalte") == column))
    assert hit.height >= 1, rejects
    assert any(message in m for m in hit.get_column("meldung")), hit.get_column("meldung")
    assert hit.get_column("datei")[0] == f"{entity}.csv"
    # the bad row is not loaded, every other row is
    result = report.results[entity]
    assert result.loaded_rows == result.rows_read - result.rejected_rows


def test_all_rules_at_once_good_rows_still_load(tmp_path: Path):
    """One directory with several broken rows: each is reported, good rows load."""
    kommunen = _replace_row(_replace_row(KOMMUNEN, 2, "typ", "Dorf"), 3, "lat", "99")
    modul = _replace_row(MODULNUTZUNG, 4, "teilnehmende", "1")
    report = build(
        write_cohort(tmp_path / "in", kommunen=kommunen, modulnutzung=modul), tmp_path / "db.duckdb"
    )
    r = report.rejects
    assert set(zip(r["datei"], r["zeile"], strict=True)) >= {
        ("kommunen.csv", 3),
        ("kommunen.csv", 4),
        ("modulnutzung.csv", 5),
    }
    # milestones of the two rejected communes are rejected as unknown references
    ms = report.results["meilensteine"]
    assert ms.valid.get_column("kommune_id").unique().sort().to_list() == ["01001000", "03159"]
    assert report.results["kommunen"].valid.height == 2


def test_excel_dropped_leading_zero_is_restored(tmp_path: Path):
    kommunen = _replace_row(KOMMUNEN, 1, "kommune_id", "1001000")
    report = build(write_cohort(tmp_path / "in", kommunen=kommunen), tmp_path / "db.duckdb")
    assert "01001000" in report.results["kommunen"].valid.get_column("kommune_id").to_list()
    assert report.rejects.is_empty()
