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
from dashboard.i18n import value
from dashboard.report.definitions import SMALL_CELL_LIMIT, SMALL_CELL_TEXT
from dashboard.report.notes import programme, source
from dashboard.store import austausch, handlungsplan

# The brief's own words per language (data values come from the [werte.*] domains of dashboard/i18n)
WORDS: dict[str, dict[str, str]] = {
    "de": {
        "title": "Sachstand für den Rat", "datenstand": "Datenstand", "more": " (Forts.)",
        "zeitplan": "Zeitplan: Plan und Stand",
        "zeitplan_header": "Meilenstein|geplant|erreicht|Stand",
        "massnahmen": "Prioritäten und Maßnahmen",
        "massnahmen_header": "Handlungsfeld|Priorität|Maßnahme|fällig|Stand",
        "module": "Genutzte Module und Veranstaltungen", "module_header": "Datum|Format|Thema",
        "austausch": "Austausch mit anderen Modellkommunen", "naechste": "Nächste Schritte",
        "kohorte": "Einordnung: alle Modellkommunen zusammen",
        "kohorte_header": "Handlungsfeld|Kommunen mit Maßnahmen|Maßnahmen umgesetzt",
        "gesamt": "Einordnung: Programm insgesamt",
        "yes": "ja", "no_measure": "noch keine Maßnahme",
        "exchanges": "{n} Austausch(e) mit anderen Modellkommunen eingetragen",
        "last": ", zuletzt am {datum}",
        "exchange": "{datum}: {format} zum Handlungsfeld „{feld}“, geholfen: {geholfen}",
        "next_milestone": "Nächster Meilenstein: {meilenstein} (geplant {datum})",
        "next_measure": "{titel} ({feld}), {stand}, fällig {datum}",
        "no_steps": "Keine offenen Schritte eingetragen.",
        "total": "Modellkommunen im Programm-Monitor: {n}",
        "workshop": "davon Workshop durchgeführt: {n}",
        "finished": "davon Prozessbegleitung abgeschlossen: {n}",
        "sums": ("Summen über alle Modellkommunen; Werte unter {limit} Kommunen als „{x}“"),
        "no_ranking": "Keine Rangfolge und kein Vergleich mit einzelnen Kommunen.",
        "source": "Quelle",
    },
    "en": {
        "title": "Status report for the council", "datenstand": "Data as of", "more": " (cont.)",
        "zeitplan": "Timeline: plan and state",
        "zeitplan_header": "Milestone|planned|reached|State",
        "massnahmen": "Priorities and measures",
        "massnahmen_header": "Field of action|Priority|Measure|due|State",
        "module": "Modules and events used", "module_header": "Date|Format|Topic",
        "austausch": "Exchange with other model communes", "naechste": "Next steps",
        "kohorte": "Context: all model communes together",
        "kohorte_header": "Field of action|Communes with measures|Measures implemented",
        "gesamt": "Context: the programme as a whole",
        "yes": "yes", "no_measure": "no measure yet",
        "exchanges": "{n} exchange(s) with other model communes recorded",
        "last": ", the latest on {datum}",
        "exchange": "{datum}: {format} on the field of action “{feld}”, helped: {geholfen}",
        "next_milestone": "Next milestone: {meilenstein} (planned {datum})",
        "next_measure": "{titel} ({feld}), {stand}, due {datum}",
        "no_steps": "No open steps recorded.",
        "total": "Model communes in the programme monitor: {n}",
        "workshop": "of which workshop held: {n}",
        "finished": "of which support track finished: {n}",
        "sums": "Totals over all model communes; values under {limit} communes as “{x}”",
        "no_ranking": "No ranking and no comparison with single communes.",
        "source": "Source",
    },
}


def words(lang: str) -> dict[str, str]:
    return WORDS["de" if lang == "de" else "en"]


@dataclass(frozen=True)
class Brief:
    """Everything the brief shows, as plain text tables in `lang` (its formats too)."""

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
    lang: str = "de"

    @property
    def title(self) -> str:
        return f"{words(self.lang)['title']} – {self.name}"

    @property
    def stand(self) -> str:
        return f"{words(self.lang)['datenstand']} {fmt.date(self.datenstand, self.lang)}"


def _protected(value_: int | None, lang: str) -> str:
    return SMALL_CELL_TEXT if value_ is None or value_ < SMALL_CELL_LIMIT \
        else fmt.number(value_, 0, lang)


