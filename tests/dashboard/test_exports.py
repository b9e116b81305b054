"""Report exports: XLSX, CSV, PNG/SVG, PDF, file names, formula injection, no personal data, the
command line. Chromium (kaleido) starts once per test process."""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import re
import zipfile
from pathlib import Path
from xml.etree import ElementTree

import openpyxl
import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image
from pypdf import PdfReader

from dashboard import data
from dashboard.report import __main__ as report
from dashboard.report import charts as report_charts
from dashboard.report import csv as report_csv
from dashboard.report import definitions as rd
from dashboard.report import export as report_export
from dashboard.report import pdf as report_pdf
from dashboard.report import xlsx as report_xlsx
from etl.build import build
from tests.cohort import KOMMUNEN, MODULNUTZUNG, write_cohort
from tests.conftest import DEMO_DIR
from tests.dashboard import kennzahlen_oracle as oracle
from tests.dashboard.test_i18n import german_texts

D = dt.date
STICHTAG = D(2021, 12, 31)
HOSTILE = '=HYPERLINK("http://x")'


@pytest.fixture(scope="module")
def hostile_db(tmp_path_factory) -> Path:
    """The cohort with formula-like topics, so user text reaches the report tables."""
    base = tmp_path_factory.mktemp("hostile")
    quoted = '"' + HOSTILE.replace('"', '""') + '"'  # CSV quoting of the quotes inside
    nutzung = (MODULNUTZUNG.replace("Kommunikation und Konfliktmanagement", quoted, 1)
               .replace("Zusammenhalt und Begegnung", "@SUMME(A1)"))
    out = base / "hostile.duckdb"
    build(write_cohort(base / "input", modulnutzung=nutzung), out)
    return out


@pytest.fixture(scope="module")
def demo_report(demo_db) -> rd.Report:
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("WK_DB", str(demo_db))
        return data.load_report(data.STAFF, rd.PROGRAMMSTART, STICHTAG, STICHTAG)


@pytest.fixture(scope="module")
def rendered(demo_report) -> report_charts.ChartFiles:
    """All charts rendered once (starts kaleido's Chromium once for this process)."""
    return report_charts.chart_files(demo_report)

DEMO_STEM = "2019-11-05_2021-12-31_stichtag-2021-12-31"  # period and Stichtag in file names
CLI_STEM = "2021-01-01_2021-12-31_stichtag-2021-12-31"

def _report(monkeypatch, db: Path, public: bool = False, stichtag: D = STICHTAG) -> rd.Report:
    """The internal or (staff publishing it) the public edition at `stichtag`."""
    monkeypatch.setenv("WK_DB", str(db))
    return data.load_report(data.STAFF, rd.PROGRAMMSTART, stichtag, stichtag, public=public)


def _workbook(content: bytes) -> openpyxl.Workbook:
    return openpyxl.load_workbook(io.BytesIO(content))


def _sheet_rows(ws) -> list[dict]:
    rows = list(ws.iter_rows(values_only=True))
    return [dict(zip(rows[0], r, strict=True)) for r in rows[1:]]


# ---- XLSX ----------------------------------------------------------------------------------------


def test_xlsx_sheets_headers_and_number_formats(demo_report):
    wb = _workbook(report_xlsx.xlsx_bytes(demo_report))
    assert wb.sheetnames == [t.sheet for t in rd.TABLES] + ["Hinweise"]
    for table in rd.TABLES:
        ws = wb[table.sheet]
        assert [c.value for c in ws[1]] == [c.label_de for c in table.columns]
        assert ws.freeze_panes == "A2"
        assert ws.auto_filter.ref is not None
        assert ws.column_dimensions["A"].width > 8
        for j, column in enumerate(table.columns, start=1):
            cells = [ws.cell(row=i, column=j) for i in range(2, ws.max_row + 1)]
            for cell in cells:
                if column.kind == "int" and cell.value is not None:
                    assert cell.data_type == "n" and cell.number_format == "#,##0"
                elif column.kind == "decimal" and cell.value is not None:
                    assert cell.data_type == "n" and cell.number_format == "#,##0.0"
                elif column.kind == "text":
                    assert cell.data_type == "s"


