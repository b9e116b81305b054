"""Tagged, accessible PDFs (PDF/UA-1) from semantic HTML, and the PDF brief of a report.

WeasyPrint lays out the HTML (headings, tables with `th scope`, lists, figures with alt text)
and writes a tagged PDF: structure tree, document language (de-DE or en), title shown by the
viewer, XMP `pdfuaid:part = 1`, every font embedded (the DejaVu files of `FONT_DIR`, Debian's
fonts-dejavu-core, installed by `make browser`). Nothing is fetched from the network: pictures
come as `data:` URIs, fonts as files of `FONT_DIR`, every other URL is refused.

Every text from data goes through `esc` (HTML escaping), so a name like `<script>` or
`![x](http://evil/x.png)` is printed as text and never becomes markup, a link or a picture.
"""

from __future__ import annotations

import base64
import html
import io
import os
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

import polars as pl

from dashboard.report.definitions import (
    CHART_BY_KEY,
    RULES_DE,
    RULES_EN,
    Report,
    ReportTable,
    chart_data,
    headline_text,
)
from dashboard.report.notes import (
    SOURCE,
    _d,
    cell_text,
    edition_text,
    input_files,
    programme,
    source,
    stamp,
    title,
    version_text,
    words,
)

FONT_DIR = Path(os.environ.get("WK_FONT_DIR", "/usr/share/fonts/truetype/dejavu"))
_FONTS = (("DejaVu Sans", "normal", "DejaVuSans.ttf"),
          ("DejaVu Sans", "bold", "DejaVuSans-Bold.ttf"),
          ("DejaVu Sans Mono", "normal", "DejaVuSansMono.ttf"))

_CSS = """
@page { size: A4; margin: 15mm 18mm 17mm 18mm;
  @bottom-left { content: "%(footer)s"; font-size: 7pt; color: #646464; }
  @bottom-right { content: %(page)s; font-size: 7pt;
                  color: #646464; } }
html { font-family: "DejaVu Sans", "Liberation Sans", sans-serif; font-size: 9pt;
       line-height: 1.35; color: #000; }
h1 { font-size: 20pt; color: #142850; margin: 1mm 0 2mm; line-height: 1.15; }
h2 { font-size: 13pt; color: #142850; margin: 4mm 0 1.5mm; break-after: avoid; }
h3 { font-size: 11pt; color: #142850; margin: 3mm 0 1.5mm; break-after: avoid; }
p { margin: 0 0 1.2mm; }
.small { font-size: 8pt; } .muted { color: #5a5a5a; } .strong { font-weight: bold; }
.warn { color: #aa5000; font-weight: bold; }
.page { break-before: page; }
table { border-collapse: collapse; width: 100%%; margin: 1mm 0 3mm; font-size: 8.5pt; }
caption { text-align: left; font-weight: bold; font-size: 9pt; padding-bottom: 1mm;
          caption-side: top; }
thead { display: table-header-group; }
tr { break-inside: avoid; }
th, td { padding: 0.8mm 1.5mm; text-align: left; vertical-align: top;
         border-bottom: 0.2mm solid #c8d0da; }
thead th { background: #e8eef4; font-weight: bold; }
tbody tr:nth-child(even) { background: #f7f9fb; }
tbody th { font-weight: normal; }
.num { text-align: right; }
figure { margin: 0 0 3mm; text-align: center; }
figure img { max-width: 100%%; height: auto; }
ul { margin: 0 0 2mm; padding-left: 5mm; }
dl { margin: 0; } dt { font-weight: bold; font-size: 8pt; margin-top: 1mm; }
dd { margin: 0 0 0.8mm; font-size: 8pt; }
.mono { font-family: "DejaVu Sans Mono", monospace; font-size: 7pt; }
"""


def esc(text: object) -> str:
    """Text from data as HTML text (never markup)."""
    return html.escape("" if text is None else str(text), quote=True)


def _css_string(text: str) -> str:
    """Text inside a CSS string of the `<style>` element: everything but letters, digits and a
    few signs as CSS escapes (so neither `"` nor `</style>` can end it)."""
    return "".join(c if c.isalnum() or c in " .,:;·–-_()" else f"\\{ord(c):x} " for c in text)


def _font_faces() -> str:
    faces = []
    for family, weight, name in _FONTS:
        path = FONT_DIR / name
        if path.is_file():
            faces.append(f'@font-face {{ font-family: "{family}"; font-weight: {weight}; '
                         f'src: url("{path.resolve().as_uri()}"); }}')
    return "\n".join(faces)


