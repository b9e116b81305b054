"""Council brief "Sachstand für den Rat" (issue #15): one commune's own state as an editable
PPTX (python-pptx) and a tagged, accessible PDF (PDF/UA-1, WeasyPrint).

Content: the commune's timeline against its plan, its Selbstcheck priorities and measures,
modules used, exchanges (counted; partner communes are not named), next steps, and cohort
context only as protected aggregates over all communes (a count resting on fewer than 3
communes is shown as "x"), never a position against other communes.

`collect` does the role check (staff for any commune, a commune only for itself) and gathers
everything; the writers only lay out a `Brief`, so nothing else can slip in.

The PDF is written from semantic HTML by `dashboard.report.pdf.render`: structure tree, table
headers, lists, document title and language; every text from data is HTML-escaped there.
"""

from __future__ import annotations

import datetime as dt
import io
from dataclasses import dataclass

import polars as pl

from dashboard import data, fmt
from dashboard.report.definitions import SMALL_CELL_LIMIT, SMALL_CELL_TEXT
from dashboard.store import austausch, handlungsplan

STAND = {"geplant": "geplant", "begonnen": "begonnen", "umgesetzt": "umgesetzt",
         "verworfen": "verworfen"}
SOURCE = "Programm-Monitor Weltoffene Kommune (Bertelsmann Stiftung, PHINEO)"


@dataclass(frozen=True)
class Brief:
    """Everything the brief shows, as plain text tables (German formats)."""

    kommune_id: str
    name: str
    datenstand: dt.date
    zeitplan: list[tuple[str, str, str, str]]         # Meilenstein, geplant, erreicht, Stand
    massnahmen: list[tuple[str, str, str, str, str]]  # Feld, Priorität, Maßnahme, fällig, Stand
    module: list[tuple[str, str, str]]                # Datum, Format, Thema
    austausch: list[str]                               # sentences
    naechste_schritte: list[str]
    kohorte: list[tuple[str, str, str]]               # Handlungsfeld, Kommunen, umgesetzt
    kohorte_gesamt: list[str]


def _d(value: dt.date | None) -> str:
    return fmt.date(value) if value else "–"


def _protected(value: int | None) -> str:
    return SMALL_CELL_TEXT if value is None or value < SMALL_CELL_LIMIT else fmt.number(value)