def test_xlsx_values_equal_independent_computation(demo_report):
    """The exported workbook, read back, holds the figures computed from the input CSVs."""
    wb = _workbook(report_xlsx.xlsx_bytes(demo_report))
    expected = oracle.compute(DEMO_DIR, rd.PROGRAMMSTART, STICHTAG, STICHTAG)
    labels_to_key = {f.label_de: f.key for f in rd.FIGURES}
    for table in rd.TABLES:
        by_label = {c.label_de: c.name for c in table.columns}
        rows = [{by_label[k]: v for k, v in r.items()} for r in _sheet_rows(wb[table.sheet])]
        if table.key == "ueberblick":
            rows = [{**r, "kennzahl": labels_to_key[r["kennzahl"]]} for r in rows]
        keys = [c.name for c in table.columns if not c.basis]
        want = {tuple(r[k] for k in keys): r for r in expected[table.key]}
        got = {tuple(r[k] for k in keys): r for r in rows}
        assert got.keys() == want.keys(), table.key
        for key, row in want.items():
            for column in (c.name for c in table.columns if c.basis):
                a, b = got[key][column], row[column]
                assert (a == b) or (a is not None and b is not None and abs(a - b) < 1e-9), (
                    table.key, key, column, a, b)


def test_xlsx_hinweise_has_definitions_stichtag_build_and_checksums(demo_report):
    wb = _workbook(report_xlsx.xlsx_bytes(demo_report))
    ws = wb["Hinweise"]
    cells = {}
    texts = []
    for row in ws.iter_rows():
        if row[0].value is not None:
            cells.setdefault(row[0].value, row)
        texts += [str(c.value) for c in row if c.value is not None]
    stichtag = cells["Stichtag"][1]
    assert stichtag.value == dt.datetime(2021, 12, 31) and stichtag.number_format == "DD.MM.YYYY"
    assert cells["Datenstand"][1].value == dt.datetime(2022, 3, 15)
    von, bis = cells["Berichtszeitraum"][3], cells["Berichtszeitraum"][5]
    assert (von.value, bis.value) == (dt.datetime(2019, 11, 5), dt.datetime(2021, 12, 31))
    assert cells["Build"][1].value == demo_report.build.build_id
    joined = "\n".join(texts)
    for path in sorted(DEMO_DIR.glob("*.csv")):
        assert hashlib.sha256(path.read_bytes()).hexdigest() in joined, path.name
    for table in rd.TABLES[1:]:
        assert f"Blatt „{table.sheet}“" in joined
        for column in table.columns:
            assert column.definition_de in joined
    for figure in rd.FIGURES:
        assert figure.definition_de in joined
    for term, _ in rd.RULES_DE:
        assert term in cells


def test_public_xlsx_shows_small_cells_as_text(monkeypatch, cohort_db):
    public = _report(monkeypatch, cohort_db, public=True)
    wb = _workbook(report_xlsx.xlsx_bytes(public))
    rows = _sheet_rows(wb["Kommunen nach Status"])
    aktiv = next(r for r in rows if r["Status"] == "aktiv")
    assert aktiv["Kommunen"] == aktiv["Einwohner"] == rd.SMALL_CELL_TEXT == "x"
    # communes not admitted yet are not published, not even as a row
    assert not {"noch nicht im Programm", "interessiert", "beworben"} & {r["Status"] for r in rows}
    notes = {r[0]: r[1] for r in wb["Hinweise"].iter_rows(values_only=True) if r[0]}
    assert "öffentliche Fassung" in notes["Fassung"]
    assert "Mindestfallzahl 3" in notes["Schutz kleiner Fallzahlen"]
    assert "bestanden" in notes["Schutz kleiner Fallzahlen"]
    staff = _sheet_rows(_workbook(report_xlsx.xlsx_bytes(_report(monkeypatch, cohort_db)))[
        "Kommunen nach Status"])
    assert next(r for r in staff if r["Status"] == "aktiv")["Kommunen"] == 2


