"""Report exports (NAP-I): XLSX, CSV (one per table, zipped), chart images and a PDF brief.

Everything is produced offline from one `report_defs.Report`, so the page, the files and the
command line (`python -m dashboard.report`) show the same numbers:
- XLSX (xlsxwriter): one sheet per table, real numbers with German display formats, frozen and
  filtered header, column widths, print header/footer, plus the sheet "Hinweise" (definitions,
  period, Stichtag, build id, input checksums);
- CSV in the German Excel dialect (`etl.excel_csv`: `;`, decimal comma, UTF-8 with BOM);
- charts as PNG and SVG rendered by kaleido in the installed Chromium, with the plotly.js shipped
  in the plotly package and MathJax switched off, so no request leaves the machine;
- a PDF brief (fpdf2, DejaVu font) of four pages: key figures, charts, definitions, data version.

Text cells that a spreadsheet would run as a formula are neutralised (apostrophe prefix) in CSV
and XLSX; figures are written as numbers, so negative numbers stay numbers. Report tables hold
aggregates only: no names, contact data or notes of communes.
"""

from __future__ import annotations

import concurrent.futures
import datetime as dt
import io
import os
import shutil
import threading
import time
import zipfile
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import plotly.graph_objects as go
import polars as pl
import xlsxwriter

from dashboard import charts, fmt
from dashboard.report_defs import (
    CHARTS,
    FIGURES,
    RULES_DE,
    SMALL_CELL_TEXT,
    TABLES,
    Report,
    ReportTable,
    chart_data,
    file_name,
    headline_text,
)
from etl.excel_csv import neutralise_formula, to_excel_csv_bytes

TITLE = "Weltoffene Kommune – Kennzahlen für den NAP-I"
PROGRAMME = "Modellprogramm „Weltoffene Kommune – vom Dialog zum Zusammenhalt“"
SOURCE = "Programm-Monitor Weltoffene Kommune (Bertelsmann Stiftung, PHINEO)"
XLSX_FORMATS = {"int": "#,##0", "decimal": "#,##0.0"}
DATE_FORMAT = "DD.MM.YYYY"
FONT_DIR = Path(os.environ.get("WK_FONT_DIR", "/usr/share/fonts/truetype/dejavu"))

Progress = Callable[[str], None]


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
        return (f"öffentliche Fassung: Werte, die auf weniger als 3 Kommunen beruhen, "
                f"stehen als „{SMALL_CELL_TEXT}“")
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


# ---- XLSX ----------------------------------------------------------------------------------------


class _Styles:
    def __init__(self, wb: xlsxwriter.Workbook) -> None:
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
        self.date = wb.add_format({**base, "num_format": DATE_FORMAT, "align": "left"})
        self.mono = wb.add_format({**base, "font_name": "Courier New", "font_size": 9})


def _cell_text(value: object, kind: str) -> str:
    if value is None:
        return ""
    if kind == "int":
        return fmt.number(value, 0)
    if kind == "decimal":
        return fmt.number(value, 1)
    return str(value)


def _xlsx_table(wb: xlsxwriter.Workbook, st: _Styles, rt: ReportTable, report: Report) -> None:
    table = rt.table
    ws = wb.add_worksheet(table.sheet)
    frame = rt.spelled("de")
    columns = [c for c in table.columns if c.name in frame.columns]
    height = frame.height
    for j, col in enumerate(columns):
        ws.write_string(0, j, col.label_de, st.header)
        values = frame.get_column(col.name).to_list()
        hidden = rt.is_hidden(col.name).to_list()
        number_format = st.number.get(col.kind)
        width = min(len(col.label_de), 16)  # longer headers wrap onto a second line
        for i, (value, is_hidden) in enumerate(zip(values, hidden, strict=True), start=1):
            if is_hidden:
                ws.write_string(i, j, SMALL_CELL_TEXT, st.hidden)
            elif value is None:
                ws.write_blank(i, j, None, number_format or st.text)
            elif number_format is not None:
                ws.write_number(i, j, value, number_format)
            else:
                ws.write_string(i, j, neutralise_formula(str(value)), st.text)
            width = max(width, len(_cell_text(value, col.kind)))
        ws.set_column(j, j, min(max(width, 8) + 2, 60))
    ws.set_row(0, 30)
    ws.freeze_panes(1, 0)
    ws.autofilter(0, 0, max(height, 1), len(columns) - 1)
    ws.set_landscape()
    ws.set_paper(9)  # A4
    ws.fit_to_pages(1, 0)
    ws.repeat_rows(0)
    ws.set_header(f"&L&B{table.title_de}&B&R{version_text(report)}")
    ws.set_footer(f"&LBuild {report.build.build_id}&RSeite &P von &N")


