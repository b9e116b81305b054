"""Accessible PDFs (PDF/UA-1): the report brief and the council brief are tagged documents —
structure tree with tables, header cells and figures, alt text from the chart data, document
language and title, XMP PDF/UA identification, every font embedded — and hostile text stays
text (no link, no script, no picture)."""

from __future__ import annotations

import datetime as dt
import io
import re

import pikepdf
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image
from pypdf import PdfReader

from dashboard import data, ratsbrief
from dashboard.i18n import value
from dashboard.report import charts as report_charts
from dashboard.report import definitions as rd
from dashboard.report import notes
from dashboard.report import pdf as report_pdf
from dashboard.store import demo_handlungsplan, handlungsplan
from dashboard.store.__main__ import demo_handlungsplan_inputs
from etl.build import build
from tests.cohort import KOMMUNEN, write_cohort
from tests.dashboard.test_i18n import german_texts

HOSTILE = ("=SUM(1)", "<script>alert(1)</script>", "![x](http://evil/x.png)")
FIELD = "Zusammenhalt und Begegnung"
STICHTAG = dt.date(2021, 12, 31)


@pytest.fixture(scope="module")
def report_doc(demo_db) -> tuple[rd.Report, bytes]:
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("WK_DB", str(demo_db))
        report = data.load_report(data.STAFF, rd.PROGRAMMSTART, STICHTAG, STICHTAG)
    rendered = report_charts.chart_files(report)
    return report, report_pdf.pdf_bytes(report, rendered.png)


@pytest.fixture(scope="module")
def english_doc(report_doc) -> tuple[rd.Report, bytes, dict[str, bytes]]:
    """The same report as an English brief with the English chart pictures."""
    report, _ = report_doc
    pngs = report_charts.chart_files(report, lang="en").png
    return report, report_pdf.pdf_bytes(report, pngs, "en"), pngs


@pytest.fixture
def council_doc(use_db, demo_db) -> tuple[str, bytes]:
    """The council brief of a demo commune whose measures carry hostile titles."""
    use_db(demo_db)
    assert demo_handlungsplan.seed(*demo_handlungsplan_inputs(data))
    own = data.priorities(data.STAFF)["kommune_id"].unique(maintain_order=True).to_list()[0]
    viewer = data.Viewer("kommune", own)
    for n, text in enumerate(HOSTILE):
        handlungsplan.save_measure(viewer, "k", own, FIELD, text,
                                   faellig=dt.date(2022, 9, 30 - n))
    return own, ratsbrief.pdf_bytes(ratsbrief.collect(viewer, own))


def _elements(pdf: pikepdf.Pdf) -> list[pikepdf.Dictionary]:
    """Every structure element under /StructTreeRoot (depth first)."""
    out, todo = [], [pdf.Root.StructTreeRoot]
    while todo:
        node = todo.pop()
        if not isinstance(node, pikepdf.Dictionary):
            continue
        if "/S" in node:
            out.append(node)
        kids = node.get("/K")
        if isinstance(kids, pikepdf.Array):
            todo.extend(reversed(list(kids)))
        elif kids is not None:
            todo.append(kids)
    return out


def _fonts(pdf: pikepdf.Pdf) -> list[pikepdf.Dictionary]:
    seen = {}
    for page in pdf.pages:
        for font in page.Resources.get("/Font", {}).values():
            seen[font.objgen] = font
    return list(seen.values())