# ---- CSV -----------------------------------------------------------------------------------------


def _read_csv(content: bytes) -> pl.DataFrame:
    assert content.startswith(b"\xef\xbb\xbf")
    return pl.read_csv(io.BytesIO(content[3:]), separator=";", infer_schema=False)


def test_csv_german_excel_dialect_read_back(demo_report):
    files = report_csv.csv_files(demo_report)
    stem = "2019-11-05_2021-12-31_stichtag-2021-12-31"
    assert set(files) == {f"weltoffene-kommune_{t.key}_{stem}.csv" for t in rd.TABLES}
    overview = _read_csv(files[f"weltoffene-kommune_ueberblick_{stem}.csv"])
    assert overview.columns == ["Kennzahl", "Anzahl", "Wert", "Grundlage (Kommunen)"]
    values = dict(zip(overview["Kennzahl"], overview["Anzahl"], strict=True))
    expected = {r["kennzahl"]: r for r in oracle.compute(
        DEMO_DIR, rd.PROGRAMMSTART, STICHTAG, STICHTAG)["ueberblick"]}
    assert values["Erreichte Einwohnerinnen und Einwohner"] == str(
        expected["einwohner_erreicht"]["anzahl"])  # plain digits: Excel reads a number
    median = dict(zip(overview["Kennzahl"], overview["Wert"], strict=True))[
        "Mittlere Prozessdauer (Median, Monate)"]
    assert median == f"{expected['median_dauer_monate']['wert']}".replace(".", ",")
    for table in rd.TABLES:
        frame = _read_csv(files[f"weltoffene-kommune_{table.key}_{DEMO_STEM}.csv"])
        assert frame.columns == [c.label_de for c in table.columns]
        assert frame.height == demo_report[table.key].frame.height


def test_csv_zip_holds_every_table_and_the_notes(demo_report):
    archive = zipfile.ZipFile(io.BytesIO(report_csv.csv_zip(demo_report)))
    names = set(archive.namelist())
    assert names == set(report_csv.csv_files(demo_report)) | {"hinweise.txt"}
    notes = archive.read("hinweise.txt").decode("utf-8-sig")
    assert "Stichtag: 31.12.2021" in notes and demo_report.build.build_id in notes


def test_public_csv_shows_small_cells(monkeypatch, cohort_db):
    public = _report(monkeypatch, cohort_db, public=True)
    frame = _read_csv(report_csv.csv_bytes(public["kommunen_status"]))
    row = frame.filter(pl.col("Status") == "aktiv").row(0, named=True)
    assert row["Kommunen"] == "x"


# ---- formula injection and personal data ---------------------------------------------------------


def _injection_table() -> rd.ReportTable:
    table = rd.Table("probe", "probe", "Probe", "Probe", "Probe", "", "", (
        rd.Column("text", "text", "Text", "Text", "x", "x"),
        rd.Column("anzahl", "int", "Anzahl", "Count", "x", "x", ("anzahl",)),
        rd.Column("wert", "decimal", "Wert", "Value", "x", "x", ("anzahl",)),
    ))
    frame = pl.DataFrame({
        "text": [HOSTILE, "+49 1", "-Vielfalt", "@SUMME(A1)", "\tTab", "\rCR", "Köln"],
        "anzahl": [-5, 3, 4, 5, 6, 7, 8],
        "wert": [-2.5, 1.0, 0.5, 3.25, 4.0, 5.0, 6.0],
    })
    return rd.ReportTable(table, frame)