def table(header: Sequence[str], rows: Iterable[Sequence[object]], *, caption: str = "",
          numeric_from: int | None = None, row_headers: bool = False) -> str:
    """A data table: header cells `th scope="col"`, optionally the first cell of each row
    `th scope="row"`; columns from `numeric_from` on are right-aligned."""
    rows = [list(r) for r in rows] or [["–"] * len(header)]

    def cls(j: int) -> str:
        return ' class="num"' if numeric_from is not None and j >= numeric_from else ""

    head = "".join(f'<th scope="col"{cls(j)}>{esc(h)}</th>' for j, h in enumerate(header))
    body = []
    for row in rows:
        cells = []
        for j, value in enumerate(row):
            if j == 0 and row_headers:
                cells.append(f'<th scope="row">{esc(value)}</th>')
            else:
                cells.append(f"<td{cls(j)}>{esc(value)}</td>")
        body.append(f"<tr>{''.join(cells)}</tr>")
    cap = f"<caption>{esc(caption)}</caption>" if caption else ""
    return (f"<table>{cap}<thead><tr>{head}</tr></thead>"
            f"<tbody>{''.join(body)}</tbody></table>")


def bullets(lines: Iterable[str]) -> str:
    return "<ul>" + "".join(f"<li>{esc(line)}</li>" for line in lines) + "</ul>"


def figure(png: bytes, alt: str, max_height_mm: float) -> str:
    """A picture with its alternative text (the PDF's /Alt)."""
    src = "data:image/png;base64," + base64.b64encode(png).decode("ascii")
    return (f'<figure><img src="{src}" alt="{esc(alt)}" '
            f'style="max-height: {max_height_mm}mm; width: auto; max-width: 100%"></figure>')


def render(title: str, body: str, footer: str = "", author: str = SOURCE,
           subject: str = "", lang: str = "de") -> bytes:
    """A tagged PDF/UA-1 document (A4) in `lang` (German `de-DE`, English `en`) from an HTML
    body."""
    from weasyprint import HTML
    from weasyprint.urls import URLFetcher

    fonts = FONT_DIR.resolve()

    class OfflineFetcher(URLFetcher):
        """`data:` URIs and the font files; every other URL is refused."""

        def fetch(self, url, headers=None):
            if url.startswith("data:"):
                return super().fetch(url, headers)
            if url.startswith("file:"):
                path = Path(url.removeprefix("file://")).resolve()
                if path.parent == fonts and path.suffix == ".ttf":
                    return super().fetch(url, headers)
            raise ValueError(f"Adresse nicht erlaubt: {url[:60]}")

    meta = (f'<meta name="author" content="{esc(author)}">'
            + (f'<meta name="description" content="{esc(subject)}">' if subject else ""))
    css = _CSS % {"footer": _css_string(footer), "page": _words(lang)["page"]}
    document = (f'<!DOCTYPE html><html lang="{"de-DE" if lang == "de" else "en"}"><head>'
                f'<meta charset="utf-8"><title>{esc(title)}</title>{meta}'
                f"<style>{_font_faces()}{css}</style>"
                f"</head><body>{body}</body></html>")
    content = HTML(string=document, url_fetcher=OfflineFetcher(allowed_protocols={"data", "file"})
                   ).write_pdf(pdf_variant="pdf/ua-1", uncompressed_pdf=False)
    return _margin_text_as_artifact(content)


def _margin_text_as_artifact(content: bytes) -> bytes:
    """Mark the running footer (CSS margin boxes) as pagination artifact.

    WeasyPrint tags the text of margin boxes with marked-content ids whose structure elements it
    leaves out of the tree (orphans); PDF/UA wants such text either in the tree or marked as
    `/Artifact`. Here each marked-content sequence whose element is not reachable from the
    structure tree becomes `/Artifact BMC`, and its parent-tree entry is cleared."""
    import pikepdf

    with pikepdf.open(io.BytesIO(content)) as pdf:
        tree = pdf.Root.StructTreeRoot
        reachable, todo = set(), [tree]
        while todo:
            node = todo.pop()
            if isinstance(node, pikepdf.Dictionary):
                if node.is_indirect:
                    reachable.add(node.objgen)
                kids = node.get("/K")
                if isinstance(kids, pikepdf.Array):
                    todo.extend(kids)
                elif kids is not None:
                    todo.append(kids)
        nums = tree.ParentTree.Nums
        for i in range(0, len(nums), 2):
            refs = nums[i + 1]
            if not isinstance(refs, pikepdf.Array):
                continue  # an annotation's entry
            orphans = {mcid for mcid, ref in enumerate(refs)
                       if isinstance(ref, pikepdf.Dictionary) and ref.objgen not in reachable}
            if not orphans:
                continue
            page = pdf.pages[int(nums[i])]
            ops = []
            for operands, operator in pikepdf.parse_content_stream(page):
                props = operands[1] if len(operands) == 2 else None
                if (str(operator) == "BDC" and isinstance(props, pikepdf.Dictionary)
                        and int(props.get("/MCID", -1)) in orphans):
                    ops.append(([pikepdf.Name.Artifact], pikepdf.Operator("BMC")))
                else:
                    ops.append((operands, operator))
            page.Contents = pdf.make_stream(pikepdf.unparse_content_stream(ops))
            for mcid in orphans:
                refs[mcid] = None
        out = io.BytesIO()
        pdf.save(out, compress_streams=True)
    return out.getvalue()