def _check_pdfua(content: bytes, title: str, lang: str = "de-DE") -> list[pikepdf.Dictionary]:
    """The PDF/UA-1 properties every document must have; returns its structure elements."""
    with pikepdf.open(io.BytesIO(content)) as pdf:
        root = pdf.Root
        assert root.MarkInfo.Marked is True
        assert str(root.Lang) == lang
        assert root.ViewerPreferences.DisplayDocTitle is True
        assert str(pdf.docinfo.Title) == title
        with pdf.open_metadata() as meta:
            assert meta.get("pdfuaid:part") == "1"
            assert meta.get("dc:title") == title
        fonts = _fonts(pdf)
        assert fonts
        for font in fonts:
            descendants = font.get("/DescendantFonts", [font])
            for part in descendants:
                descriptor = part.FontDescriptor
                assert any(k in descriptor for k in ("/FontFile", "/FontFile2", "/FontFile3")), \
                    str(font.get("/BaseFont"))
        elements = _elements(pdf)
        kinds = [str(e.S) for e in elements]
        assert kinds[0] == "/Document"
        assert {"/H1", "/Table", "/THead", "/TBody", "/TR", "/TH", "/TD"} <= set(kinds)
        # header cells are linked to data cells by /ID and /Headers (PDF/UA: 7.5)
        header_ids = {str(e.ID) for e in elements if str(e.S) == "/TH"}
        assert len(header_ids) == kinds.count("/TH")
        for td in (e for e in elements if str(e.S) == "/TD"):
            headers = {str(h) for h in td.A.Headers}
            assert headers and headers <= header_ids
        # every tagged content piece belongs to an element of the tree (the running footer is
        # marked as artifact instead)
        reachable = {e.objgen for e in elements}
        nums = root.StructTreeRoot.ParentTree.Nums
        for i in range(0, len(nums), 2):
            refs = nums[i + 1]
            if isinstance(refs, pikepdf.Array):
                assert all(r.objgen in reachable for r in refs if r is not None)
        artifacts = sum(
            1 for page in pdf.pages for operands, op in pikepdf.parse_content_stream(page)
            if str(op) == "BMC" and operands and operands[0] == pikepdf.Name.Artifact)
        assert artifacts >= 2 * len(pdf.pages)  # at least footer text and page number
        for annots in (p.get("/Annots", []) for p in pdf.pages):
            assert list(annots) == []
        assert "/OpenAction" not in root and "/AA" not in root
        names = root.get("/Names", {})
        assert "/JavaScript" not in names
        # work on copies of the needed values before the file closes
        return [pikepdf.Dictionary({"/S": e.S, "/Alt": e.get("/Alt", "")}) for e in elements]


def _text(content: bytes) -> str:
    return "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(content)).pages)


# ---- the report brief ----------------------------------------------------------------------------


def test_report_pdf_is_tagged_pdfua_with_alt_text_from_chart_data(report_doc):
    report, content = report_doc
    elements = _check_pdfua(content, notes.TITLE)
    figures = [e for e in elements if str(e.S) == "/Figure"]
    assert len(figures) == len(rd.CHARTS)
    alts = [str(f.Alt) for f in figures]
    for chart, alt in zip(rd.CHARTS, alts, strict=True):
        assert alt.startswith(f"Diagramm „{chart.title_de}“")
        assert alt == report_pdf.chart_alt(chart.key, report)
    # the status chart's alt text carries every bar's value as the table has it
    status = rd.chart_data("kommunen_status", report)
    labels = [c.label_de for c in status.table.columns if c.name in ("status", "kommunen")]
    assert status.frame.height >= 5
    for name, count in status.frame.iter_rows():
        assert f"{labels[0]}: {name}, {labels[1]}: {count}" in alts[0]
    assert "Stichtag 31.12.2021" in alts[0]


def test_report_pdf_alt_text_shows_hidden_cells_as_x(demo_db, monkeypatch):
    monkeypatch.setenv("WK_DB", str(demo_db))
    public = data.load_report(data.STAFF, rd.PROGRAMMSTART, STICHTAG, STICHTAG, public=True)
    data_ = rd.chart_data("kommunen_bundesland", public)
    hidden = [i for i in range(data_.frame.height) if data_.marker("teilnehmend", i)]
    assert hidden, "the demo public edition hides at least one Land"
    alt = report_pdf.chart_alt("kommunen_bundesland", public)
    for i in hidden:
        assert f"{data_.frame['auspraegung'][i]}, " in alt
        label = next(c.label_de for c in data_.table.columns if c.name == "teilnehmend")
        assert f"{data_.frame['auspraegung'][i]}, {label}: x" in alt


def test_report_pdf_embeds_each_chart_once(report_doc):
    _, content = report_doc
    with pikepdf.open(io.BytesIO(content)) as pdf:
        images = {obj.objgen for page in pdf.pages
                  for obj in page.Resources.get("/XObject", {}).values()
                  if obj.get("/Subtype") == "/Image"}
    assert len(images) == len(rd.CHARTS)


