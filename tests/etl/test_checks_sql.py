"""The rules checked inside DuckDB (etl/sql/checks/) give exactly the reject lines and good rows
of the polars rules (etl/validate.py) they replace, whichever way the file reaches DuckDB: a CSV
read from disk, or a frame from the in-memory reader (Windows-1252, UTF-16, XLSX)."""

from __future__ import annotations

import csv
import datetime as dt
import io
import tempfile
from pathlib import Path

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from etl.checks import CHECKED_IN_SQL, validate_frame
from etl.read import CsvFile, InputError, open_table, read_table
from etl.schema import ENTITY_BY_NAME
from etl.validate import validate_table
from tests.cohort import DATENSTAND, MODULNUTZUNG

KNOWN = pl.Series("kommune_id", ["01001000", "05766020", "09162000"])
TRICKY = [
    "", " ", "  12 ", "1.250", "12,0", "1,5", "-3", "+4", "007", "x", "\u00a012\u00a0", "0",
    "99999999999999999999", "Webinar", "webinar", " WORKSHOP", "2. Webinar", "Modul 2", "4",
    "31.02.2021", "2021-03-15", "15.03.2021 00:00:00", "1.3.2021", "01.01.2017", "31.12.2031",
    "1001000", "01001000", "9162000", "99999999", "=SUM(1)", "<script>x</script>", "a" * 201,
    "ä" * 150, "V2", "V1", "\tV9", "10.000", "1 000",
]


def _csv_text(rows: list[list[str]]) -> str:
    buf = io.StringIO()
    csv.writer(buf, delimiter=";", lineterminator="\n").writerows(rows)
    return buf.getvalue()


def _sql_from_disk(path: Path) -> tuple[pl.DataFrame, pl.DataFrame]:
    entity = ENTITY_BY_NAME["modulnutzung"]
    source = open_table(path, entity)
    assert isinstance(source, CsvFile)
    result = validate_frame(source, entity, KNOWN)
    return result.valid, result.rejects


def _same(a: pl.DataFrame, b: pl.DataFrame) -> None:
    order = a.columns
    assert a.sort(order).to_dicts() == b.select(order).sort(order).to_dicts()


def _check_all_ways(text: str) -> None:
    entity = ENTITY_BY_NAME["modulnutzung"]
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "modulnutzung.csv"
        path.write_text(text, encoding="utf-8")
        raw = read_table(path, entity)
        polars_result = validate_table(raw, entity, dt.date.fromisoformat(DATENSTAND), KNOWN)
        frame_result = validate_frame(raw, entity, KNOWN)
        disk_valid, disk_rejects = _sql_from_disk(path)
    _same(polars_result.rejects, frame_result.rejects)
    _same(polars_result.rejects, disk_rejects)
    _same(polars_result.valid, frame_result.valid)
    _same(polars_result.valid, disk_valid)
    assert frame_result.rows_read == polars_result.rows_read


ROWS = [line.split(";") for line in MODULNUTZUNG.strip().splitlines()]


def test_modulnutzung_is_checked_in_sql():
    assert "modulnutzung" in CHECKED_IN_SQL


def test_every_rule_fires_the_same_way():
    rows = [r[:] for r in ROWS]
    rows[1][2] = "4"  # modul
    rows[2][3] = "Kaffeeklatsch"  # format
    rows[3][6] = "-3"  # teilnehmende
    rows[4][7] = "-1"  # verwaltung
    rows[5][6] = "2"  # sum of sectors
    rows.append(["99999999", "V9", "1", "Webinar", "", "01.01.2021", "3", "", "", "", "", ""])
    rows.append(rows[1][:1] + ["V1", "1", "Webinar", "", "15.02.2020", "1", "", "", "", "", ""])
    rows.append(["", "", "", "", "", "", "", "", "", "", "", ""])  # an empty line is no row
    rows.append(["01001000", "V7", "1", "Webinar", "a" * 201, "01.01.2017", "x", "", "", "", "",
                 ""])
    _check_all_ways(_csv_text(rows))


@settings(max_examples=30, deadline=None)
@given(st.lists(st.tuples(st.integers(1, len(ROWS) - 1), st.integers(0, len(ROWS[0]) - 1),
                          st.sampled_from(TRICKY)), min_size=1, max_size=6),
       st.booleans())
def test_tricky_cells_give_the_same_rejects_and_rows(changes, duplicate):
    rows = [r[:] for r in ROWS]
    for row, col, value in changes:
        rows[row][col] = value
    if duplicate:
        rows.append(rows[1][:])
    _check_all_ways(_csv_text(rows))


def test_every_tricky_cell_in_every_column_gives_the_same_rejects_and_rows():
    """The grid behind the random test: each tricky text once in each column (cells already in
    canonical form skip trimming and parsing in SQL, so every column's fast path meets every
    near miss: padded digits, `1.250`, `007`, a 7-digit AGS, ` WORKSHOP`, …)."""
    rows = [ROWS[0]]
    for col in range(len(ROWS[0])):
        for value in TRICKY:
            row = ROWS[1][:]
            row[1] = f"G{len(rows)}"  # one event per row, so only the column's own rules fire
            row[col] = value
            rows.append(row)
    _check_all_ways(_csv_text(rows))


def test_ragged_lines_and_stray_quotes_are_read_as_before(tmp_path: Path):
    """DuckDB's strict reader refuses such files; the in-memory reader then decides as it always
    did: short lines get empty cells, surplus cells are dropped, an open quote stops the build."""
    lines = MODULNUTZUNG.strip().splitlines()
    lines[2] = lines[2] + ";surplus;cells"
    lines[3] = ";".join(lines[3].split(";")[:7])  # no sector columns
    _check_all_ways("\n".join(lines) + "\n")
    broken = MODULNUTZUNG.replace("V3;3;", '"V3;3;', 1)
    path = tmp_path / "modulnutzung.csv"
    path.write_text(broken, encoding="utf-8")
    with pytest.raises(InputError, match="lässt sich nicht als CSV lesen"):
        _sql_from_disk(path)


def test_row_numbers_of_a_file_read_in_parallel_are_its_lines(tmp_path: Path):
    """A national-size file is read by several threads at once; the reject lines must still
    name the row as the spreadsheet shows it (the header is row 1)."""
    good = ROWS[1][:]
    lines = [";".join(ROWS[0])]
    bad_rows = {}
    for i in range(300_000):
        row = good[:]
        row[1] = f"E{i}"
        if i % 37_000 == 5:
            row[6] = f"x{i}"  # teilnehmende not a number
            bad_rows[len(lines) + 1] = row[6]
        lines.append(";".join(row))
    path = tmp_path / "modulnutzung.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    _, rejects = _sql_from_disk(path)
    assert dict(zip(rejects["zeile"], rejects["wert"], strict=True)) == bad_rows