def collect(viewer: data.Viewer, kommune_id: str, lang: str = "de") -> Brief:
    """The brief's content for one commune in `lang` (staff for any, a commune only for
    itself)."""
    profile = data.own_profile(
        viewer, kommune_id,
        "Den Sachstand erstellen nur die Kommune selbst und das Programmteam.")
    info = data.build_info()
    w = words(lang)

    def d(day: dt.date | str | None) -> str:
        if isinstance(day, str):
            day = dt.date.fromisoformat(day)
        return fmt.date(day, lang)

    def feld(name: str) -> str:
        return value(lang, "handlungsfeld", name)

    f = profile.facts
    zeitplan = [(value(lang, "meilenstein", m["meilenstein"]), d(m["geplant_am"]),
                 d(m["erreicht_am"]), value(lang, "zustand", m["zustand"]))
                for m in profile.milestones.iter_rows(named=True)]
    prios = set(data.priorities(viewer, kommune_id)["handlungsfeld"].to_list())
    plan = handlungsplan.measures(viewer, kommune_id)
    massnahmen = [(feld(m["handlungsfeld"]), w["yes"] if m["handlungsfeld"] in prios else "",
                   m["titel"], d(m["faellig"]), value(lang, "massnahme_stand", m["zustand"]))
                  for m in plan.iter_rows(named=True)]
    massnahmen += [(feld(field), w["yes"], w["no_measure"], fmt.NONE, fmt.NONE)
                   for field in sorted(prios - set(plan["handlungsfeld"].to_list()))]
    module = [(d(e["datum"]), value(lang, "format", e["format"]), value(lang, "thema", e["thema"]))
              for e in profile.uptake.unique("veranstaltung_id", maintain_order=True)
              .iter_rows(named=True)]
    logs = austausch.exchanges(data.Viewer("kommune", kommune_id)).filter(
        pl.col("kommune_id") == kommune_id)
    exchange = [w["exchanges"].format(n=fmt.number(logs.height, 0, lang))
                + (w["last"].format(datum=d(logs["datum"].max())) if logs.height else "") + "."]
    exchange += [w["exchange"].format(datum=d(r["datum"]),
                                      format=value(lang, "austausch_format", r["format"]),
                                      feld=feld(r["handlungsfeld"]),
                                      geholfen=value(lang, "geholfen", r["geholfen"]))
                 for r in logs.iter_rows(named=True)]
    steps = []
    if f.get("naechster_meilenstein"):
        steps.append(w["next_milestone"].format(
            meilenstein=value(lang, "meilenstein", f["naechster_meilenstein"]),
            datum=d(f["naechster_geplant_am"])))
    for m in plan.filter(pl.col("zustand").is_in(["geplant", "begonnen"])).sort(
            "faellig", nulls_last=True).head(5).iter_rows(named=True):
        steps.append(w["next_measure"].format(
            titel=m["titel"], feld=feld(m["handlungsfeld"]),
            stand=value(lang, "massnahme_stand", m["zustand"]), datum=d(m["faellig"])))
    cohort = handlungsplan.cohort_context(viewer)
    by_field = {r["handlungsfeld"]: r for r in cohort.iter_rows(named=True)}
    kohorte = [(feld(field), _protected(by_field.get(field, {}).get("kommunen"), lang),
                _protected(by_field.get(field, {}).get("umgesetzt"), lang))
               for field in sorted(prios | set(plan["handlungsfeld"].to_list()))]
    funnel = dict(data.milestone_funnel(data.STAFF).select("meilenstein", "erreicht").rows())
    total = data.load_kommunen(data.STAFF).height
    gesamt = [w["total"].format(n=_protected(total, lang)),
              w["workshop"].format(n=_protected(funnel.get("Workshop"), lang)),
              w["finished"].format(n=_protected(funnel.get("Abschluss"), lang))]
    return Brief(kommune_id, f["name"], info.datenstand, zeitplan, massnahmen, module,
                 exchange, steps or [w["no_steps"]], kohorte, gesamt, lang)


def file_stem(brief: Brief) -> str:
    """`sachstand_rat_<AGS>` (English: `…_en`, like the other exports)."""
    return f"sachstand_rat_{brief.kommune_id}" + ("" if brief.lang == "de" else "_en")


# ---- PPTX ----------------------------------------------------------------------------------------