def collect(viewer: data.Viewer, kommune_id: str) -> Brief:
    """The brief's content for one commune (staff for any, a commune only for itself)."""
    profile = data.own_profile(
        viewer, kommune_id,
        "Den Sachstand erstellen nur die Kommune selbst und das Programmteam.")
    info = data.build_info()
    f = profile.facts
    zeitplan = [(m["meilenstein"], _d(m["geplant_am"]), _d(m["erreicht_am"]), m["zustand"])
                for m in profile.milestones.iter_rows(named=True)]
    prios = set(data.priorities(viewer, kommune_id)["handlungsfeld"].to_list())
    plan = handlungsplan.measures(viewer, kommune_id)
    massnahmen = [(m["handlungsfeld"], "ja" if m["handlungsfeld"] in prios else "",
                   m["titel"], _d(m["faellig"]), STAND[m["zustand"]])
                  for m in plan.iter_rows(named=True)]
    massnahmen += [(field, "ja", "noch keine Maßnahme", "–", "–")
                   for field in sorted(prios - set(plan["handlungsfeld"].to_list()))]
    module = [(_d(e["datum"]), e["format"], e["thema"])
              for e in profile.uptake.unique("veranstaltung_id", maintain_order=True)
              .iter_rows(named=True)]
    logs = austausch.exchanges(data.Viewer("kommune", kommune_id)).filter(
        pl.col("kommune_id") == kommune_id)
    exchange = [f"{fmt.number(logs.height)} Austausch(e) mit anderen Modellkommunen "
                "eingetragen" + (f", zuletzt am {_d(dt.date.fromisoformat(logs['datum'].max()))}"
                                 if logs.height else "") + "."]
    exchange += [f"{_d(dt.date.fromisoformat(r['datum']))}: {r['format']} zum Handlungsfeld "
                 f"„{r['handlungsfeld']}“, geholfen: {r['geholfen']}"
                 for r in logs.iter_rows(named=True)]
    steps = []
    if f.get("naechster_meilenstein"):
        steps.append(f"Nächster Meilenstein: {f['naechster_meilenstein']} (geplant "
                     f"{_d(f['naechster_geplant_am'])})")
    for m in plan.filter(pl.col("zustand").is_in(["geplant", "begonnen"])).sort(
            "faellig", nulls_last=True).head(5).iter_rows(named=True):
        steps.append(f"{m['titel']} ({m['handlungsfeld']}), {m['zustand']}, fällig "
                     f"{_d(m['faellig'])}")
    cohort = handlungsplan.cohort_context(viewer)
    by_field = {r["handlungsfeld"]: r for r in cohort.iter_rows(named=True)}
    kohorte = [(field, _protected(by_field.get(field, {}).get("kommunen")),
                _protected(by_field.get(field, {}).get("umgesetzt")))
               for field in sorted(prios | set(plan["handlungsfeld"].to_list()))]
    funnel = dict(data.milestone_funnel(data.STAFF).select("meilenstein", "erreicht").rows())
    total = data.load_kommunen(data.STAFF).height
    gesamt = [f"Modellkommunen im Programm-Monitor: {_protected(total)}",
              f"davon Workshop durchgeführt: {_protected(funnel.get('Workshop'))}",
              f"davon Prozessbegleitung abgeschlossen: {_protected(funnel.get('Abschluss'))}"]
    return Brief(kommune_id, f["name"], info.datenstand, zeitplan, massnahmen, module,
                 exchange, steps or ["Keine offenen Schritte eingetragen."], kohorte, gesamt)


# ---- PPTX ----------------------------------------------------------------------------------------


def pptx_bytes(brief: Brief) -> bytes:
    """The brief as an editable presentation (16:9, default theme, real tables)."""
    from pptx import Presentation
    from pptx.util import Cm, Pt

    prs = Presentation()
    prs.slide_width, prs.slide_height = Cm(33.867), Cm(19.05)
    prs.core_properties.title = f"Sachstand für den Rat – {brief.name}"
    prs.core_properties.language = "de-DE"
    prs.core_properties.author = SOURCE
    stand = f"Datenstand {_d(brief.datenstand)}"

    title = prs.slides.add_slide(prs.slide_layouts[0])
    title.shapes.title.text = "Sachstand für den Rat"
    title.placeholders[1].text = (f"{brief.name}\nModellprogramm „Weltoffene Kommune – vom "
                                  f"Dialog zum Zusammenhalt“\n{stand}")

    def table_slide(heading: str, header: tuple[str, ...], rows: list[tuple], note: str = ""):
        for start in range(0, max(len(rows), 1), 12):
            slide = prs.slides.add_slide(prs.slide_layouts[5])
            slide.shapes.title.text = heading + (" (Forts.)" if start else "")
            part = rows[start:start + 12] or [tuple("–" for _ in header)]
            shape = slide.shapes.add_table(len(part) + 1, len(header), Cm(1.5), Cm(4),
                                           Cm(30.8), Cm(1) * (len(part) + 1))
            for j, text in enumerate(header):
                shape.table.cell(0, j).text = text
            for i, row in enumerate(part, start=1):
                for j, text in enumerate(row):
                    shape.table.cell(i, j).text = str(text)
            for cell in (c for r in shape.table.rows for c in r.cells):
                for p in cell.text_frame.paragraphs:
                    for run in p.runs:
                        run.font.size = Pt(12)
            box = slide.shapes.add_textbox(Cm(1.5), Cm(17.6), Cm(30.8), Cm(1))
            box.text_frame.text = f"{note + ' · ' if note else ''}{stand} · {SOURCE}"
            box.text_frame.paragraphs[0].runs[0].font.size = Pt(10)

    def bullet_slide(heading: str, lines: list[str], note: str = "") -> None:
        slide = prs.slides.add_slide(prs.slide_layouts[1])
        slide.shapes.title.text = heading
        body = slide.placeholders[1].text_frame
        body.text = lines[0] if lines else "–"
        for line in lines[1:12]:
            body.add_paragraph().text = line
        for p in body.paragraphs:
            for run in p.runs:
                run.font.size = Pt(18)
        if note:
            box = slide.shapes.add_textbox(Cm(1.5), Cm(17.6), Cm(30.8), Cm(1))
            box.text_frame.text = note
            box.text_frame.paragraphs[0].runs[0].font.size = Pt(10)

    table_slide("Zeitplan: Plan und Stand", ("Meilenstein", "geplant", "erreicht", "Stand"),
                brief.zeitplan)
    table_slide("Prioritäten und Maßnahmen",
                ("Handlungsfeld", "Priorität", "Maßnahme", "fällig", "Stand"), brief.massnahmen)
    table_slide("Genutzte Module und Veranstaltungen", ("Datum", "Format", "Thema"),
                brief.module)
    bullet_slide("Austausch mit anderen Modellkommunen", brief.austausch)
    bullet_slide("Nächste Schritte", brief.naechste_schritte)
    table_slide("Einordnung: alle Modellkommunen zusammen",
                ("Handlungsfeld", "Kommunen mit Maßnahmen", "Maßnahmen umgesetzt"),
                brief.kohorte, note=f"Summen über alle Modellkommunen; Werte unter "
                                    f"{SMALL_CELL_LIMIT} Kommunen als „{SMALL_CELL_TEXT}“")
    bullet_slide("Einordnung: Programm insgesamt", brief.kohorte_gesamt,
                 note="Keine Rangfolge und kein Vergleich mit einzelnen Kommunen.")
    out = io.BytesIO()
    prs.save(out)
    return out.getvalue()