# The German words an English brief must not show: every German data value that has an English
# text of its own, and the brief's own German labels (case-sensitive, so the programme's name
# "Weltoffene Kommune" and file names like kommunen.csv do not count)
GERMAN_LABELS = ("Stichtag", "Datenstand", "Berichtszeitraum", "Kommunen", "Teilnehmende",
                 "Veranstaltungen", "Quartal", "Zeitraum", "Seite", "Diagramm", "Gruppe",
                 "Modul ", "Definitionen", "Kennzahl", "Fassung", "erstellt", "abgeschlossen",
                 "laufend", "Monate", "Beispieldaten", "Bundesland", "davon", "keine")


def _german_in(text: str) -> list[str]:
    flat = " ".join(text.split())
    words = set(re.findall(r"[\wÄÖÜäöüß*-]+", flat))
    return sorted({g for g in german_texts() if (g in words if " " not in g else g in flat)}
                  | {w for w in GERMAN_LABELS if w in flat})


def test_english_report_pdf_is_english_and_still_tagged(english_doc):
    report, content, _ = english_doc
    elements = _check_pdfua(content, notes.TITLE_EN, lang="en")
    text = _text(content)
    assert not _german_in(text), _german_in(text)
    assert not re.search("[äöüßÄÖÜ]", text), re.findall(r"\S*[äöüßÄÖÜ]\S*", text)
    assert "Key figures for the NAP-I" in text and "Page 1 of 4" in text
    assert "Cut-off date 31 Dec 2021" in text and "31.12.2021" not in text
    # numbers and dates from CLDR for English: thousands comma, decimal point
    inhabitants = report.figure("einwohner_erreicht")[0]
    assert inhabitants >= 1000 and f"{inhabitants:,}" in text
    assert re.search(r"Median track duration \(months\) \d+\.\d", text)
    # the headline rows carry the English labels
    for figure in rd.FIGURES:
        if report.figure(figure.key)[0] is not None:
            assert " ".join(figure.label("en").split()) in " ".join(text.split())
    # status, group and format rows in English
    for group in report["prozessdauer"].frame["gruppe"]:
        assert " ".join(value("en", "dauergruppe", group).split()) in " ".join(text.split())
    for form in report["dialog_vernetzung"].frame["format"]:
        assert value("en", "format", form) in text
    figures = [e for e in elements if str(e.S) == "/Figure"]
    assert len(figures) == len(rd.CHARTS)
    for chart, fig in zip(rd.CHARTS, figures, strict=True):
        alt = str(fig.Alt)
        assert alt == report_pdf.chart_alt(chart.key, report, "en")
        assert alt.startswith(f"Chart “{chart.title_en}” (Cut-off date 31 Dec 2021 · ")
        assert not _german_in(alt), (chart.key, _german_in(alt))
    status = rd.chart_data("kommunen_status", report)
    alt = str(figures[0].Alt)
    for name, count in status.frame.iter_rows():
        assert f"Status: {value('en', 'status', name)}, Communes: {count:,}" in alt


def test_english_report_pdf_embeds_the_english_charts(english_doc, report_doc):
    report, content, pngs = english_doc
    _, german = report_doc
    with pikepdf.open(io.BytesIO(content)) as pdf:
        images = {obj.objgen: obj for page in pdf.pages
                  for obj in page.Resources.get("/XObject", {}).values()
                  if obj.get("/Subtype") == "/Image"}
        sizes = sorted((int(o.Width), int(o.Height)) for o in images.values())
        english = sorted(Image.open(io.BytesIO(p)).size for p in pngs.values())
        assert sizes == english
        data_en = {bytes(o.read_bytes()) for o in images.values()}
    with pikepdf.open(io.BytesIO(german)) as pdf:
        data_de = {bytes(o.read_bytes()) for page in pdf.pages
                   for o in page.Resources.get("/XObject", {}).values()
                   if o.get("/Subtype") == "/Image"}
    assert not data_en & data_de  # not one German picture in the English brief


def test_german_report_pdf_stays_german(report_doc):
    report, content = report_doc
    text = _text(content)
    assert "Kennzahlen für den NAP-I" in text and "Seite 1 von 4" in text
    assert "Stichtag 31.12.2021" in text and "Key figures" not in text
    assert report_pdf.chart_alt("kommunen_status", report) == \
        report_pdf.chart_alt("kommunen_status", report, "de")


