"""Plotly figure builders: data in, figure out, no Streamlit calls.

Colours come from the Okabe–Ito palette (safe for the common colour-vision deficiencies), one
colour per status, defined here once.
"""

from __future__ import annotations

import plotly.graph_objects as go
from plotly.subplots import make_subplots
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


def _count_axis(fig: go.Figure, max_value: float, axis: str = "x") -> None:
    """Counts have whole-number ticks (no "0,5 Kommunen")."""
    update = fig.update_xaxes if axis == "x" else fig.update_yaxes
    update(showgrid=True, gridcolor="#e5e5e5", rangemode="tozero",
           dtick=1 if max_value <= 8 else None, tickformat=",d")


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
    _count_axis(fig, counts.get_column("anzahl").max() or 0)
    return _layout(fig, lang, title=title, height=60 + 36 * max(counts.height, 1))


def module_bars(uptake: pl.DataFrame, lang: str, events_label: str, participants_label: str
                ) -> go.Figure:
    """Events and participants per module side by side (`modul`, `bezeichnung`, measures)."""
    labels = [f"{m} {b}" for m, b in uptake.select("modul", "bezeichnung").iter_rows()]
    labels = [lbl if len(lbl) < 28 else lbl[:26] + "…" for lbl in labels]
    fig = make_subplots(rows=1, cols=2, shared_yaxes=True, horizontal_spacing=0.08,
                        subplot_titles=(events_label, participants_label))
    for col, (column, colour) in enumerate((("veranstaltungen", OKABE_ITO[1]),
                                            ("teilnehmende", OKABE_ITO[4])), start=1):
        values = uptake.get_column(column).to_list()
        fig.add_bar(y=labels, x=values, orientation="h", marker_color=colour, text=values,
                    textposition="auto", showlegend=False,
                    hovertemplate="%{y}: %{x}<extra></extra>", row=1, col=col)
    fig.update_yaxes(autorange="reversed")
    _count_axis(fig, uptake.get_column("veranstaltungen").max() or 0)
    fig = _layout(fig, lang, height=260)
    return fig.update_layout(margin=dict(t=40))