def pptx_bytes(brief: Brief) -> bytes:
    """The brief as an editable presentation (16:9, default theme, real tables)."""
    from pptx import Presentation
    from pptx.util import Cm, Pt

    w = words(brief.lang)
    prs = Presentation()
    prs.slide_width, prs.slide_height = Cm(33.867), Cm(19.05)
    prs.core_properties.title = brief.title
    prs.core_properties.language = "de-DE" if brief.lang == "de" else "en"
    prs.core_properties.author = source(brief.lang)
    stand = brief.stand

    title = prs.slides.add_slide(prs.slide_layouts[0])
    title.shapes.title.text = w["title"]
    title.placeholders[1].text = f"{brief.name}\n{programme(brief.lang)}\n{stand}"

    def table_slide(heading: str, header: list[str], rows: list[tuple], note: str = ""):
        for start in range(0, max(len(rows), 1), 12):
            slide = prs.slides.add_slide(prs.slide_layouts[5])
            slide.shapes.title.text = heading + (w["more"] if start else "")
            part = rows[start:start + 12] or [tuple(fmt.NONE for _ in header)]
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
            box.text_frame.text = f"{note + ' · ' if note else ''}{stand} · {source(brief.lang)}"
            box.text_frame.paragraphs[0].runs[0].font.size = Pt(10)

    def bullet_slide(heading: str, lines: list[str], note: str = "") -> None:
        slide = prs.slides.add_slide(prs.slide_layouts[1])
        slide.shapes.title.text = heading
        body = slide.placeholders[1].text_frame
        body.text = lines[0] if lines else fmt.NONE
        for line in lines[1:12]:
            body.add_paragraph().text = line
        for p in body.paragraphs:
            for run in p.runs:
                run.font.size = Pt(18)
        if note:
            box = slide.shapes.add_textbox(Cm(1.5), Cm(17.6), Cm(30.8), Cm(1))
            box.text_frame.text = note
            box.text_frame.paragraphs[0].runs[0].font.size = Pt(10)

    table_slide(w["zeitplan"], w["zeitplan_header"].split("|"), brief.zeitplan)
    table_slide(w["massnahmen"], w["massnahmen_header"].split("|"), brief.massnahmen)
    table_slide(w["module"], w["module_header"].split("|"), brief.module)
    bullet_slide(w["austausch"], brief.austausch)
    bullet_slide(w["naechste"], brief.naechste_schritte)
    table_slide(w["kohorte"], w["kohorte_header"].split("|"), brief.kohorte,
                note=w["sums"].format(limit=SMALL_CELL_LIMIT, x=SMALL_CELL_TEXT))
    bullet_slide(w["gesamt"], brief.kohorte_gesamt, note=w["no_ranking"])
    out = io.BytesIO()
    prs.save(out)
    return out.getvalue()


# ---- PDF -----------------------------------------------------------------------------------------


def pdf_bytes(brief: Brief) -> bytes:
    """The brief as a tagged, accessible PDF (PDF/UA-1, A4, in the brief's language; see
    dashboard/report/pdf.py)."""
    from dashboard.report import pdf

    w = words(brief.lang)
    note = (f"{w['sums'].format(limit=SMALL_CELL_LIMIT, x=SMALL_CELL_TEXT)}. {w['no_ranking']} "
            f"{w['source']}: {source(brief.lang)}.")
    parts = [f"<h1>{pdf.esc(w['title'])}</h1>",
             f"<p>{pdf.esc(brief.name)} · {pdf.esc(brief.stand)}</p>",
             f"<h2>{pdf.esc(w['zeitplan'])}</h2>",
             pdf.table(w["zeitplan_header"].split("|"), brief.zeitplan, row_headers=True),
             f"<h2>{pdf.esc(w['massnahmen'])}</h2>",
             pdf.table(w["massnahmen_header"].split("|"), brief.massnahmen),
             f"<h2>{pdf.esc(w['module'])}</h2>",
             pdf.table(w["module_header"].split("|"), brief.module),
             f"<h2>{pdf.esc(w['austausch'])}</h2>", pdf.bullets(brief.austausch),
             f"<h2>{pdf.esc(w['naechste'])}</h2>", pdf.bullets(brief.naechste_schritte),
             f"<h2>{pdf.esc(w['kohorte'])}</h2>",
             pdf.table(w["kohorte_header"].split("|"), brief.kohorte, numeric_from=1,
                       row_headers=True),
             pdf.bullets(brief.kohorte_gesamt),
             f"<p>{pdf.esc(note)}</p>"]
    return pdf.render(brief.title, "".join(parts), f"{brief.title} · {brief.stand}",
                      author=source(brief.lang), lang=brief.lang)