# ---- the report brief ----------------------------------------------------------------------------

# The brief's own words per language (the tables' labels, titles and rules come from definitions)
WORDS: dict[str, dict[str, str]] = {
    "de": {
        "heading": "Kennzahlen für den NAP-I",
        "addressee": ("Nationaler Aktionsplan Integration: Bericht an die Beauftragte der "
                      "Bundesregierung für Migration, Flüchtlinge und Integration"),
        "sample": "Beispieldaten (synthetisch): nicht für die Berichterstattung.",
        "headline": "Kennzahlen am Stichtag",
        "communes": "Teilnehmende Kommunen und Selbstcheck",
        "events": "Veranstaltungen und Teilnehmende",
        "no_events": "keine Veranstaltungen im Zeitraum",
        "events_header": "Modul|Format|Veranst.|übergreifend|Kommunen|Teilnehmende",
        "definitions": "Definitionen",
        "all_definitions": ("Alle Definitionen je Spalte stehen im Blatt „Hinweise“ der "
                            "XLSX-Datei."),
        "version": "Datenversion",
        "version_text": ("Build {build}, Datenbank erstellt am {built}, Datenstand {datenstand}; "
                         "Bericht erstellt am {made}."),
        "chart": "Diagramm „{title}“ ({version}). Werte: {values}.",
        "no_values": "keine Werte im Zeitraum",
        "page": '"Seite " counter(page) " von " counter(pages)',
    },
    "en": {
        "heading": "Key figures for the NAP-I",
        "addressee": ("National Action Plan on Integration: report to the Federal Government "
                      "Commissioner for Migration, Refugees and Integration"),
        "sample": "Sample data (synthetic): not for reporting.",
        "headline": "Key figures on the cut-off date",
        "communes": "Participating communes and self-check",
        "events": "Events and participants",
        "no_events": "no events in the period",
        "events_header": "Module|Format|Events|inter-communal|Communes|Participants",
        "definitions": "Definitions",
        "all_definitions": "Every column's definition is in the sheet “Notes” of the XLSX file.",
        "version": "Data version",
        "version_text": ("Build {build}, database built on {built}, data as of {datenstand}; "
                         "report made on {made}."),
        "chart": "Chart “{title}” ({version}). Values: {values}.",
        "no_values": "no values in the period",
        "page": '"Page " counter(page) " of " counter(pages)',
    },
}


def _words(lang: str) -> dict[str, str]:
    return WORDS["de" if lang == "de" else "en"]


def chart_alt(key: str, report: Report, lang: str = "de") -> str:
    """The alternative text of a report chart in `lang`, from the data it shows (hidden cells
    as `x`)."""
    data = chart_data(key, report)
    spelled = data.spelled(lang)
    columns = [c for c in data.table.columns if c.name in data.frame.columns]
    columns.sort(key=lambda c: data.frame.columns.index(c.name))
    parts = []
    for i in range(data.frame.height):
        cells = [f"{c.label(lang)}: {_value(data, c.name, i, c.kind, lang, spelled)}"
                 for c in columns]
        parts.append(", ".join(cells))
    w = _words(lang)
    return w["chart"].format(title=CHART_BY_KEY[key].title(lang),
                             version=version_text(report, lang),
                             values="; ".join(parts) if parts else w["no_values"])


