"""Spreadsheet shapes staff really produce: each one reads to the same rows as the plain CSV,
or stops with a German message that names the problem (never a silently dropped column)."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
import xlsxwriter

from etl.read import InputError, read_table
from etl.schema import KOMMUNEN as K
from etl.schema import MEILENSTEINE_ENTITY as M
from tests.cohort import KOMMUNEN, MEILENSTEINE

ROWS = [line.split(";") for line in KOMMUNEN.strip().split("\n")]


def workbook(*sheets: tuple[str, list[list]]) -> bytes:
    buf = io.BytesIO()
    book = xlsxwriter.Workbook(buf)
    for name, rows in sheets:
        sheet = book.add_worksheet(name)
        for i, row in enumerate(rows):
            for j, value in enumerate(row):
                if value != "":  # an empty cell, as Excel stores it
                    # write_string: `=SUM(1) …` stays text, as staff typed it
                    (sheet.write_string if isinstance(value, str) else sheet.write)(i, j, value)
    book.close()
    return buf.getvalue()


def read(tmp_path: Path, name: str, content: bytes, entity=K):
    path = tmp_path / name
    path.write_bytes(content)
    return read_table(path, entity)


@pytest.fixture
def reference(tmp_path: Path):
    return read(tmp_path, "kommunen.csv", KOMMUNEN.encode()).frame


@pytest.mark.parametrize("name, content, encoding", [
    ("kommunen.csv", KOMMUNEN.replace("\n", "\r").encode(), "utf-8"),  # CR only (old Mac)
    ("kommunen.csv", KOMMUNEN.replace("\n", "\r\n").encode("cp1252"), "cp1252"),
    # Excel "Unicode-Text": UTF-16 LE with BOM, tab-separated
    ("kommunen.csv", b"\xff\xfe" + KOMMUNEN.replace(";", "\t").encode("utf-16-le"), "utf-16"),
    ("kommunen.txt", b"\xff\xfe" + KOMMUNEN.replace(";", "\t").encode("utf-16-le"), "utf-16"),
    ("kommunen.xlsx", workbook(("Hinweise", [["x"]]), ("KOMMUNEN", ROWS)), "xlsx"),
    ("kommunen.xlsx", workbook(("Tabelle1", ROWS)), "xlsx"),  # one sheet: whatever its name
])
def test_shapes_read_like_the_plain_csv(tmp_path, reference, name, content, encoding):
    raw = read(tmp_path, name, content)
    assert raw.encoding == encoding
    assert raw.frame.equals(reference)


@pytest.mark.parametrize("name, content, words", [
    ("kommunen.csv", KOMMUNEN.replace("kommune_id;name;", "kommune_id;name;name;", 1).encode(),
     "„name“ mehrfach vor: „name“ (Spalte 2), „name“ (Spalte 3)"),
    ("kommunen.csv", KOMMUNEN.replace("kommune_id;name;", "kommune_id;Name;NAME ;", 1).encode(),
     "Groß- und Kleinschreibung zählen dabei nicht"),
    ("kommunen.xlsx", workbook(("kommunen", [["kommune_id", "Name", "name"], ["1", "a", "b"]])),
     "Blatt „kommunen“ kommt die Spalte „name“ mehrfach vor"),
    ("kommunen.xlsx", workbook(("Notizen", [["x"]]), ("Tabelle1", ROWS)),
     "kein Tabellenblatt „kommunen“ (gefunden: „Notizen“, „Tabelle1“)"),
    ("kommunen.csv", b"\xff\xfe\x00\xd8", "Unicode-Text (UTF-16)"),
])
def test_bad_shapes_stop_with_a_german_message(tmp_path, name, content, words):
    with pytest.raises(InputError, match=words.replace("(", r"\(").replace(")", r"\)")):
        read(tmp_path, name, content)


def test_excel_date_serials_in_date_columns_are_dates(tmp_path):
    rows = [line.split(";") for line in MEILENSTEINE.strip().split("\n")]
    rows[1][2] = 43862  # a number cell without date format: 01.02.2020
    rows[1][3] = "43864"
    raw = read(tmp_path, "meilensteine.xlsx", workbook(("meilensteine", rows)), M)
    assert raw.notes == ("Hinweis zu „meilensteine.xlsx“: 2 Datumsangaben standen als Excel-"
                         "Seriennummer ohne Datumsformat in der Datei und wurden als Datum "
                         "gelesen (z. B. 44270 = 15.03.2021).",)
    frame = raw.frame
    assert frame.row(0, named=True)["geplant_am"] == "2020-02-01"
    assert frame.row(0, named=True)["erreicht_am"] == "2020-02-03"
    assert frame.get_column("kommune_id").to_list()[0] == "01001000"  # text stays text
