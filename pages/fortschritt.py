"""Fortschritt: the tracks' headline figures, timelines (planned vs reached), phase funnel,
overdue list, durations.

Lanes are sorted by start date or name only, never by any Selbstcheck result.
"""

import polars as pl
import streamlit as st

from dashboard import action_views, charts, data, fmt, ui
from dashboard.report import definitions as rd

LANES_PER_PAGE = 40
FIGURES = ("tracks_gestartet", "tracks_abgeschlossen", "median_dauer_monate",
           "anteil_im_ziel_prozent", "tracks_laufend_ueber_ziel")

lang, viewer, filters = ui.page("fortschritt.title")

progress = data.load_progress(viewer, filters)
if progress.is_empty():
    ui.empty_state()
    ui.end_page()
info = data.build_info()
ziel_monate = data.programme_rules().ziel_monate

# the report's headline figures of the tracks at the data date first: text, on screen before the
# charts (and Plotly's script) have loaded; the same numbers as on the Überblick and in the Bericht
report = data.load_report(viewer, rd.PROGRAMMSTART, info.datenstand, info.datenstand, filters)
cols = [*st.columns(3), *st.columns(3)]
ui.figure_metrics(report, FIGURES, cols[:len(FIGURES)])
overdue_count = data.key_figures(viewer, filters).ueberfaellige_meilensteine
if overdue_count is not None:  # internal monitoring
    cols[len(FIGURES)].metric(ui.t("ueberblick.ueberfaellig"), fmt.number(overdue_count, lang=lang))
ui.report_stand(report)
ui.key_figures_sent()

st.subheader(ui.t("fortschritt.timeline"))
left, right = st.columns([2, 1])
order = left.radio(
    ui.t("fortschritt.sort"),
    ["start", "name"],
    horizontal=True,
    format_func=lambda v: ui.t(f"fortschritt.sort_{v}"),
    key="progress_sort",
)
lanes = progress.unique("kommune_id", keep="first").sort(
    ["start_datum", "name"] if order == "start" else ["name"], nulls_last=True
)
pages = max(1, -(-lanes.height // LANES_PER_PAGE))
page = (
    right.number_input(ui.t("fortschritt.page"), 1, pages, 1, key="progress_page")
    if pages > 1
    else 1
)
shown = lanes.slice((page - 1) * LANES_PER_PAGE, LANES_PER_PAGE)
st.caption(
    ui.t(
        "fortschritt.page_of",
        von=(page - 1) * LANES_PER_PAGE + 1,
        bis=(page - 1) * LANES_PER_PAGE + shown.height,
        n=lanes.height,
    )
)
lane_order = shown.select("kommune_id").with_row_index("lane")
rows = progress.join(lane_order, on="kommune_id").sort(["lane", "reihenfolge"])
labels = ui.timeline_labels()
fig = charts.timeline(rows, info.datenstand, labels, lang, ziel_monate)
table = ui.values(rows, meilenstein="meilenstein", zustand="zustand").select(
    pl.col("name").alias(ui.t("fortschritt.name")),
    pl.col("kommune_id").alias("AGS"),
    pl.col("meilenstein").alias(ui.t("fortschritt.meilenstein")),
    pl.col("geplant_am").alias(ui.t("fortschritt.geplant")),
    pl.col("erreicht_am").alias(ui.t("fortschritt.erreicht")),
    pl.col("zustand").alias(ui.t("fortschritt.zustand")),
)
ui.chart_and_table(fig, table, "zeitplan", key="timeline")
action_views.period_notes(viewer, rows["geplant_am"].min() or info.datenstand, info.datenstand,
                           shown["kommune_id"].to_list())

left, right = st.columns(2)
with left:
    st.subheader(ui.t("fortschritt.funnel"))
    counts = data.milestone_funnel(viewer, filters)
    ui.chart_and_table(
        charts.funnel(counts, lanes.height, lang, ui.t("fortschritt.reached")),
        ui.labelled(
            ui.values(counts, meilenstein="meilenstein"),
            "fortschritt", "reihenfolge", "meilenstein", "erreicht", erreicht="reached",
        ),
        "meilensteine_erreicht",
        key="funnel",
    )
with right:
    st.subheader(ui.t("fortschritt.durations"))
    kommunen = data.load_kommunen(viewer, filters).filter(pl.col("dauer_monate").is_not_null())
    dlabels = {
        k: ui.t(f"fortschritt.{k}") for k in ("finished", "running", "months", "count", "target")
    }
    ui.chart_and_table(
        charts.duration_histogram(kommunen, lang, dlabels, ziel_monate),
        ui.values(kommunen, status="status").select(
            pl.col("name").alias(ui.t("fortschritt.name")),
            pl.col("kommune_id").alias("AGS"),
            pl.col("status").alias(ui.t("fortschritt.status")),
            pl.col("dauer_monate").alias(ui.t("fortschritt.dauer")),
        ),
        "dauer_prozessbegleitung",
        key="durations",
        link_profiles=True,
    )

st.subheader(ui.t("fortschritt.overdue"))
overdue = data.load_overdue(viewer, filters)
if overdue.is_empty():
    st.caption(ui.t("fortschritt.overdue_empty"))
else:
    ui.table_with_download(
        ui.values(overdue, meilenstein="meilenstein").select(
            pl.col("name").alias(ui.t("fortschritt.name")),
            pl.col("kommune_id").alias("AGS"),
            pl.col("meilenstein").alias(ui.t("fortschritt.meilenstein")),
            pl.col("geplant_am").alias(ui.t("fortschritt.geplant")),
            pl.col("tage_ueberfaellig").alias(ui.t("fortschritt.tage")),
        ),
        "ueberfaellige_meilensteine",
        key="dl_overdue_progress",
        link_profiles=True,
    )