def test_formula_injection_neutralised_numbers_stay_numbers():
    rt = _injection_table()
    frame = _read_csv(report_csv.csv_bytes(rt))
    assert frame["Text"].to_list()[:6] == ["'" + v for v in rt.frame["text"].to_list()[:6]]
    assert frame["Text"][6] == "Köln"
    assert frame["Anzahl"][0] == "-5" and frame["Wert"][0] == "-2,5"

    files = pl.DataFrame(schema={"datei_art": pl.String, "datei": pl.String,
                                 "sha256": pl.String, "zeilen_gelesen": pl.Int64,
                                 "zeilen_geladen": pl.Int64, "zeilen_abgelehnt": pl.Int64})
    build = data.BuildInfo("b1", dt.datetime(2022, 1, 1), D(2021, 12, 31), False, "", files)
    probe = rd.Report(D(2021, 1, 1), STICHTAG, STICHTAG, False, build, {"probe": rt})
    content = report_xlsx.xlsx_bytes(probe)
    ws = openpyxl.load_workbook(io.BytesIO(content))["Probe"]
    texts = [ws.cell(row=i, column=1) for i in range(2, 9)]
    assert all(c.data_type == "s" for c in texts)
    assert texts[0].value == "'" + HOSTILE
    assert [c.value[0] for c in texts[:6]] == ["'"] * 6
    assert ws.cell(row=2, column=2).value == -5 and ws.cell(row=2, column=2).data_type == "n"
    assert ws.cell(row=2, column=3).value == -2.5
    with zipfile.ZipFile(io.BytesIO(content)) as z:
        sheet_xml = z.read("xl/worksheets/sheet1.xml").decode()
    assert "<f>" not in sheet_xml  # no formula anywhere


def test_hostile_topic_comes_out_inert_in_csv_and_xlsx(monkeypatch, hostile_db):
    rep = _report(monkeypatch, hostile_db)
    topics = rep["veranstaltungen"].frame.filter(pl.col("merkmal") == "Thema")["auspraegung"]
    assert HOSTILE in topics.to_list()
    csv = _read_csv(report_csv.csv_bytes(rep["veranstaltungen"]))
    assert "'" + HOSTILE in csv["Ausprägung"].to_list()
    assert "'@SUMME(A1)" in csv["Ausprägung"].to_list()
    assert HOSTILE not in csv["Ausprägung"].to_list()
    ws = _workbook(report_xlsx.xlsx_bytes(rep))["Veranstaltungen"]
    values = [r["Ausprägung"] for r in _sheet_rows(ws)]
    assert "'" + HOSTILE in values and HOSTILE not in values


CONTACTS = re.compile(r"[\w.]+@example\.org|Frida|Lars Erfunden|Mia Muster|Notiz intern|0000 [12]")


@pytest.fixture(scope="module")
def cohort_export(cohort_db, rendered, tmp_path_factory) -> report_export.ExportResult:
    """The full internal export set of the hand-made cohort (written once per module)."""
    with pytest.MonkeyPatch.context() as mp:
        rep = _report(mp, cohort_db)
        return report_export.export_all(rep, tmp_path_factory.mktemp("cohort_export"))


def test_no_personal_or_commune_data_in_any_export(cohort_export):
    result = cohort_export
    names = [line.split(";")[1] for line in KOMMUNEN.splitlines()[1:]]
    for path in result.files:
        content = path.read_bytes()
        if path.suffix in (".xlsx", ".zip"):
            with zipfile.ZipFile(path) as z:
                text = "\n".join(z.read(n).decode("utf-8", "replace") for n in z.namelist())
        elif path.suffix == ".pdf":
            text = "\n".join(p.extract_text() for p in PdfReader(path).pages)
        elif path.suffix == ".png":
            continue
        else:
            text = content.decode("utf-8-sig")
        assert not CONTACTS.search(text), (path.name, CONTACTS.search(text))
        for name in names:
            assert name not in text, (path.name, name)


# ---- charts and PDF ------------------------------------------------------------------------------


