"""The project's XLSX writer (xlsxwriter). A report: one sheet per table with real numbers in
German display formats, frozen and filtered header, print header/footer, plus the sheet
"Hinweise" (definitions, period, Stichtag, build id, input checksums). Plain frames (the
Vernetzung exports): `sheets_bytes`. Text cells a spreadsheet would run as a formula are
neutralised; figures are written as numbers."""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Mapping

import polars as pl
import xlsxwriter

from dashboard.i18n import translate
from dashboard.report.definitions import (
    Report,
    ReportTable,
)
from dashboard.report.notes import (
    INPUT_HEADERS,
    SOURCE,
    cell_text,
    hinweise,
    input_files,
    programme,
    title,
    version_text,
    words,
)
from etl.excel_csv import neutralise_formula

XLSX_FORMATS = {"int": "#,##0", "decimal": "#,##0.0"}
DATE_FORMAT = "DD.MM.YYYY"
DATE_FORMATS = {"de": DATE_FORMAT, "en": "D MMM YYYY"}  # as fmt.date shows them


# ---- XLSX ----------------------------------------------------------------------------------------


class _Styles:
    def __init__(self, wb: xlsxwriter.Workbook, lang: str = "de") -> None:
        base = {"font_name": "Arial", "font_size": 10, "valign": "top"}
        self.header = wb.add_format({**base, "bold": True, "bg_color": "#E8EEF4", "text_wrap": True,
                                     "bottom": 1, "valign": "bottom"})
        self.text = wb.add_format(base)
        self.number = {kind: wb.add_format({**base, "num_format": code})
                       for kind, code in XLSX_FORMATS.items()}
        self.hidden = wb.add_format({**base, "align": "right", "font_color": "#555555"})
        self.title = wb.add_format({**base, "bold": True, "font_size": 14})
        self.section = wb.add_format({**base, "bold": True, "font_size": 11, "bg_color": "#E8EEF4"})
        self.term = wb.add_format({**base, "bold": True, "text_wrap": True})
        self.wrap = wb.add_format({**base, "text_wrap": True})
        self.date = wb.add_format({**base, "num_format": DATE_FORMATS.get(lang, DATE_FORMAT),
                                   "align": "left"})
        self.mono = wb.add_format({**base, "font_name": "Courier New", "font_size": 9})



def _xlsx_table(wb: xlsxwriter.Workbook, st: _Styles, rt: ReportTable, report: Report,
                lang: str) -> None:
    table = rt.table
    ws = wb.add_worksheet(table.sheet_name(lang))
    frame = rt.spelled(lang)
    columns = [c for c in table.columns if c.name in frame.columns]
    height = frame.height
    for j, col in enumerate(columns):
        ws.write_string(0, j, col.label(lang), st.header)
        values = frame.get_column(col.name).to_list()
        hidden = rt.is_hidden(col.name).to_list()
        number_format = st.number.get(col.kind)
        width = min(len(col.label(lang)), 16)  # longer headers wrap onto a second line
        for i, (value, is_hidden) in enumerate(zip(values, hidden, strict=True), start=1):
            if is_hidden:
                ws.write_string(i, j, rt.marker(col.name, i - 1), st.hidden)
            elif value is None:
                ws.write_blank(i, j, None, number_format or st.text)
            elif number_format is not None:
                ws.write_number(i, j, value, number_format)
            else:
                ws.write_string(i, j, neutralise_formula(str(value)), st.text)
            width = max(width, len(cell_text(value, col.kind, lang)))
        ws.set_column(j, j, min(max(width, 8) + 2, 60))
    ws.set_row(0, 30)
    ws.freeze_panes(1, 0)
    ws.autofilter(0, 0, max(height, 1), len(columns) - 1)
    ws.set_landscape()
    ws.set_paper(9)  # A4
    ws.fit_to_pages(1, 0)
    ws.repeat_rows(0)
    w = words(lang)
    ws.set_header(f"&L&B{table.title(lang)}&B&R{version_text(report, lang)}")
    ws.set_footer(f"&LBuild {report.build.build_id}&R{w['page']}")


