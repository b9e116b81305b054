"""Offline maps: MapLibre traces on a white background with our own boundaries (no tiles, no CDN).

Boundaries come from the committed GeoJSON files made from the BKG VG250 package
(`etl/geo/build_reference.py`). Points use `mode="markers"` only: text labels would make MapLibre
fetch glyphs from the internet.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path

import numpy as np
import plotly.graph_objects as go
import polars as pl

from dashboard.charts import STATUS_COLOURS
from dashboard.i18n import translate_values, value
from etl.schema import MEILENSTEINE

GEO_DIR = Path(__file__).resolve().parent.parent / "data" / "geo"
CENTER = {"lat": 51.16, "lon": 10.45}
PHASE_SCALE = "Cividis"  # sequential and colour-blind-safe: phase is ordinal


@cache
def boundaries(level: str) -> dict:
    """The simplified boundaries of `laender` or `kreise` as GeoJSON (read once per process)."""
    return json.loads((GEO_DIR / f"{level}.geojson").read_text(encoding="utf-8"))


def _base_layout(fig: go.Figure, show_kreise: bool, height: int, lang: str = "de") -> go.Figure:
    layers = []
    if show_kreise:
        layers.append({"source": boundaries("kreise"), "type": "line", "color": "#b5b5b5",
                       "line": {"width": 0.5}, "below": "traces"})
    layers.append({"source": boundaries("laender"), "type": "line", "color": "#555555",
                   "line": {"width": 1.2}, "below": "traces"})
    fig.update_layout(
        map={"style": "white-bg", "center": CENTER, "zoom": 4.6, "layers": layers},
        margin={"l": 0, "r": 0, "t": 0, "b": 0},
        height=height,
        legend={"yanchor": "top", "y": 0.99, "xanchor": "left", "x": 0.01,
                "bgcolor": "rgba(255,255,255,0.85)"},
        separators=",." if lang == "de" else ".,",
    )
    return fig


def marker_sizes(einwohner: pl.Series, smallest: float = 6, largest: float = 26) -> list[float]:
    """Marker area grows with population (square-root scale), so big cities do not hide others."""
    values = np.sqrt(einwohner.fill_null(0).to_numpy().astype(float))
    top = values.max() if len(values) and values.max() > 0 else 1.0
    return (smallest + (largest - smallest) * values / top).round(1).tolist()


def points_map(points: pl.DataFrame, colour_by: str, labels: dict[str, str],
               show_kreise: bool = True, height: int = 620, lang: str = "de") -> go.Figure:
    """Communes as points coloured by `status` or current phase, sized by population.

    `labels` holds translated hover labels: typ, phase, next, status, einwohner, none.
    """
    fig = go.Figure()
    hover = (
        "<b>%{customdata[1]}</b><br>" + labels["typ"] + ": %{customdata[2]}<br>"
        + labels["status"] + ": %{customdata[3]}<br>" + labels["phase"] + ": %{customdata[4]}<br>"
        + labels["next"] + ": %{customdata[5]}<br>" + labels["einwohner"]
        + ": %{customdata[6]:,.0f}<extra></extra>"
    )
    # hover texts in `lang`; the German status still picks the colour
    texts = ["typ", "status", "aktuelle_phase", "naechster_meilenstein"]
    shown = translate_values(points, lang, typ="typ", status="status", aktuelle_phase="phase",
                             naechster_meilenstein="meilenstein")
    points = points.with_columns(
        *shown.select(pl.col(texts).name.suffix("_txt")),
    ).with_columns(pl.col("naechster_meilenstein_txt").fill_null(labels["none"]))
    custom_cols = ["kommune_id", "name", *(f"{c}_txt" for c in texts), "einwohner"]
    if colour_by == "status":
        # communes that left are drawn first, so they never hide the active ones
        order = sorted(STATUS_COLOURS.items(), key=lambda kv: kv[0] != "ausgeschieden")
        for status, colour in order:
            part = points.filter(pl.col("status") == status)
            if part.is_empty():
                continue
            fig.add_trace(go.Scattermap(
                lat=part["lat"].to_list(), lon=part["lon"].to_list(), mode="markers",
                name=value(lang, "status", status),
                legendrank=list(STATUS_COLOURS).index(status),
                customdata=part.select(custom_cols).rows(),
                marker={"size": marker_sizes(part["einwohner"]), "color": colour,
                        "opacity": 0.85},
                hovertemplate=hover,
            ))
    else:
        ticks = list(range(0, len(MEILENSTEINE) + 1))
        fig.add_trace(go.Scattermap(
            lat=points["lat"].to_list(), lon=points["lon"].to_list(), mode="markers",
            name=labels["phase"], customdata=points.select(custom_cols).rows(),
            marker={"size": marker_sizes(points["einwohner"]),
                    "color": points["phase_index"].to_list(), "colorscale": PHASE_SCALE,
                    "cmin": 0, "cmax": len(MEILENSTEINE), "opacity": 0.9,
                    "colorbar": {"title": {"text": labels["phase"]}, "tickvals": ticks,
                                 "ticktext": [labels["none_started"],
                                              *(value(lang, "meilenstein", m)
                                                for m in MEILENSTEINE)],
                                 "len": 0.8}},
            hovertemplate=hover, showlegend=False,
        ))
    return _base_layout(fig, show_kreise, height, lang)


def land_choropleth(counts: pl.DataFrame, value_label: str, height: int = 620, lang: str = "de"
                    ) -> go.Figure:
    """Communes per Bundesland as a choropleth (colour-blind-safe sequential scale)."""
    fig = go.Figure(go.Choroplethmap(
        geojson=boundaries("laender"), featureidkey="properties.name",
        locations=counts["bundesland"].to_list(), z=counts["kommunen"].to_list(),
        colorscale="Blues", marker={"line": {"width": 0.8, "color": "#555555"}},
        colorbar={"title": {"text": value_label}},
        text=translate_values(counts, lang, bundesland="bundesland")["bundesland"].to_list(),
        hovertemplate="<b>%{text}</b><br>" + value_label + ": %{z}<extra></extra>",
    ))
    fig = _base_layout(fig, show_kreise=False, height=height, lang=lang)
    return fig