def test_english_alt_text_shows_hidden_cells_as_x(demo_db, monkeypatch):
    monkeypatch.setenv("WK_DB", str(demo_db))
    public = data.load_report(data.STAFF, rd.PROGRAMMSTART, STICHTAG, STICHTAG, public=True)
    data_ = rd.chart_data("kommunen_bundesland", public)
    alt = report_pdf.chart_alt("kommunen_bundesland", public, "en")
    hidden = [i for i in range(data_.frame.height) if data_.marker("teilnehmend", i)]
    assert hidden
    label = next(c.label_en for c in data_.table.columns if c.name == "teilnehmend")
    for i in hidden:
        land = value("en", "bundesland", data_.frame["auspraegung"][i])
        assert f"{land}, {label}: x" in alt
    assert not _german_in(alt), _german_in(alt)


# ---- the council brief ---------------------------------------------------------------------------


def test_council_brief_is_tagged_pdfua(council_doc):
    own, content = council_doc
    name = data.kommune_names()[own]
    elements = _check_pdfua(content, f"Sachstand für den Rat – {name}")
    kinds = [str(e.S) for e in elements]
    # Zeitplan, Maßnahmen, Module, Einordnung (WeasyPrint tags a table split by a page break as
    # one Table element per page)
    assert kinds.count("/Table") >= 4
    assert "/L" in kinds and "/LI" in kinds
    assert kinds.count("/H2") == 6 and kinds.count("/H1") == 1


def test_english_council_brief_is_english_and_tagged(use_db, demo_db):
    """Reachable from the English profile page: the brief is English, data values too."""
    use_db(demo_db)
    assert demo_handlungsplan.seed(*demo_handlungsplan_inputs(data))
    own = data.priorities(data.STAFF)["kommune_id"].unique(maintain_order=True).to_list()[0]
    brief = ratsbrief.collect(data.Viewer("kommune", own), own, "en")
    assert ratsbrief.file_stem(brief) == f"sachstand_rat_{own}_en"
    content = ratsbrief.pdf_bytes(brief)
    name = data.kommune_names()[own]
    elements = _check_pdfua(content, f"Status report for the council – {name}", lang="en")
    kinds = [str(e.S) for e in elements]
    assert kinds.count("/H2") == 6 and kinds.count("/Table") >= 4
    text = _text(content).replace(name, "")
    assert not _german_in(text), _german_in(text)
    assert "Timeline: plan and state" in text and "Data as of" in text
    measures = handlungsplan.measures(data.STAFF, own)
    assert measures.height
    for m in measures.iter_rows(named=True):  # user text stays as entered, values translated
        assert m["titel"] in text
    for row in brief.zeitplan:
        assert row[3] in {"planned", "reached", "reached late", "overdue", "dropped"}
    german = ratsbrief.collect(data.Viewer("kommune", own), own)
    assert german.zeitplan[0][0] == data.own_profile(
        data.STAFF, own, "").milestones["meilenstein"][0]


def test_hostile_text_in_council_brief_is_printed_as_text(council_doc):
    _, content = council_doc
    text = _text(content)
    for hostile in HOSTILE:
        assert hostile in text
    with pikepdf.open(io.BytesIO(content)) as pdf:
        assert not any(p.get("/Annots") for p in pdf.pages)
        images = [obj for page in pdf.pages
                  for obj in page.Resources.get("/XObject", {}).values()]
        assert images == []
        raw = b"".join(bytes(o.read_bytes()) if isinstance(o, pikepdf.Stream) else b""
                       for o in pdf.objects)
    assert b"/JavaScript" not in raw and b"/URI" not in raw and b"/Launch" not in raw


HOSTILE_NAME = "=SUM(1) <script>alert(1)</script> ![x](http://evil/x.png)"


@pytest.fixture(scope="module")
def hostile_name_db(tmp_path_factory) -> object:
    """The cohort with a commune named like an attack on spreadsheets, HTML and Markdown."""
    base = tmp_path_factory.mktemp("hostile_name")
    out = base / "hostile.duckdb"
    build(write_cohort(base / "input", kommunen=KOMMUNEN.replace(
        "01001000;Flensburg;", f"01001000;{HOSTILE_NAME};")), out)
    return out


