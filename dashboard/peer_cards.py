"""Peer suggestions on screen: cards, the small offline map, tables and exports.

Used by the Vernetzung page and by the Kommune page (`render_peer_cards(viewer, kommune_id, n=3)`
shows the top three suggestions with reasons). The figure and table builders are pure; the
`render_*` functions lay out with Streamlit. Everything shown comes from
`data.peer_suggestions`, which already decides what the viewer may see.
"""

from __future__ import annotations

import html
import math
from pathlib import Path
from urllib.parse import quote

import plotly.graph_objects as go
import polars as pl
import streamlit as st

from dashboard import data, figcache, fmt, ui
from dashboard.i18n import translate, translate_values
from dashboard.maps import boundary_source
from dashboard.report import xlsx as report_xlsx

PAGES_DIR = Path(__file__).resolve().parent.parent / "pages"
KOMMUNE_PAGE = PAGES_DIR / "kommune.py"
VERNETZUNG_PAGE = PAGES_DIR / "vernetzung.py"
OWN_COLOUR = "#000000"
PEER_COLOUR = "#0072B2"  # Okabe–Ito blue
# ---- pure builders -------------------------------------------------------------------------------


def suggestion_table(suggestions: pl.DataFrame, lang: str, with_contact: bool = True
                     ) -> pl.DataFrame:
    """The suggestion list as shown and exported: translated headers, reasons joined by "; ".

    No score column, not even for staff: the order and the reasons explain the match."""
    cols = ["name", "typ", "bundesland", "einwohner", "distanz_km", "gruende"]
    suggestions = _places(suggestions, lang)
    if with_contact:
        cols += [c for c in ("ansprechperson", "email", "telefon") if c in suggestions.columns]
    frame = (suggestions
             .with_columns(pl.col("gruende").list.join("; "),
                           pl.col("distanz_km").round(0).cast(pl.Int64))
             .select(cols)
             .with_row_index("rang", offset=1)
             .with_columns(pl.col("rang").cast(pl.Int64)))
    return frame.rename({c: translate(lang, f"vernetzung.col.{c}") for c in frame.columns})


def _places(frame: pl.DataFrame, lang: str) -> pl.DataFrame:
    """Commune type and Land in `lang` (the data stay German)."""
    return translate_values(frame, lang, typ="typ", bundesland="bundesland")


def map_table(own: dict, suggestions: pl.DataFrame, lang: str) -> pl.DataFrame:
    """Exactly the points on the peer map: the chosen commune first, then the suggestions."""
    tr = translate
    own, suggestions = _places(pl.DataFrame([own]), lang).row(0, named=True), _places(
        suggestions, lang)
    rows = pl.concat([
        pl.DataFrame({"markierung": [tr(lang, "vernetzung.map_own")], "name": [own["name"]],
                      "typ": [own["typ"]], "bundesland": [own["bundesland"]],
                      "distanz_km": [0], "lat": [float(own["lat"])], "lon": [float(own["lon"])]}),
        suggestions.select(
            pl.lit(tr(lang, "vernetzung.map_peers")).alias("markierung"), "name", "typ",
            "bundesland",
            pl.col("distanz_km").round(0).cast(pl.Int64), pl.col("lat").cast(pl.Float64),
            pl.col("lon").cast(pl.Float64)),
    ], how="vertical_relaxed")
    labels = {c: tr(lang, f"vernetzung.col.{c}") for c in rows.columns if c != "markierung"}
    labels["markierung"] = tr(lang, "vernetzung.map_header")
    return rows.rename(labels)


def _fit_zoom(lats: list[float], lons: list[float], width: int = 640, height: int = 420
              ) -> tuple[dict, float]:
    """Centre and MapLibre zoom that show all points with some margin."""
    lat0, lat1, lon0, lon1 = min(lats), max(lats), min(lons), max(lons)
    center = {"lat": (lat0 + lat1) / 2, "lon": (lon0 + lon1) / 2}
    if len(lats) < 2:
        return center, 7.0
    lon_span = max(lon1 - lon0, 0.05) * 1.4
    lat_span = max(lat1 - lat0, 0.05) * 1.4 / math.cos(math.radians(center["lat"]))
    zoom = min(math.log2(360 * width / (512 * lon_span)),
               math.log2(360 * height / (512 * lat_span)))
    return center, max(4.0, min(zoom, 9.0))