def test_png_and_svg_for_every_chart(demo_report, rendered):
    assert set(rendered.png) == {c.key for c in rd.CHARTS}
    assert len(rendered.files) == 2 * len(rd.CHARTS)
    for chart in rd.CHARTS:
        png = rendered.files[f"weltoffene-kommune_{chart.key}_{DEMO_STEM}.png"]
        assert png.startswith(b"\x89PNG\r\n\x1a\n")
        with Image.open(io.BytesIO(png)) as img:
            img.verify()
            assert img.width == 2 * report_charts.IMAGE_WIDTH
        svg = rendered.files[f"weltoffene-kommune_{chart.key}_{DEMO_STEM}.svg"]
        root = ElementTree.fromstring(svg)
        assert root.tag.endswith("svg")
        assert chart.title_de.encode() in svg  # title and data version are on the picture
        assert b"Stichtag 31.12.2021" in svg


def test_renderer_is_offline(monkeypatch):
    """kaleido gets the plotly.js of the plotly package and no MathJax: no URL in its page."""
    import kaleido

    seen = {}
    monkeypatch.setattr(report_charts, "_renderer_ready", False)
    monkeypatch.setattr(kaleido, "start_sync_server", lambda **kw: seen.update(kw))
    report_charts.start_renderer()
    assert seen["mathjax"] is False and Path(seen["plotlyjs"]).is_file()
    page = kaleido.PageGenerator(plotly=seen["plotlyjs"], mathjax=False).generate_index()
    assert "http://" not in page and "https://" not in page


def test_pdf_brief_has_four_pages_with_figures_and_umlauts(demo_report, rendered):
    pdf = report_pdf.pdf_bytes(demo_report, rendered.png)
    assert pdf.startswith(b"%PDF-")
    reader = PdfReader(io.BytesIO(pdf))
    assert len(reader.pages) == 4
    text = "\n".join(p.extract_text() for p in reader.pages)
    assert "Stichtag 31.12.2021" in text
    assert demo_report.build.build_id in text
    assert "Teilnehmende Kommunen und Selbstcheck" in text
    assert "Größenklasse" in text or "Ausgeschiedene Kommunen" in text
    einwohner = demo_report.figure("einwohner_erreicht")[0]
    assert f"{einwohner:,}".replace(",", ".") in text
    # every chart embedded once (WeasyPrint lists all pictures in one resource dictionary)
    assert len({i.data for p in reader.pages for i in p.images}) == len(rd.CHARTS)
    for path in DEMO_DIR.glob("*.csv"):
        assert hashlib.sha256(path.read_bytes()).hexdigest() in text.replace("\n", "")


# ---- everything at once: file names and the command line -----------------------------------------


def test_export_all_names_files_with_period_and_stichtag(cohort_export):
    names = sorted(p.name for p in cohort_export.files)
    stem = "2019-11-05_2021-12-31_stichtag-2021-12-31"
    assert f"weltoffene-kommune_kennzahlen_{stem}.xlsx" in names
    assert f"weltoffene-kommune_kennzahlen_csv_{stem}.zip" in names
    assert f"weltoffene-kommune_kurzbericht_{stem}.pdf" in names
    assert all(n.startswith("weltoffene-kommune_") and f"_{stem}." in n for n in names)
    assert len(names) == 1 + len(rd.TABLES) + 1 + 2 * len(rd.CHARTS) + 1
    assert all(p.is_file() and p.stat().st_size > 0 for p in cohort_export.files)
    assert set(cohort_export.seconds) == {"xlsx", "csv", "charts", "pdf", "total"}
    assert not list(cohort_export.files[0].parent.glob(".*.tmp"))


def test_two_periods_with_one_stichtag_never_collide(monkeypatch, cohort_db):
    import dataclasses

    report = _report(monkeypatch, cohort_db)
    other = dataclasses.replace(report, von=D(2021, 7, 1))
    assert report.file_name("kennzahlen", "xlsx") != other.file_name("kennzahlen", "xlsx")
    public = dataclasses.replace(report, public=True)
    assert public.file_name("kennzahlen", "xlsx").endswith("_oeffentlich.xlsx")