# ---- PDF -----------------------------------------------------------------------------------------


def pdf_bytes(brief: Brief) -> bytes:
    """The brief as a tagged, accessible PDF (PDF/UA-1, A4, German; see dashboard/report/pdf.py)."""
    from dashboard.report import pdf

    parts = ["<h1>Sachstand für den Rat</h1>",
             f"<p>{pdf.esc(brief.name)} · Datenstand {_d(brief.datenstand)}</p>",
             "<h2>Zeitplan: Plan und Stand</h2>",
             pdf.table(("Meilenstein", "geplant", "erreicht", "Stand"), brief.zeitplan,
                       row_headers=True),
             "<h2>Prioritäten und Maßnahmen</h2>",
             pdf.table(("Handlungsfeld", "Priorität", "Maßnahme", "fällig", "Stand"),
                       brief.massnahmen),
             "<h2>Genutzte Module und Veranstaltungen</h2>",
             pdf.table(("Datum", "Format", "Thema"), brief.module),
             "<h2>Austausch mit anderen Modellkommunen</h2>", pdf.bullets(brief.austausch),
             "<h2>Nächste Schritte</h2>", pdf.bullets(brief.naechste_schritte),
             "<h2>Einordnung: alle Modellkommunen zusammen</h2>",
             pdf.table(("Handlungsfeld", "Kommunen mit Maßnahmen", "Maßnahmen umgesetzt"),
                       brief.kohorte, numeric_from=1, row_headers=True),
             pdf.bullets(brief.kohorte_gesamt),
             f"<p>Summen über alle Modellkommunen; Werte unter {SMALL_CELL_LIMIT} Kommunen als "
             f"„{SMALL_CELL_TEXT}“. Keine Rangfolge und kein Vergleich mit einzelnen Kommunen. "
             f"Quelle: {pdf.esc(SOURCE)}.</p>"]
    title = f"Sachstand für den Rat – {brief.name}"
    return pdf.render(title, "".join(parts),
                      f"{title} · Datenstand {_d(brief.datenstand)}", author=SOURCE)
