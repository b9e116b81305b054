"""Karte: where the programme reaches – communes as points, and counts per Bundesland."""

import polars as pl
import streamlit as st

from dashboard import data, maps, ui

lang, viewer, filters = ui.lang(), ui.viewer(), st.session_state["filters"]
st.title(ui.t("karte.title"))

points = data.load_map_points(viewer, filters)
if points.is_empty():
    ui.empty_state()
    st.stop()

# One view at a time (not tabs): a hidden tab's map would still be sent to the browser.
view = st.radio(
    ui.t("karte.view"),
    ["points", "laender"],
    horizontal=True,
    key="map_view",
    format_func=lambda v: ui.t(f"karte.view_{v}"),
    label_visibility="collapsed",
)
if view == "points":
    left, right = st.columns([2, 1])
    colour_by = left.radio(
        ui.t("karte.colour_by"),
        ["status", "phase"],
        horizontal=True,
        format_func=lambda v: ui.t(f"karte.colour_{v}"),
        key="map_colour",
    )
    show_kreise = right.toggle(ui.t("karte.kreise"), value=False, key="map_kreise")
    labels = {
        k: ui.t(f"karte.{k}")
        for k in ("typ", "status", "phase", "next", "einwohner", "none", "none_started")
    }
    fig = maps.points_map(points, colour_by, labels, show_kreise=show_kreise, lang=lang)
    profiles = viewer.role != "public"  # the public has no profile pages
    event = st.plotly_chart(
        fig,
        key="map_points",
        on_select="rerun" if profiles else "ignore",
        selection_mode="points",
        config={"displaylogo": False},
    )
    if profiles:
        st.caption(ui.t("karte.click_hint"))
        selected = event.selection.points if event and event.selection else []
        if selected:
            ui.open_profile(selected[0]["customdata"][0])
    with st.expander(ui.t("common.table")):
        table = ui.values(points, typ="typ", bundesland="bundesland", status="status",
                          aktuelle_phase="phase", naechster_meilenstein="meilenstein").select(
            pl.col("name").alias(ui.t("karte.name")),
            pl.col("kommune_id").alias("AGS"),
            pl.col("typ").alias(ui.t("karte.typ")),
            pl.col("bundesland").alias(ui.t("karte.bundesland")),
            pl.col("status").alias(ui.t("karte.status")),
            pl.col("aktuelle_phase").alias(ui.t("karte.phase")),
            pl.col("naechster_meilenstein").alias(ui.t("karte.next")),
            pl.col("einwohner").alias(ui.t("karte.einwohner")),
            "lat",
            "lon",
        )
        ui.table_with_download(table, "karte_kommunen", key="dl_map_points", link_profiles=profiles)
else:
    if viewer.role == "public":
        st.caption(ui.t("auth.suppressed"))
    counts = data.counts_by_land(viewer, filters)
    fig = maps.land_choropleth(counts, ui.t("karte.kommunen"), lang=lang)
    ui.chart_and_table(
        fig,
        ui.values(counts, bundesland="bundesland").rename(
            {
                "bundesland": ui.t("karte.bundesland"),
                "kommunen": ui.t("karte.kommunen"),
                "einwohner": ui.t("karte.einwohner"),
            }
        ),
        "kommunen_je_bundesland",
        key="map_laender",
    )