def test_command_line_writes_the_files(cohort_db, tmp_path, capsys, monkeypatch, rendered):
    monkeypatch.delenv("WK_DB", raising=False)
    code = report.main(["--stichtag", "31.12.2021", "--von", "2021-01-01", "--out",
                        str(tmp_path), "--db", str(cohort_db)])
    assert code == 0
    out = capsys.readouterr().out
    assert "XLSX:" in out and "PDF:" in out and "Fertig:" in out
    assert "Stichtag 31.12.2021 liegt nach dem Datenstand" in out
    wb = _workbook((tmp_path / f"weltoffene-kommune_kennzahlen_{CLI_STEM}.xlsx").read_bytes())
    row = next(r for r in wb["Hinweise"].iter_rows(values_only=True) if r[0] == "Berichtszeitraum")
    assert row[3] == dt.datetime(2021, 1, 1)
    assert (tmp_path / f"weltoffene-kommune_kurzbericht_{CLI_STEM}.pdf").is_file()


def test_command_line_explains_errors(cohort_db, tmp_path, capsys, monkeypatch):
    monkeypatch.delenv("WK_DB", raising=False)  # --db sets it for the process
    code = report.main(["--stichtag", "2021-12-31", "--von", "2022-01-01", "--out",
                        str(tmp_path), "--db", str(cohort_db)])
    assert code == 2
    assert "Berichtszeitraum beginnt" in capsys.readouterr().err
    code = report.main(["--out", str(tmp_path), "--db", str(tmp_path / "fehlt.duckdb")])
    assert code == 1
    assert "noch keine Datenbank" in capsys.readouterr().err


# ---- English files -------------------------------------------------------------------------------


def _texts(values) -> set[str]:
    return {v for v in values if isinstance(v, str)}


def test_english_xlsx_has_the_german_numbers_with_english_labels_and_values(demo_report):
    german = _workbook(report_xlsx.xlsx_bytes(demo_report))
    english = _workbook(report_xlsx.xlsx_bytes(demo_report, "en"))
    assert english.sheetnames == [t.sheet_name("en") for t in rd.TABLES] + ["Notes"]
    assert all(len(name) <= 31 for name in english.sheetnames)
    for table in rd.TABLES:
        de = list(german[table.sheet].iter_rows(values_only=True))
        en = list(english[table.sheet_name("en")].iter_rows(values_only=True))
        assert list(en[0]) == [c.label_en for c in table.columns]
        assert len(en) == len(de) > 1
        for row_de, row_en in zip(de[1:], en[1:], strict=True):
            numbers = [(a, b) for a, b in zip(row_de, row_en, strict=True)
                       if not isinstance(a, str)]
            assert all(a == b for a, b in numbers), table.key  # the same figures, typed
        shown = _texts(v for row in en[1:] for v in row)
        assert not shown & german_texts(), (table.key, sorted(shown & german_texts()))
    status = [r[0] for r in english["Communes by status"].iter_rows(min_row=2, values_only=True)]
    assert "not yet in the programme" in status and status[-1] == "Total"
    notes: dict = {}
    for r in english["Notes"].iter_rows(values_only=True):
        notes.setdefault(r[0], r[1])  # the section "Report" comes first ("Rules" has the term too)
    assert notes["Cut-off date"] == dt.datetime.combine(STICHTAG, dt.time())
    assert notes["Title"] == "Weltoffene Kommune – key figures for the NAP-I"
    assert "Key figures (sheet “Overview”)" in notes