@pytest.mark.parametrize(("lang", "title", "doc_lang"),
                         [("de", "Sachstand für den Rat", "de-DE"),
                          ("en", "Status report for the council", "en")])
def test_hostile_commune_name_is_printed_as_text(use_db, hostile_name_db, lang, title, doc_lang):
    """The commune's own brief as the attacker: the name is text, never a link or picture."""
    use_db(hostile_name_db)
    assert data.kommune_names()["01001000"] == HOSTILE_NAME
    viewer = data.Viewer("kommune", "01001000")
    content = ratsbrief.pdf_bytes(ratsbrief.collect(viewer, "01001000", lang))
    _check_pdfua(content, f"{title} – {HOSTILE_NAME}", lang=doc_lang)
    text = " ".join(_text(content).split())
    assert text.count(HOSTILE_NAME) >= 2  # heading line and footer
    with pikepdf.open(io.BytesIO(content)) as pdf:
        assert not any(p.get("/Annots") for p in pdf.pages)
        assert not any(page.Resources.get("/XObject") for page in pdf.pages)
        raw = b"".join(bytes(o.read_bytes()) if isinstance(o, pikepdf.Stream) else b""
                       for o in pdf.objects)
    assert b"/URI" not in raw and b"/JavaScript" not in raw


def test_render_escapes_title_footer_and_cells():
    """`render` as the attacker: markup in title, footer, table and list stays text."""
    evil = '</style><script>alert(1)</script>"\\ ![x](http://evil/x.png) =SUM(1)'
    png = io.BytesIO()
    Image.new("RGB", (20, 10), "white").save(png, format="PNG")
    content = report_pdf.render(
        f"Titel {evil}",
        "<h1>Überschrift</h1>" + report_pdf.table(("Name", "Wert"), [(evil, 1)], caption=evil)
        + report_pdf.bullets([evil]) + report_pdf.figure(png.getvalue(), evil, 20),
        footer=f"Fuß {evil}")
    elements = _check_pdfua(content, f"Titel {evil}")
    assert [str(e.Alt) for e in elements if str(e.S) == "/Figure"] == [evil]  # alt text as is
    text = _text(content)
    assert text.count("<script>alert(1)</script>") == 4  # caption, cell, list item, footer
    assert re.search(r"Fuß </style><script>alert\(1\)</script>\"\\ !\[x\]", text)
    with pikepdf.open(io.BytesIO(content)) as pdf:
        assert not any(p.get("/Annots") for p in pdf.pages)
        images = {o.objgen for page in pdf.pages
                  for o in page.Resources.get("/XObject", {}).values()}
        assert len(images) == 1  # the one picture given, nothing fetched for the evil URL


@settings(max_examples=12, deadline=None)
@given(cell=st.text(alphabet="<>&\"'=![]()/:;{}\\äöüßÄÖÜ€ abcXYZ019-", min_size=1,
                    max_size=30).filter(str.strip))
def test_any_cell_text_comes_out_as_the_same_text(cell):
    content = report_pdf.render("Eigenschaft", "<h1>Tabelle</h1>" + report_pdf.table(
        ("Spalte",), [(cell,)]) + report_pdf.bullets([cell]))
    text = "".join(_text(content).split())
    assert text.count("".join(cell.split())) >= 2  # cell and list item, no markup made of it
    with pikepdf.open(io.BytesIO(content)) as pdf:
        assert not any(p.get("/Annots") for p in pdf.pages)
        assert not any(page.Resources.get("/XObject") for page in pdf.pages)


def test_render_fetches_nothing_from_the_network(monkeypatch):
    """A picture address other than `data:` is refused before any connection is tried."""
    import socket

    def no_network(*_a, **_k):
        raise AssertionError("network access")

    monkeypatch.setattr(socket, "create_connection", no_network)
    monkeypatch.setattr(socket.socket, "connect", no_network)
    content = report_pdf.render(
        "Bild", '<h1>Bild</h1><img src="http://evil.example/x.png" alt="x">'
                '<img src="file:///etc/passwd" alt="y">')
    with pikepdf.open(io.BytesIO(content)) as pdf:
        assert not any(page.Resources.get("/XObject") for page in pdf.pages)