def _value(rt: ReportTable, column: str, i: int, kind: str, lang: str = "de",
           spelled: pl.DataFrame | None = None) -> str:
    """One cell as text in `lang`: `x` when hidden, row values translated, `–` when empty."""
    if bool(rt.is_hidden(column)[i]):
        return rt.marker(column, i)
    frame = rt.frame if spelled is None else spelled
    return cell_text(frame[column][i], kind, lang) or "–"


def pdf_bytes(report: Report, pngs: Mapping[str, bytes], lang: str = "de") -> bytes:
    """The PDF brief (4 pages A4) in `lang`: key figures, charts (`pngs`: the pictures in the
    same language), definitions, data version."""
    w = _words(lang)

    def chart(key: str, max_height: float) -> str:
        png = pngs.get(key)
        return "" if png is None else figure(png, chart_alt(key, report, lang), max_height)

    parts = [f'<p class="small muted">{esc(programme(lang))}</p>',
             f"<h1>{esc(w['heading'])}</h1>",
             f'<p class="muted">{esc(w["addressee"])}</p>',
             f'<p class="strong">{esc(version_text(report, lang))}</p>',
             f'<p class="small muted">Build {esc(report.build.build_id)} · '
             f"{esc(edition_text(report, lang))}</p>"]
    if report.protection is not None:
        parts.append(f'<p class="small muted">{esc(report.protection.text(lang))}</p>')
    if report.build.beispieldaten:
        parts.append(f'<p class="warn">{esc(w["sample"])}</p>')
    headline = headline_text(report, lang)
    parts.append(table(headline.columns, headline.iter_rows(), numeric_from=1,
                       row_headers=True, caption=w["headline"]))
    parts += [f"<h2>{esc(CHART_BY_KEY['kommunen_status'].title(lang))}</h2>",
              chart("kommunen_status", 70)]

    # page 2: communes and Selbstcheck
    dauer = report["prozessdauer"]
    spelled = dauer.spelled(lang)
    rows = [[str(spelled["gruppe"][i]),
             *(_value(dauer, c.name, i, c.kind, lang) for c in dauer.table.columns[1:])]
            for i in range(dauer.frame.height)]
    parts += [f'<section class="page"><h2>{esc(w["communes"])}</h2>',
              chart("kommunen_bundesland", 110), chart("selbstcheck_schritte", 68),
              table([c.label(lang) for c in dauer.table.columns], rows, numeric_from=1,
                    row_headers=True, caption=dauer.table.title(lang)), "</section>"]

    # page 3: events
    dv = report["dialog_vernetzung"]
    spelled = dv.spelled(lang)
    rows = [[_value(dv, "modul", i, "int", lang), str(spelled["format"][i]),
             *(_value(dv, c, i, "int", lang) for c in
               ("veranstaltungen", "kommunenuebergreifend", "kommunen", "teilnehmende"))]
            for i in range(dv.frame.height)]
    if not rows:
        rows = [["–", w["no_events"], "", "", "", ""]]
    parts += [f'<section class="page"><h2>{esc(w["events"])}</h2>',
              chart("veranstaltungen_modul", 82), chart("teilnehmende_sektor", 82),
              table(w["events_header"].split("|"), rows, numeric_from=2,
                    caption=dv.table.title(lang)), "</section>"]

    # page 4: definitions and data version
    b = report.build
    definitions = "".join(f"<dt>{esc(term)}</dt><dd>{esc(body)}</dd>"
                          for term, body in (RULES_DE if lang == "de" else RULES_EN))
    files = [(e["datei"], f"SHA-256 {e['sha256']}") for e in input_files(report).iter_rows(
        named=True)]
    version = w["version_text"].format(build=b.build_id, built=stamp(b.erstellt_am, lang),
                                       datenstand=_d(b.datenstand, lang),
                                       made=stamp(report.erstellt_am, lang))
    parts += [f'<section class="page"><h2>{esc(w["definitions"])}</h2>',
              f"<dl>{definitions}</dl>",
              f'<p class="small muted">{esc(w["all_definitions"])}</p>',
              f"<h3>{esc(w['version'])}</h3>",
              f'<p class="small">{esc(version)}</p>',
              '<ul class="small">' + "".join(
                  f'<li>{esc(name)} <span class="mono">{esc(sha)}</span></li>'
                  for name, sha in files) + "</ul>",
              "</section>"]
    name = title(lang)
    footer = (f"{name} · {words(lang)['stichtag']} {_d(report.stichtag, lang)} · "
              f"Build {b.build_id}")
    return render(name, "".join(parts), footer, author=source(lang),
                  subject=version_text(report, lang), lang=lang)