def test_english_csv_zip_english_dialect_same_numbers(demo_report):
    archive = zipfile.ZipFile(io.BytesIO(report_csv.csv_zip(demo_report, lang="en")))
    names = set(archive.namelist())
    assert names == {demo_report.file_name(k, "csv", "en") for k in demo_report.tables} | {
        "notes.txt"}
    assert all(n.isascii() and (n.endswith("_en.csv") or n == "notes.txt") for n in names)
    for key, rt in demo_report.tables.items():
        content = archive.read(demo_report.file_name(key, "csv", "en"))
        assert content.startswith(b"\xef\xbb\xbf")
        frame = pl.read_csv(io.BytesIO(content[3:]), infer_schema=False)
        assert frame.columns == [c.label_en for c in rt.table.columns if c.name in rt.frame.columns]
        for column in rt.table.columns:
            if column.kind == "int":
                got = [None if v is None else int(v) for v in frame[column.label_en]]
                assert got == rt.frame[column.name].to_list(), (key, column.name)
            elif column.kind == "decimal":
                got = [None if v is None else float(v) for v in frame[column.label_en]]
                want = [None if v is None else round(v, 4) for v in rt.frame[column.name]]
                assert got == want, (key, column.name)
        shown = {v for c in frame.columns for v in frame[c].drop_nulls()}
        assert not shown & german_texts(), (key, sorted(shown & german_texts()))
    notes = archive.read("notes.txt").decode("utf-8-sig")
    assert "Cut-off date: 31 Dec 2021" in notes and "Stichtag" not in notes.split("\n")[3]


def test_english_files_keep_hostile_topics_inert_and_hide_the_same_cells(monkeypatch, hostile_db):
    rep = _report(monkeypatch, hostile_db)
    content = report_csv.csv_bytes(rep["veranstaltungen"], "en")
    values = pl.read_csv(io.BytesIO(content[3:]), infer_schema=False)["Value"].to_list()
    assert "'" + HOSTILE in values and "'@SUMME(A1)" in values and HOSTILE not in values
    ws = _workbook(report_xlsx.xlsx_bytes(rep, "en"))["Events"]
    values = [r["Value"] for r in _sheet_rows(ws)]
    assert "'" + HOSTILE in values and HOSTILE not in values
    public = _report(monkeypatch, hostile_db, public=True)
    for key, rt in public.tables.items():
        de = _read_csv(report_csv.csv_bytes(rt))
        en = pl.read_csv(io.BytesIO(report_csv.csv_bytes(rt, "en")[3:]), infer_schema=False)
        for c in rt.table.columns:
            if c.name in rt.frame.columns and c.kind != "text":
                hidden_de = [v == rd.SMALL_CELL_TEXT for v in de[c.label_de]]
                assert hidden_de == [v == rd.SMALL_CELL_TEXT for v in en[c.label_en]], key


@pytest.mark.parametrize("key", [c.key for c in rd.CHARTS])
def test_english_chart_export_has_english_title_legend_and_axes(demo_report, key):
    fig = report_charts.export_figure(key, demo_report, "en")
    assert fig.layout.title.text == rd.CHART_BY_KEY[key].title_en
    assert fig.layout.title.subtitle.text.startswith("Cut-off date 31 Dec 2021 · ")
    labels = {t.name for t in fig.data} | {
        v for t in fig.data for axis in (t.x, t.y) if axis is not None for v in axis
        if isinstance(v, str)}
    labels |= {fig.layout.xaxis.title.text, fig.layout.yaxis.title.text}
    labels = {re.sub(r"^\d+ ", "", v) for v in labels if v}
    assert not labels & german_texts(), sorted(labels & german_texts())
    assert report_charts.export_figure(key, demo_report).layout.title.text == \
        rd.CHART_BY_KEY[key].title_de


