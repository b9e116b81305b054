"""Karte: where the programme reaches – communes as points, and counts per Bundesland."""

import polars as pl
import streamlit as st

from dashboard import data, maps, ui

lang, viewer, filters = ui.page("karte.title")

points = data.load_map_points(viewer, filters)
if points.is_empty():
    ui.empty_state()
    ui.end_page()

# One view at a time (not tabs): a hidden tab's map would still be sent to the browser.
view = st.radio(
    ui.t("karte.view"),
    ["points", "laender"],
    horizontal=True,
    key="map_view",
    format_func=lambda v: ui.t(f"karte.view_{v}"),
    label_visibility="collapsed",
)
public = viewer.role == "public"
if public and (filters.status or filters.start_quartal):
    st.info(ui.t("map_public.filters_ignored"), icon=":material/info:")
if view == "points":
    left, right = st.columns([2, 1])
    if public:
        # the public map shows which communes take part, never their programme state
        colour_by = "none"
        left.caption(ui.t("map_public.hint"))
    else:
        colour_by = left.radio(
            ui.t("karte.colour_by"),
            ["status", "phase"],
            horizontal=True,
            format_func=lambda v: ui.t(f"karte.colour_{v}"),
            key="map_colour",
        )
    show_kreise = right.toggle(ui.t("karte.kreise"), value=False, key="map_kreise")
    points, lean = maps.cached_points_map(viewer, filters, colour_by, show_kreise=show_kreise,
                                         lang=lang, geo_url=ui.geo_url())
    profiles = not public  # the public has no profile pages
    box = st.container(key="map_box")
    with box:
        first = ui.paint_pending()
        ui.map_preview(maps.preview_svg(points, colour_by, show_kreise) if first else None,
                       key="map_box", height=maps.HEIGHT)
    if first:
        ui.key_figures_sent(ui.KEY_MAP_PREVIEW)
    event = box.plotly_chart(
        lean.figure,
        key="map_points",
        on_select="rerun" if profiles else "ignore",
        selection_mode="points",
        config={"displaylogo": False},
    )
    if profiles:
        st.caption(ui.t("karte.click_hint"))
        selected = event.selection.points if event and event.selection else []
        if selected:
            ui.open_profile(points.get_column("kommune_id")[lean.row_of(selected[0])])
    # the table (every point) is built and sent only while the expander is open
    table_box = ui.table_box("map_points")
    if table_box:
        with table_box:
            columns = {"name": "karte.name", "kommune_id": None, "typ": "karte.typ",
                       "bundesland": "karte.bundesland", "status": "karte.status",
                       "aktuelle_phase": "karte.phase", "naechster_meilenstein": "karte.next",
                       "einwohner": "karte.einwohner", "lat": None, "lon": None}
            domains = {"typ": "typ", "bundesland": "bundesland", "status": "status",
                       "aktuelle_phase": "phase", "naechster_meilenstein": "meilenstein"}
            table = ui.values(points, **{c: d for c, d in domains.items() if c in points.columns}
                              ).select(
                pl.col(c).alias(ui.t(label) if label else ("AGS" if c == "kommune_id" else c))
                for c, label in columns.items() if c in points.columns
            )
            ui.table_with_download(table, "karte_kommunen", key="dl_map_points",
                                   link_profiles=profiles)
else:
    if public:
        st.caption(ui.t("map_public.laender_hint"))
        st.caption(ui.t("auth.suppressed"))
    counts = data.counts_by_land(viewer, filters)
    if public and counts.get_column("kommunen").null_count() == counts.height:
        # every Land hidden: no empty map with a meaningless colour scale
        st.caption(ui.t("public.all_hidden"))
        ui.end_page()
    fig = maps.land_choropleth(counts, ui.t("karte.kommunen"), lang=lang, geo_url=ui.geo_url())
    ui.chart_and_table(
        fig,
        ui.labelled(ui.values(counts, bundesland="bundesland"), "karte",
                    "bundesland", "kommunen", "einwohner"),
        "kommunen_je_bundesland",
        key="map_laender",
    )