def _xlsx_hinweise(wb: xlsxwriter.Workbook, st: _Styles, report: Report, lang: str) -> None:
    w = words(lang)
    ws = wb.add_worksheet(w["notes"])
    ws.set_column(0, 0, 34)
    ws.set_column(1, 1, 100)
    ws.set_column(2, 5, 14)
    ws.write_string(0, 0, title(lang), st.title)
    ws.write_string(1, 0, programme(lang), st.text)
    row = 3
    dates = {w["stichtag"]: report.stichtag, w["datenstand"]: report.build.datenstand}
    for section, entries in hinweise(report, lang):
        ws.write_string(row, 0, section, st.section)
        ws.write_blank(row, 1, None, st.section)
        row += 1
        for term, text in entries:
            ws.write_string(row, 0, term, st.term)
            if section == w["report"] and term in dates:
                ws.write_datetime(row, 1, dt.datetime.combine(dates[term], dt.time()), st.date)
            elif section == w["report"] and term == w["period"]:
                ws.write_string(row, 1, text, st.text)
                ws.write_string(row, 2, w["from"], st.text)
                ws.write_datetime(row, 3, dt.datetime.combine(report.von, dt.time()), st.date)
                ws.write_string(row, 4, w["to"], st.text)
                ws.write_datetime(row, 5, dt.datetime.combine(report.bis_effektiv, dt.time()),
                                  st.date)
            else:
                ws.write_string(row, 1, neutralise_formula(text), st.wrap)
            row += 1
        row += 1
    ws.write_string(row, 0, w["inputs"], st.section)
    ws.write_blank(row, 1, None, st.section)
    row += 1
    for j, header in enumerate(INPUT_HEADERS["de" if lang == "de" else "en"]):
        ws.write_string(row, j, header, st.header)
    for entry in input_files(report).iter_rows(named=True):
        row += 1
        ws.write_string(row, 0, entry["datei_art"], st.text)
        ws.write_string(row, 1, entry["sha256"], st.mono)
        ws.write_string(row, 2, neutralise_formula(entry["datei"]), st.text)
        for j, key in enumerate(("zeilen_gelesen", "zeilen_geladen", "zeilen_abgelehnt"), 3):
            ws.write_number(row, j, entry[key], st.number["int"])
    ws.set_paper(9)
    ws.fit_to_pages(1, 0)


def _workbook(buffer: io.BytesIO) -> xlsxwriter.Workbook:
    return xlsxwriter.Workbook(buffer, {
        "in_memory": True,
        # never turn text into formulas, links or numbers: cells are typed explicitly
        "strings_to_formulas": False, "strings_to_urls": False, "strings_to_numbers": False,
    })


def _frame_sheet(wb: xlsxwriter.Workbook, st: _Styles, name: str, frame: pl.DataFrame,
                 lang: str) -> None:
    """One sheet from a plain frame: headers as given, whole numbers and decimals as numbers,
    dates as dates, booleans as yes/no in `lang`, lists joined with "; ", other text inert."""
    ws = wb.add_worksheet(name[:31])
    yes, no = translate(lang, "kommune.yes"), translate(lang, "kommune.no")
    for j, (column, dtype) in enumerate(frame.schema.items()):
        ws.write_string(0, j, column, st.header)
        values = frame.get_column(column).to_list()
        width = max([min(len(column), 16), *(len(str(v)) for v in values)])
        ws.set_column(j, j, min(max(width, 8) + 2, 60))
        for i, value in enumerate(values, start=1):
            if value is None:
                continue
            if isinstance(dtype, pl.List):
                ws.write_string(i, j, neutralise_formula("; ".join(map(str, value))), st.wrap)
            elif dtype == pl.Boolean:
                ws.write_string(i, j, yes if value else no, st.text)
            elif dtype.is_integer():
                ws.write_number(i, j, value, st.number["int"])
            elif dtype.is_float():
                ws.write_number(i, j, value, st.number["decimal"])
            elif isinstance(value, dt.date):
                ws.write_datetime(i, j, dt.datetime.combine(value, dt.time()), st.date)
            else:
                ws.write_string(i, j, neutralise_formula(str(value)), st.wrap)
    ws.set_row(0, 30)
    ws.freeze_panes(1, 0)


def sheets_bytes(sheets: Mapping[str, pl.DataFrame], lang: str = "de") -> bytes:
    """A workbook of plain frames, one sheet each (the Vernetzung exports), in the report's
    styles and with the same protection: typed cells, text neutralised against formulas."""
    buffer = io.BytesIO()
    wb = _workbook(buffer)
    st = _Styles(wb, lang)
    for name, frame in sheets.items():
        _frame_sheet(wb, st, name, frame, lang)
    wb.close()
    return buffer.getvalue()


def xlsx_bytes(report: Report, lang: str = "de") -> bytes:
    """The workbook: one sheet per report table plus the sheet "Hinweise" ("Notes"), in
    `lang` (labels, row values, notes; the German file is the reference)."""
    buffer = io.BytesIO()
    wb = _workbook(buffer)
    wb.set_properties({"title": title(lang), "subject": version_text(report, lang),
                       "author": SOURCE, "comments": f"Build {report.build.build_id}"})
    st = _Styles(wb, lang)
    for rt in report.tables.values():
        _xlsx_table(wb, st, rt, report, lang)
    _xlsx_hinweise(wb, st, report, lang)
    wb.close()
    return buffer.getvalue()
