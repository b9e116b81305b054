"""Überblick: key figures from the same table macros and the same small-cell protection as the
Bericht – for staff of the filtered cohort at a chosen Stichtag, for everyone else the public
edition of the whole programme at the data date; recent changes and overdue milestones for
signed-in users."""

import polars as pl
import streamlit as st

from dashboard import charts, data, fmt, ui
from dashboard.report import charts as report_charts
from dashboard.report import definitions as rd

lang, viewer, filters = ui.page("ueberblick.title")
info = data.build_info()

# The Stichtag control stands above the figures but is sent after them (a date input delays
# the first key figure by about 0.6 s): its slot comes first, its widget at the end of each path.
# Staff only: everyone else reads the one public edition, at the data date (`data.load_report`:
# editions of two Stichtage could be subtracted, as two selections could).
slot = st.container()
stichtag = (st.session_state.get("overview_stichtag", info.datenstand) if viewer.is_staff
            else info.datenstand)


def stichtag_input() -> None:
    if not viewer.is_staff:
        return
    slot.date_input(ui.t("overview_stichtag.stichtag"), value=info.datenstand,
                    min_value=rd.PROGRAMMSTART,
                    format="DD.MM.YYYY" if lang == "de" else "YYYY-MM-DD",
                    key="overview_stichtag", help=ui.t("overview_stichtag.help"))


report = data.load_report(viewer, rd.PROGRAMMSTART, stichtag, stichtag, filters)
if not viewer.is_staff:
    with slot:
        ui.whole_programme_note(filters)
if data.public_selection_small(report):  # 0, 1 or 2 communes: one message, no figure
    stichtag_input()
    ui.small_selection()
    ui.end_page()
status = report["kommunen_status"]
if status.frame.filter(pl.col("status") == "Insgesamt")["kommunen"].fill_null(1).item() == 0:
    stichtag_input()
    ui.empty_state()
    ui.end_page()
ui.report_stand(report)

shown = ("kommunen_teilnehmend", "kommunen_aktiv", "kommunen_abgeschlossen", "tracks_gestartet",
         "median_dauer_monate", "anteil_im_ziel_prozent", "tracks_laufend_ueber_ziel",
         "veranstaltungen")
cols = [*st.columns(3), *st.columns(3), *st.columns(3)]
total = status.frame.with_row_index("_i").filter(pl.col("status") == "Insgesamt").row(0, named=True)
cols[0].metric(ui.t("ueberblick.kommunen"), status.marker("kommunen", total["_i"])
               or fmt.number(total["kommunen"], lang=lang), help=ui.t("overview_stichtag.kommunen"))
ui.figure_metrics(report, shown, cols[1:])
kf = data.key_figures(viewer, filters)
if kf.ueberfaellige_meilensteine is not None:  # internal monitoring: not for the public
    st.metric(ui.t("ueberblick.ueberfaellig"), fmt.number(kf.ueberfaellige_meilensteine,
                                                            lang=lang))
stichtag_input()
if report.public:
    st.caption(report.protection.text(lang) if report.protection else ui.t("auth.suppressed"))
ui.key_figures_sent()

left, right = st.columns(2)
with left:
    st.subheader(ui.t("ueberblick.status_header"))
    ui.chart_and_table(report_charts.chart_figure("kommunen_status", report, lang),
                       rd.chart_data("kommunen_status", report).as_text(lang),
                       report.file_name("kommunen_status", "csv")[:-4], key="status")
with right:
    st.subheader(ui.t("ueberblick.modul_header"))
    module = report["veranstaltungen"].subset(
        ["auspraegung", "veranstaltungen", "teilnehmende"],
        (pl.col("merkmal") == "Modul") & (pl.col("quartal") == "Zeitraum"))
    uptake = module.frame.select(
        pl.col("auspraegung").str.split(" ").list.first().cast(pl.Int64).alias("modul"),
        pl.col("auspraegung").str.splitn(" ", 2).struct.field("field_1").alias("bezeichnung"),
        "veranstaltungen", "teilnehmende")
    ui.chart_and_table(
        charts.module_bars(uptake, lang, ui.t("ueberblick.veranstaltungen"),
                           ui.t("ueberblick.teilnehmende")),
        module.as_text(lang), report.file_name("nutzung_nach_modul", "csv")[:-4], key="module")

if viewer.role != "public":  # names of communes with their milestones: signed-in only
    left, right = st.columns(2)
    with left:
        st.subheader(ui.t("ueberblick.changes_header"))
        changes = data.load_recent_changes(viewer, filters)
        if changes.is_empty():
            st.caption(ui.t("ueberblick.changes_empty"))
        else:
            ui.table_with_download(
                ui.labelled(ui.values(changes, meilenstein="meilenstein"), "ueberblick",
                            "kommune_id", "name", "meilenstein", "erreicht_am"),
                "erreicht_letzte_30_tage",
                key="dl_changes",
                link_profiles=True,
            )
    with right:
        st.subheader(ui.t("ueberblick.overdue_header"))
        overdue = data.load_overdue(viewer, filters)
        if overdue.is_empty():
            st.caption(ui.t("ueberblick.overdue_empty"))
        else:
            ui.table_with_download(
                ui.labelled(ui.values(overdue, meilenstein="meilenstein"), "ueberblick",
                            "kommune_id", "name", "meilenstein", "geplant_am",
                            "tage_ueberfaellig", tage_ueberfaellig="tage"),
                "ueberfaellige_meilensteine",
                key="dl_overdue",
                link_profiles=True,
            )