def _xlsx_hinweise(wb: xlsxwriter.Workbook, st: _Styles, report: Report) -> None:
    ws = wb.add_worksheet("Hinweise")
    ws.set_column(0, 0, 34)
    ws.set_column(1, 1, 100)
    ws.set_column(2, 5, 14)
    ws.write_string(0, 0, TITLE, st.title)
    ws.write_string(1, 0, PROGRAMME, st.text)
    row = 3
    dates = {"Stichtag": report.stichtag, "Datenstand": report.build.datenstand}
    for section, entries in hinweise(report):
        ws.write_string(row, 0, section, st.section)
        ws.write_blank(row, 1, None, st.section)
        row += 1
        for term, text in entries:
            ws.write_string(row, 0, term, st.term)
            if section == "Bericht" and term in dates:
                ws.write_datetime(row, 1, dt.datetime.combine(dates[term], dt.time()), st.date)
            elif section == "Bericht" and term == "Berichtszeitraum":
                ws.write_string(row, 1, text, st.text)
                ws.write_string(row, 2, "von", st.text)
                ws.write_datetime(row, 3, dt.datetime.combine(report.von, dt.time()), st.date)
                ws.write_string(row, 4, "bis", st.text)
                ws.write_datetime(row, 5, dt.datetime.combine(report.bis_effektiv, dt.time()),
                                  st.date)
            else:
                ws.write_string(row, 1, neutralise_formula(text), st.wrap)
            row += 1
        row += 1
    ws.write_string(row, 0, "Eingabedateien (SHA-256)", st.section)
    ws.write_blank(row, 1, None, st.section)
    row += 1
    headers = ("Datei-Art", "SHA-256", "Datei", "Zeilen gelesen", "übernommen", "abgelehnt")
    for j, header in enumerate(headers):
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


def xlsx_bytes(report: Report) -> bytes:
    """The workbook: one sheet per report table plus the sheet "Hinweise"."""
    buffer = io.BytesIO()
    wb = xlsxwriter.Workbook(buffer, {
        "in_memory": True,
        # never turn text into formulas, links or numbers: cells are typed explicitly
        "strings_to_formulas": False, "strings_to_urls": False, "strings_to_numbers": False,
    })
    wb.set_properties({"title": TITLE, "subject": version_text(report), "author": SOURCE,
                       "comments": f"Build {report.build.build_id}"})
    st = _Styles(wb)
    for rt in report.tables.values():
        _xlsx_table(wb, st, rt, report)
    _xlsx_hinweise(wb, st, report)
    wb.close()
    return buffer.getvalue()


# ---- CSV -----------------------------------------------------------------------------------------


def csv_bytes(rt: ReportTable) -> bytes:
    """One report table as German Excel CSV (labels as header; hidden cells as `<3`)."""
    labels = {c.name: c.label_de for c in rt.table.columns}
    hidden = rt.hidden.rename(labels, strict=False) if rt.hidden is not None else None
    return to_excel_csv_bytes(rt.labelled("de"), hidden, SMALL_CELL_TEXT)


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


def csv_files(report: Report) -> dict[str, bytes]:
    """File name → CSV bytes, one per report table."""
    return {file_name(key, report.stichtag, report.public, "csv"): csv_bytes(rt)
            for key, rt in report.tables.items()}


