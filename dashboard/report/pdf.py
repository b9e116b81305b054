"""The PDF brief of a report (fpdf2, DejaVu font): key figures, charts, definitions, version."""

from __future__ import annotations

import io
import os
from collections.abc import Mapping
from pathlib import Path

from dashboard.report.definitions import (
    RULES_DE,
    Report,
    ReportTable,
    headline_text,
)
from dashboard.report.notes import (
    PROGRAMME,
    SOURCE,
    TITLE,
    _d,
    cell_text,
    edition_text,
    input_files,
    version_text,
)

FONT_DIR = Path(os.environ.get("WK_FONT_DIR", "/usr/share/fonts/truetype/dejavu"))


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
            return rt.marker(column, i)
        return cell_text(rt.frame[column][i], kind) or "–"

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
    if report.protection is not None:
        text(report.protection.text("de"), 8, 90)
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
