"""Bericht: NAP-I key figures for a period and Stichtag; downloads XLSX, CSV, PNG/SVG and PDF."""

import streamlit as st

from dashboard import data, fmt, ui
from dashboard.report import charts as report_charts
from dashboard.report import csv as report_csv
from dashboard.report import definitions as rd
from dashboard.report import pdf as report_pdf
from dashboard.report import xlsx as report_xlsx

lang, viewer, _filters = ui.page("bericht.title")
info = data.build_info()
date_format = "DD.MM.YYYY" if lang == "de" else "YYYY-MM-DD"

st.caption(ui.t("bericht.intro"))

# The period, the Stichtag and the edition stand above the figures but are sent after them, once
# the browser has reported the figures drawn (or before the page ends early): the date inputs'
# scripts (about 0.2 MB) held the figures back (Bericht 1.83–1.90× hello-world with the controls
# sent before the report, 1.37–1.48× after it; bench/pages_ab.py --staff, 16 runs).
controls = st.container()
von = st.session_state.get("report_von", rd.PROGRAMMSTART)
bis = st.session_state.get("report_bis", info.datenstand)
stichtag = st.session_state.get("report_stichtag", info.datenstand)
public = not viewer.is_staff or st.session_state.get("report_edition", "internal") == "public"


def draw_controls() -> None:
    c_von, c_bis, c_stichtag = controls.columns(3)
    c_von.date_input(ui.t("bericht.von"), value=rd.PROGRAMMSTART, format=date_format,
                     key="report_von")
    c_bis.date_input(ui.t("bericht.bis"), value=info.datenstand, format=date_format,
                     key="report_bis")
    c_stichtag.date_input(ui.t("bericht.stichtag"), value=info.datenstand, format=date_format,
                          key="report_stichtag", help=ui.t("bericht.stichtag_help"))
    if viewer.is_staff:
        controls.segmented_control(
            ui.t("report_edition.label"), ("internal", "public"), default="internal",
            format_func=lambda e: ui.t(f"report_edition.{e}"), key="report_edition",
            help=ui.t("report_edition.help"))


try:
    report = data.load_report(viewer, von, bis, stichtag, public=public)
except ValueError as exc:
    draw_controls()
    st.error(str(exc), icon=":material/event_busy:")
    ui.end_page()

st.caption(ui.t("bericht.version", stichtag=fmt.date(stichtag, lang), von=fmt.date(von, lang),
                bis=fmt.date(report.bis_effektiv, lang),
                datenstand=fmt.date(info.datenstand, lang), build_id=info.build_id))
if stichtag > info.datenstand:
    st.warning(ui.t("bericht.after_datenstand", datenstand=fmt.date(info.datenstand, lang)),
               icon=":material/update:")
st.caption(ui.t("bericht.edition_public" if report.public else "bericht.edition_internal"))
if report.public and not data.is_site_edition(von, bis, stichtag):
    st.warning(ui.t("bericht.public_other_period"), icon=":material/warning:")
if report.protection is not None:
    st.caption(report.protection.text(lang))

# ---- headline figures ----
shown = ("kommunen_teilnehmend", "kommunen_aktiv", "kommunen_abgeschlossen", "einwohner_erreicht",
         "veranstaltungen", "teilnehmende", "median_dauer_monate", "anteil_im_ziel_prozent")
# three to a row: the figures' labels are cut off in four columns
ui.figure_metrics(report, shown, [*st.columns(3), *st.columns(3), *st.columns(3)][:len(shown)])
ui.key_figures_sent()
draw_controls()

# ---- downloads (in the UI language) ----
st.subheader(ui.t("bericht.downloads"))
if lang != "de":
    st.caption(ui.t("en2.files_language"))