def csv_zip(report: Report, files: Mapping[str, bytes] | None = None) -> bytes:
    """All CSV files plus `hinweise.txt` in one ZIP archive."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, content in (files or csv_files(report)).items():
            zf.writestr(name, content)
        zf.writestr("hinweise.txt", "\ufeff" + hinweise_text(report))
    return buffer.getvalue()


# ---- charts --------------------------------------------------------------------------------------

_render_lock = threading.Lock()
_renderer_ready = False
RENDER_TIMEOUT = 120  # seconds for one image; the first one includes the browser start
IMAGE_WIDTH = 860


def chromium_path() -> str | None:
    """The browser kaleido will use ($BROWSER_PATH, $CHROMIUM, or chromium on the PATH)."""
    for candidate in (os.environ.get("BROWSER_PATH"), os.environ.get("CHROMIUM")):
        if candidate and Path(candidate).exists():
            return candidate
    return shutil.which("chromium") or shutil.which("chromium-browser") or \
        shutil.which("google-chrome")


def plotly_js() -> Path:
    """plotly.js shipped inside the plotly package (no CDN)."""
    import plotly

    return Path(plotly.__file__).parent / "package_data" / "plotly.min.js"


def start_renderer() -> None:
    """Start kaleido's browser once per process (MathJax off, local plotly.js)."""
    global _renderer_ready
    with _render_lock:
        if _renderer_ready:
            return
        browser = chromium_path()
        if browser is None:
            raise RuntimeError("Für Diagramm-Bilder und das PDF wird Chromium benötigt, ist aber "
                               "nicht installiert. Bitte „make browser“ ausführen.")
        os.environ.setdefault("BROWSER_PATH", browser)
        import kaleido

        kaleido.start_sync_server(mathjax=False, plotlyjs=str(plotly_js()),
                                  silence_warnings=True)
        _renderer_ready = True


def _render(fig: go.Figure, image_format: str, scale: float) -> bytes:
    import kaleido

    start_renderer()
    height = int(fig.layout.height or 450)
    opts = {"format": image_format, "width": IMAGE_WIDTH, "height": height, "scale": scale}
    with _render_lock:  # kaleido's server has one queue: one call at a time
        pool = concurrent.futures.ThreadPoolExecutor(1)
        future = pool.submit(kaleido.calc_fig_sync, fig.to_dict(), opts=opts)
        try:
            return future.result(timeout=RENDER_TIMEOUT)  # a dead browser must not hang us
        except concurrent.futures.TimeoutError as exc:
            raise RuntimeError("Das Diagramm konnte nicht gezeichnet werden (Chromium "
                               "antwortet nicht).") from exc
        except Exception as exc:  # kaleido's own errors, e.g. a browser that does not start
            raise RuntimeError(f"Das Diagramm konnte nicht gezeichnet werden: {exc}") from exc
        finally:
            pool.shutdown(wait=False)


def png_bytes(fig: go.Figure) -> bytes:
    return _render(fig, "png", 2)


def svg_bytes(fig: go.Figure) -> bytes:
    data = _render(fig, "svg", 1)
    if not data.lstrip().startswith(b"<?xml"):
        data = b'<?xml version="1.0" encoding="UTF-8" standalone="no"?>\n' + data
    return data


def chart_figure(key: str, report: Report, lang: str = "de") -> go.Figure:
    """The chart as the page shows it."""
    return charts.report_chart(key, chart_data(key, report), lang)


def export_figure(key: str, report: Report) -> go.Figure:
    """The chart as a standalone image: title and Stichtag/data version on the picture."""
    chart = next(c for c in CHARTS if c.key == key)
    fig = go.Figure(chart_figure(key, report, "de"))
    subtitle = version_text(report)
    if report.public:
        subtitle += f" · „{SMALL_CELL_TEXT}“: weniger als 3 Kommunen, nicht dargestellt"
    fig.update_layout(
        title={"text": chart.title_de, "x": 0.01, "xanchor": "left", "font": {"size": 19},
               "subtitle": {"text": subtitle, "font": {"size": 12, "color": "#555555"}}},
        margin={"t": 86, "l": 10, "r": 30, "b": 10},
        height=int(fig.layout.height or 400) + 80,
        font={"size": 14},
        paper_bgcolor="white",
    )
    return fig