@figcache.cached(maxsize=4)
def peer_map_figure(own: dict, suggestions: pl.DataFrame, lang: str, geo_url: str | None = None
                    ) -> go.Figure:
    """Offline map: Länder borders as a line layer, the commune in black, peers in blue.

    Markers only (text labels would make MapLibre fetch glyphs from the internet); no tiles.
    """
    tr = translate
    own, suggestions = _places(pl.DataFrame([own]), lang).row(0, named=True), _places(
        suggestions, lang)
    hover = "<b>%{customdata[0]}</b><br>%{customdata[1]} · %{customdata[2]}<br>%{customdata[3]}"
    fig = go.Figure()
    for name, frame, colour, size in (
        (tr(lang, "vernetzung.map_own"), pl.DataFrame([own]).select(
            "name", "typ", "bundesland", "lat", "lon",
            pl.lit("").alias("dist")), OWN_COLOUR, 16),
        (tr(lang, "vernetzung.map_peers"), suggestions.select(
            "name", "typ", "bundesland", "lat", "lon",
            fmt.texts(suggestions["distanz_km"], lambda km: tr(
                lang, "vernetzung.distance", km=fmt.number(round(km), lang=lang))).alias("dist")),
         PEER_COLOUR, 12),
    ):
        if frame.is_empty():
            continue
        custom = [[html.escape(str(v)) for v in row]
                  for row in frame.select("name", "typ", "bundesland", "dist").rows()]
        fig.add_trace(go.Scattermap(
            lat=frame["lat"].to_list(), lon=frame["lon"].to_list(), mode="markers", name=name,
            customdata=custom, hovertemplate=hover + "<extra></extra>",
            marker={"size": size, "color": colour, "opacity": 0.9},
        ))
    lats = [float(own["lat"]), *suggestions["lat"].to_list()]
    lons = [float(own["lon"]), *suggestions["lon"].to_list()]
    center, zoom = _fit_zoom(lats, lons)
    fig.update_layout(
        map={"style": "white-bg", "center": center, "zoom": zoom,
             "layers": [{"source": boundary_source("laender", geo_url), "type": "line",
                         "color": "#555555",
                         "line": {"width": 1.2}, "below": "traces"}]},
        margin={"l": 0, "r": 0, "t": 0, "b": 0}, height=420,
        legend={"yanchor": "top", "y": 0.99, "xanchor": "left", "x": 0.01,
                "bgcolor": "rgba(255,255,255,0.85)"},
        separators=",." if lang == "de" else ".,",
    )
    return fig


# ---- Streamlit rendering -------------------------------------------------------------------------


def _contact(row: dict, viewer: data.Viewer) -> None:
    """Contact details where the data layer released them (staff, consent, accepted request)."""
    if not row.get("kontakt_sichtbar"):
        st.caption(ui.t("austausch.contact_after_accept"))
        return
    render_contact(row)


def render_contact(row: dict) -> None:
    """One line: contact person · e-mail link · phone (all escaped)."""
    if not any(row.get(c) for c in ("ansprechperson", "email", "telefon")):
        st.caption(ui.t("vernetzung.contact_none"))
        return
    parts = [ui.md_escape(row["ansprechperson"])] if row.get("ansprechperson") else []
    if row.get("email"):
        parts.append(f"[{ui.md_escape(row['email'])}](mailto:{quote(row['email'], safe='@.+')})")
    if row.get("telefon"):
        parts.append(ui.md_escape(row["telefon"]))
    st.markdown(f":material/contact_mail: {' · '.join(parts)}")


def render_suggestion_cards(suggestions: pl.DataFrame, viewer: data.Viewer,
                            columns: int = 3, on_card=None) -> None:
    """One bordered card per suggestion: name, type, Land, size, distance, reasons, contact
    (only where the data layer released it) and a link to the peer's profile; `on_card(row)`
    adds more to a card (the contact request form on the Vernetzung page)."""
    lang = ui.lang()
    rows = suggestions.to_dicts()
    for start in range(0, len(rows), columns):
        for col, row in zip(st.columns(columns), rows[start:start + columns], strict=False):
            with col.container(border=True):
                st.markdown(f"**{ui.md_escape(row['name'])}**")
                meta = [ui.value("typ", row["typ"]), ui.value("bundesland", row["bundesland"]),
                        ui.t("vernetzung.einwohner",
                             einwohner=fmt.number(row["einwohner"], lang=lang)),
                        ui.t("vernetzung.distance",
                             km=fmt.number(round(row["distanz_km"]), lang=lang))]
                st.caption(" · ".join(ui.md_escape(m) for m in meta))
                st.markdown("\n".join(f"- {ui.md_escape(r)}" for r in row["gruende"]))
                _contact(row, viewer)
                st.page_link(KOMMUNE_PAGE, label=ui.t("vernetzung.profile"),
                             icon=":material/arrow_forward:",
                             query_params={"kommune": row["kommune_id"]})
                if on_card is not None:
                    on_card(row)


def render_peer_cards(viewer: data.Viewer, kommune_id: str, n: int = 3, columns: int = 3
                      ) -> pl.DataFrame:
    """Top-`n` suggestions for `kommune_id` as cards (for the Kommune page), with a link to the
    Vernetzung page. Shows a short note instead when the viewer may not see suggestions or
    nothing fits. Returns the suggestions shown (empty if none)."""
    try:
        suggestions = data.peer_suggestions(viewer, kommune_id, n=n, lang=ui.lang())
    except PermissionError:
        st.caption(ui.t("vernetzung.only_own" if viewer.role == "kommune"
                        else "vernetzung.no_access"))
        return pl.DataFrame()
    if suggestions.is_empty():
        st.caption(ui.t("vernetzung.empty_text"))
    else:
        render_suggestion_cards(suggestions, viewer, columns=columns)
    st.page_link(VERNETZUNG_PAGE, label=ui.t("vernetzung.title"), icon=":material/hub:",
                 query_params={"kommune": kommune_id})
    return suggestions


def xlsx_button(sheets: dict[str, pl.DataFrame], file_stem: str, key: str,
                label: str | None = None) -> None:
    """Download button for an XLSX workbook with one sheet per frame, made when clicked."""
    lang = ui.lang()
    ui.download_on_click(
        st, label or ui.t("vernetzung.export_xlsx"),
        lambda: report_xlsx.sheets_bytes(sheets, lang), f"{file_stem}.xlsx",
        mime="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", key=key,
        icon=":material/table_view:")