def test_command_line_writes_english_files(cohort_db, tmp_path, monkeypatch, rendered):
    monkeypatch.delenv("WK_DB", raising=False)
    code = report.main(["--stichtag", "31.12.2021", "--von", "2021-01-01", "--out",
                        str(tmp_path), "--db", str(cohort_db), "--lang", "en"])
    assert code == 0
    names = sorted(p.name for p in tmp_path.iterdir())
    assert all(n.isascii() for n in names)
    assert [n for n in names if not n.endswith(("_en.csv", "_en.zip", "_en.xlsx", "_en.png",
                                                 "_en.svg", "_en.pdf"))] == []
    assert f"weltoffene-kommune_kurzbericht_{CLI_STEM}_en.pdf" in names
    wb = _workbook((tmp_path / f"weltoffene-kommune_kennzahlen_{CLI_STEM}_en.xlsx").read_bytes())
    assert wb.sheetnames[-1] == "Notes" and wb.sheetnames[0] == "Overview"
    svg = (tmp_path / f"weltoffene-kommune_kommunen_status_{CLI_STEM}_en.svg").read_text()
    assert "Communes by status on the cut-off date" in svg and "Kommunen nach Status" not in svg


# ---- layout of the exported pictures -------------------------------------------------------------


@pytest.mark.parametrize("lang", ["de", "en"])
@pytest.mark.parametrize("public", [False, True])
def test_exported_chart_header_leaves_room_for_title_subtitle_and_legend(demo_db, monkeypatch,
                                                                          lang, public):
    """Title, subtitle lines and legend rows each get their own band at the top of the picture
    (the legend used to sit on the subtitle), and module names are whole in the legend."""
    monkeypatch.setenv("WK_DB", str(demo_db))
    rep = data.load_report(data.STAFF, rd.PROGRAMMSTART, STICHTAG, STICHTAG, public=public)
    for chart in rd.CHARTS:
        fig = report_charts.export_figure(chart.key, rep, lang)
        height, top = fig.layout.height, fig.layout.margin.t
        subtitle = fig.layout.title.subtitle.text.split("<br>")
        assert all(len(line) * 12 * 0.5 < report_charts.IMAGE_WIDTH - 30 for line in subtitle)
        header = report_charts._TITLE_BLOCK + report_charts._SUBTITLE_LINE * len(subtitle)
        names = [t.name for t in fig.data if t.name and t.showlegend is not False]
        if fig.layout.legend.y is not None and fig.layout.legend.yref == "container":
            legend_top = (1 - fig.layout.legend.y) * height
            assert legend_top >= header  # below the subtitle
            rows = report_charts.legend_rows(names, report_charts.IMAGE_WIDTH - 30)
            assert top >= legend_top + rows * report_charts._LEGEND_ROW  # above the plot
        else:
            assert top >= header
        if chart.key == "veranstaltungen_modul":
            assert fig.layout.legend.yref == "container"
            assert not any(n.endswith("…") for n in names)
            assert any(len(n) >= 40 for n in names) == (lang == "de")  # the long German one


@settings(max_examples=60, deadline=None)
@given(names=st.lists(st.text(min_size=1, max_size=70), max_size=12),
       width=st.integers(min_value=200, max_value=1200))
def test_legend_rows_never_promise_more_than_fits(names, width):
    """Packing the entries greedily: a row holds what fits (one over-long entry alone), so the
    header is never lower than the legend plotly draws with the same estimate."""
    rows = report_charts.legend_rows(names, width)
    items = [report_charts._LEGEND_ITEM + report_charts._text_width(n, 14) for n in names]
    assert rows <= len(names)
    assert (rows == 0) == (not names)
    assert rows >= sum(items) / width - 1e-9 or any(i > width for i in items)


def test_publishing_another_period_warns(cohort_db, tmp_path, capsys, monkeypatch, rendered):
    """A public edition of another period than the public pages' one (programme start to the
    data date) is audited on its own, not against that one: the operator is told that two
    published editions can be subtracted."""
    monkeypatch.delenv("WK_DB", raising=False)
    code = report.main(["--stichtag", "31.12.2021", "--von", "2021-01-01", "--public", "--out",
                        str(tmp_path), "--db", str(cohort_db)])
    assert code == 0
    assert "Hinweis: Vorsicht beim Veröffentlichen" in capsys.readouterr().out