stamp = (info.build_id, von, bis, stichtag, report.public, lang)
d_xlsx, d_csv, d_render = st.columns(3)
xlsx_name = report.file_name("kennzahlen", "xlsx", lang)
# both files are made when clicked (a callable as `data`), not on every run of the page: the
# workbook alone took 0.27 s of a first run (bench/profserve.py)
ui.download_on_click(
    d_xlsx, ui.t("bericht.xlsx"), lambda: report_xlsx.xlsx_bytes(report, lang), xlsx_name,
    mime="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    icon=":material/table_view:", key="report_xlsx")
zip_name = report.file_name("kennzahlen_csv", "zip", lang)
ui.download_on_click(
    d_csv, ui.t("bericht.csv_zip"), lambda: report_csv.csv_zip(report, lang=lang), zip_name,
    mime="application/zip", icon=":material/folder_zip:", key="report_csv")
rendered = st.session_state.get("report_rendered")
if rendered is None or rendered["stamp"] != stamp:
    rendered = None
    if d_render.button(ui.t("bericht.render"), help=ui.t("bericht.render_help"),
                       icon=":material/picture_as_pdf:", key="report_render"):
        with st.status(ui.t("bericht.rendering"), expanded=True) as status:
            try:
                files = report_charts.ChartFiles()
                for n, chart in enumerate(rd.CHARTS, 1):
                    status.write(ui.t("bericht.rendering_chart", n=n, total=len(rd.CHARTS),
                                      title=chart.title(lang)))
                    part = report_charts.chart_files(report, [chart.key], lang=lang)
                    files.png.update(part.png)
                    files.files.update(part.files)
                status.write(ui.t("bericht.rendering_pdf"))
                pdf = report_pdf.pdf_bytes(report, files.png, lang)
            except RuntimeError as exc:
                status.update(label=ui.t("bericht.render_failed", error=exc), state="error")
            else:
                rendered = {"stamp": stamp, "files": files.files, "pdf": pdf}
                st.session_state["report_rendered"] = rendered
                status.update(label=ui.t("bericht.rendered"), state="complete", expanded=False)
if rendered is not None:
    pdf_name = report.file_name("kurzbericht", "pdf", lang)
    pdf = rendered["pdf"]
    ui.download_on_click(d_render, ui.t("bericht.pdf"), lambda: pdf, pdf_name,
                         mime="application/pdf", icon=":material/picture_as_pdf:",
                         key="report_pdf")
    with st.expander(ui.t("bericht.images"), icon=":material/image:"):
        for chart in rd.CHARTS:
            c_title, c_png, c_svg = st.columns([3, 1, 1], vertical_alignment="center")
            c_title.write(chart.title(lang))
            for column, suffix, mime in ((c_png, "png", "image/png"),
                                         (c_svg, "svg", "image/svg+xml")):
                name = report.file_name(chart.key, suffix, lang)
                data = rendered["files"][name]
                ui.download_on_click(column, ui.t(f"bericht.{suffix}"),
                                     lambda data=data: data, name, mime=mime,
                                     icon=":material/download:",
                                     key=f"report_{chart.key}_{suffix}")


# ---- tables and charts ----
def show_chart(key: str) -> None:
    chart = rd.CHART_BY_KEY[key]
    st.markdown(f"**{chart.title(lang)}**")
    ui.chart_and_table(report_charts.chart_figure(key, report, lang),
                       rd.chart_data(key, report).as_text(lang),
                       report.file_name(key, "csv")[:-4],
                       key=f"report_{key}")


def show_table(key: str, expanded: bool | None = None) -> None:
    rt = report[key]
    stem = report.file_name(key, "csv")[:-4]
    if expanded is None:
        st.markdown(f"**{rt.table.title(lang)}**")
        st.caption(rt.table.description(lang))
        ui.table_with_download(rt.as_text(lang), stem, key=f"report_table_{key}")
        return
    with st.expander(ui.t("bericht.full_table", title=rt.table.title(lang)), expanded=expanded):
        st.caption(rt.table.description(lang))
        ui.table_with_download(rt.as_text(lang), stem, key=f"report_table_{key}")


overview = report["ueberblick"]
st.markdown(f"**{overview.table.title(lang)}**")
st.caption(overview.table.description(lang))
ui.table_with_download(rd.headline_text(report, lang),
                       report.file_name("ueberblick", "csv")[:-4],
                       key="report_table_ueberblick")

st.subheader(ui.t("bericht.section_kommunen"))
left, right = st.columns(2)
with left:
    show_chart("kommunen_status")
with right:
    show_chart("kommunen_bundesland")
show_table("kommunen_merkmale", expanded=False)

st.subheader(ui.t("bericht.section_selbstcheck"))
left, right = st.columns(2)
with left:
    show_chart("selbstcheck_schritte")
with right:
    show_table("prozessdauer")

st.subheader(ui.t("bericht.section_veranstaltungen"))
left, right = st.columns(2)
with left:
    show_chart("veranstaltungen_modul")
with right:
    show_chart("teilnehmende_sektor")
show_table("dialog_vernetzung")
show_table("veranstaltungen", expanded=False)

with st.expander(ui.t("bericht.definitions"), icon=":material/menu_book:"):
    for term, text in (rd.RULES_DE if lang == "de" else rd.RULES_EN):
        st.markdown(f"**{term}.** {text}")
    for figure in rd.FIGURES:
        st.markdown(f"- **{figure.label(lang)}:** {figure.definition(lang)}")