@dataclass
class ChartFiles:
    """Rendered charts: PNG per chart key (for the PDF) and all files by name."""

    png: dict[str, bytes] = field(default_factory=dict)
    files: dict[str, bytes] = field(default_factory=dict)


def chart_files(report: Report, keys: Iterable[str] | None = None,
                progress: Progress = lambda _m: None) -> ChartFiles:
    """PNG and SVG of every report chart, named with the Stichtag."""
    result = ChartFiles()
    keys = list(keys or (c.key for c in CHARTS))
    for n, key in enumerate(keys, 1):
        progress(f"Diagramm {n}/{len(keys)}: {key}")
        fig = export_figure(key, report)
        png = png_bytes(fig)
        result.png[key] = png
        result.files[file_name(key, report.stichtag, report.public, "png")] = png
        result.files[file_name(key, report.stichtag, report.public, "svg")] = svg_bytes(fig)
    return result


# ---- PDF -----------------------------------------------------------------------------------------


def _pdf_class():
    from fpdf import FPDF

    class Brief(FPDF):
        footer_text = ""
        font_family_name = "helvetica"

        def footer(self) -> None:
            self.set_y(-12)
            self.set_font(self.font_family_name, size=7)
            self.set_text_color(100)
            self.cell(0, 5, self.footer_text, align="L")
            self.set_x(self.l_margin)
            self.cell(0, 5, f"Seite {self.page_no()} von {{nb}}", align="R")

    return Brief


_FALLBACK = str.maketrans({"≤": "<=", "→": "->", "–": "-", "„": '"', "“": '"', "★": "*"})


