"""Plotly figure builders: data in, figure out, no Streamlit calls.

Colours come from the Okabe–Ito palette (safe for the common colour-vision deficiencies), one
colour per status, defined here once.
"""

from __future__ import annotations

import plotly.graph_objects as go
import polars as pl

from etl.schema import STATUS

OKABE_ITO = ("#E69F00", "#56B4E9", "#009E73", "#F0E442", "#0072B2", "#D55E00", "#CC79A7",
             "#000000")
STATUS_COLOURS: dict[str, str] = {
    "interessiert": "#CC79A7",
    "beworben": "#E69F00",
    "aufgenommen": "#56B4E9",
    "aktiv": "#0072B2",
    "abgeschlossen": "#009E73",
    "ausgeschieden": "#7F7F7F",
}
assert set(STATUS_COLOURS) == set(STATUS)

_LAYOUT = dict(
    margin=dict(l=10, r=10, t=30, b=10),
    font=dict(family="sans-serif", size=13),
    separators=",.",  # German decimal comma and thousands point
    plot_bgcolor="white",
)


def _layout(fig: go.Figure, lang: str, **kwargs: object) -> go.Figure:
    fig.update_layout(**_LAYOUT, **kwargs)
    if lang != "de":
        fig.update_layout(separators=".,")
    return fig


def status_bar(counts: pl.DataFrame, lang: str = "de", title: str = "") -> go.Figure:
    """Horizontal bars: communes per status (`status`, `anzahl`), in track order."""
    order = {s: i for i, s in enumerate(STATUS)}
    counts = counts.sort(pl.col("status").replace_strict(order, default=99))
    fig = go.Figure(
        go.Bar(
            x=counts.get_column("anzahl").to_list(),
            y=counts.get_column("status").to_list(),
            orientation="h",
            marker_color=[STATUS_COLOURS.get(s, "#7F7F7F") for s in counts.get_column("status")],
            text=counts.get_column("anzahl").to_list(),
            textposition="outside",
            hovertemplate="%{y}: %{x}<extra></extra>",
        )
    )
    fig.update_yaxes(autorange="reversed")
    fig.update_xaxes(showgrid=True, gridcolor="#e5e5e5", rangemode="tozero")
    return _layout(fig, lang, title=title, height=60 + 36 * max(counts.height, 1))


def module_bars(uptake: pl.DataFrame, value: str, lang: str = "de", title: str = ""
                ) -> go.Figure:
    """Bars per module for one measure (`veranstaltungen` or `teilnehmende`)."""
    labels = [f"{m} {b}" for m, b in uptake.select("modul", "bezeichnung").iter_rows()]
    fig = go.Figure(
        go.Bar(x=labels, y=uptake.get_column(value).to_list(), marker_color=OKABE_ITO[4],
               text=uptake.get_column(value).to_list(), textposition="outside",
               hovertemplate="%{x}: %{y}<extra></extra>")
    )
    fig.update_yaxes(showgrid=True, gridcolor="#e5e5e5", rangemode="tozero")
    return _layout(fig, lang, title=title, height=320)