def pdf_bytes(report: Report, pngs: Mapping[str, bytes]) -> bytes:
    """The PDF brief (4 pages A4): key figures, charts, definitions, data version."""
    pdf = _pdf_class()(orientation="P", unit="mm", format="A4")
    regular, bold, mono = (FONT_DIR / f for f in
                           ("DejaVuSans.ttf", "DejaVuSans-Bold.ttf", "DejaVuSansMono.ttf"))
    if regular.is_file() and bold.is_file():
        pdf.add_font("dejavu", "", str(regular))
        pdf.add_font("dejavu", "B", str(bold))
        pdf.add_font("dejavumono", "", str(mono if mono.is_file() else regular))
        family, mono_family = "dejavu", "dejavumono"

        def clean(text: str) -> str:
            return text
    else:  # core fonts know only Windows-1252: spell out the few other signs
        family, mono_family = "helvetica", "courier"

        def clean(text: str) -> str:
            return text.translate(_FALLBACK)
    pdf.font_family_name = family
    pdf.footer_text = clean(f"{TITLE} · Stichtag {_d(report.stichtag)} · Build "
                            f"{report.build.build_id}")
    pdf.set_title(clean(TITLE))
    pdf.set_author(clean(SOURCE))
    pdf.set_subject(clean(version_text(report)))
    pdf.set_margins(18, 15, 18)
    pdf.set_auto_page_break(True, margin=16)
    width = pdf.w - pdf.l_margin - pdf.r_margin

    def heading(text: str, size: float = 13) -> None:
        pdf.set_font(family, "B", size)
        pdf.set_text_color(20, 40, 80)
        pdf.multi_cell(width, size * 0.5, clean(text), align="L", new_x="LMARGIN", new_y="NEXT")
        pdf.ln(1.5)
        pdf.set_text_color(0)

    def text(body: str, size: float = 9, colour: int | tuple[int, int, int] = 0,
             style: str = "") -> None:
        pdf.set_font(family, style, size)
        pdf.set_text_color(*(colour if isinstance(colour, tuple) else (colour,)))
        pdf.multi_cell(width, size * 0.45, clean(body), align="L", new_x="LMARGIN",
                       new_y="NEXT")
        pdf.set_text_color(0)

    def chart(key: str, max_height: float) -> None:
        png = pngs.get(key)
        if png is None:
            return
        from PIL import Image

        with Image.open(io.BytesIO(png)) as img:
            ratio = img.height / img.width
        w = min(width, max_height / ratio)
        pdf.image(io.BytesIO(png), x=pdf.l_margin + (width - w) / 2, w=w)
        pdf.ln(3)

    def table(rows: list[list[str]], widths: tuple[float, ...], numeric_from: int = 1) -> None:
        from fpdf.enums import TableCellFillMode
        from fpdf.fonts import FontFace

        pdf.set_font(family, "", 8.5)
        aligns = tuple("LEFT" if j < numeric_from else "RIGHT" for j in range(len(widths)))
        with pdf.table(col_widths=widths, text_align=aligns, line_height=4.6, padding=(0.8, 1.5),
                       headings_style=FontFace(emphasis="BOLD", fill_color=(232, 238, 244)),
                       cell_fill_color=(247, 249, 251), cell_fill_mode=TableCellFillMode.ROWS,
                       borders_layout="HORIZONTAL_LINES", width=width) as t:
            for r in rows:
                t.row([clean(c) for c in r])
        pdf.ln(3)

    def value(rt: ReportTable, column: str, i: int, kind: str) -> str:
        if bool(rt.is_hidden(column)[i]):
            return SMALL_CELL_TEXT
        return _cell_text(rt.frame[column][i], kind) or "–"

    # page 1: key figures
    pdf.add_page()
    text(PROGRAMME, 8.5, 90)
    pdf.ln(1)
    heading("Kennzahlen für den NAP-I", 20)
    text("Nationaler Aktionsplan Integration: Bericht an die Beauftragte der Bundesregierung für "
         "Migration, Flüchtlinge und Integration", 9, 60)
    pdf.ln(2)
    text(version_text(report), 9.5, 40, "B")
    text(f"Build {report.build.build_id} · {edition_text(report)}", 8, 90)
    if report.build.beispieldaten:
        text("Beispieldaten (synthetisch): nicht für die Berichterstattung.", 8.5,
             (170, 80, 0), "B")
    pdf.ln(3)
    headline = headline_text(report, "de")
    table([headline.columns, *(list(r) for r in headline.iter_rows())], (110, 30, 34))
    heading("Kommunen nach Status am Stichtag", 11)
    chart("kommunen_status", 70)

    # page 2: communes and Selbstcheck
    pdf.add_page()
    heading("Teilnehmende Kommunen und Selbstcheck")
    chart("kommunen_bundesland", 110)
    chart("selbstcheck_schritte", 68)
    dauer = report["prozessdauer"]
    rows = [[c.label_de for c in dauer.table.columns]]
    for i in range(dauer.frame.height):
        rows.append([str(dauer.frame["gruppe"][i]),
                     *(value(dauer, c.name, i, c.kind) for c in dauer.table.columns[1:])])
    text(dauer.table.title_de, 9, 0, "B")
    pdf.ln(1)
    table(rows, (44, 20, 20, 20, 20, 24, 26))

    # page 3: events
    pdf.add_page()
    heading("Veranstaltungen und Teilnehmende")
    chart("veranstaltungen_modul", 82)
    chart("teilnehmende_sektor", 82)
    dv = report["dialog_vernetzung"]
    text(dv.table.title_de, 9, 0, "B")
    pdf.ln(1)
    rows = [["Modul", "Format", "Veranst.", "übergreifend", "Kommunen", "Teilnehmende"]]
    for i in range(dv.frame.height):
        rows.append([str(dv.frame["modul"][i]), str(dv.frame["format"][i]),
                     value(dv, "veranstaltungen", i, "int"),
                     value(dv, "kommunenuebergreifend", i, "int"),
                     value(dv, "kommunen", i, "int"), value(dv, "teilnehmende", i, "int")])
    if dv.frame.height == 0:
        rows.append(["–", "keine Veranstaltungen im Zeitraum", "", "", "", ""])
    table(rows, (14, 52, 22, 26, 24, 36), numeric_from=2)

    # page 4: definitions and data version
    pdf.add_page()
    heading("Definitionen")
    for term, body in RULES_DE:
        pdf.set_font(family, "B", 8)
        pdf.multi_cell(width, 3.6, clean(term), new_x="LMARGIN", new_y="NEXT")
        text(body, 8)
        pdf.ln(0.8)
    pdf.ln(1)
    text("Alle Definitionen je Spalte stehen im Blatt „Hinweise“ der XLSX-Datei.", 8, 90)
    pdf.ln(2)
    heading("Datenversion", 11)
    text(f"Build {report.build.build_id}, Datenbank erstellt am "
         f"{report.build.erstellt_am:%d.%m.%Y %H:%M}, Datenstand {_d(report.build.datenstand)}; "
         f"Bericht erstellt am {report.erstellt_am:%d.%m.%Y %H:%M}.", 8)
    pdf.ln(1)
    for entry in input_files(report).iter_rows(named=True):
        pdf.set_font(family, "", 7.5)
        pdf.cell(38, 3.6, clean(f"{entry['datei']}"))
        pdf.set_font(mono_family, "", 7)
        pdf.cell(0, 3.6, f"SHA-256 {entry['sha256']}", new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output())


# ---- everything at once --------------------------------------------------------------------------


@dataclass
class ExportResult:
    """Files written and seconds per step (`xlsx`, `csv`, `charts`, `pdf`, `total`)."""

    files: list[Path]
    seconds: dict[str, float]


def _write(path: Path, content: bytes) -> Path:
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_bytes(content)
    os.replace(tmp, path)  # a scheduled run never leaves a half-written file behind
    return path


def export_all(report: Report, out_dir: Path, progress: Progress = lambda _m: None
               ) -> ExportResult:
    """Write XLSX, CSV files and ZIP, PNG/SVG charts and the PDF brief into `out_dir`."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    files: list[Path] = []
    seconds: dict[str, float] = {}
    started = time.perf_counter()

    t = time.perf_counter()
    name = file_name("kennzahlen", report.stichtag, report.public, "xlsx")
    files.append(_write(out_dir / name, xlsx_bytes(report)))
    seconds["xlsx"] = time.perf_counter() - t
    progress(f"XLSX: {name} ({seconds['xlsx']:.1f} s)")

    t = time.perf_counter()
    csvs = csv_files(report)
    files += [_write(out_dir / n, content) for n, content in csvs.items()]
    name = file_name("kennzahlen_csv", report.stichtag, report.public, "zip")
    files.append(_write(out_dir / name, csv_zip(report, csvs)))
    seconds["csv"] = time.perf_counter() - t
    progress(f"CSV: {len(csvs)} Tabellen und {name} ({seconds['csv']:.1f} s)")

    t = time.perf_counter()
    rendered = chart_files(report, progress=lambda m: progress(f"  {m}"))
    files += [_write(out_dir / n, content) for n, content in rendered.files.items()]
    seconds["charts"] = time.perf_counter() - t
    progress(f"Diagramme: {len(rendered.files)} Dateien PNG/SVG ({seconds['charts']:.1f} s)")

    t = time.perf_counter()
    name = file_name("kurzbericht", report.stichtag, report.public, "pdf")
    files.append(_write(out_dir / name, pdf_bytes(report, rendered.png)))
    seconds["pdf"] = time.perf_counter() - t
    progress(f"PDF: {name} ({seconds['pdf']:.1f} s)")

    seconds["total"] = time.perf_counter() - started
    return ExportResult(files, seconds)
