"""Plotly figure builders: data in, figure out, no Streamlit calls.

Colours come from the Okabe–Ito palette (safe for the common colour-vision deficiencies), one
colour per status, defined here once.
"""

from __future__ import annotations

import plotly.graph_objects as go
from plotly.subplots import make_subplots
import polars as pl

from dashboard import fmt
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


def _count_axis(fig: go.Figure, max_value: float, axis: str = "x", **where: int) -> None:
    """Counts have whole-number ticks (no "0,5 Kommunen"); `where` picks a subplot."""
    update = fig.update_xaxes if axis == "x" else fig.update_yaxes
    update(showgrid=True, gridcolor="#e5e5e5", rangemode="tozero",
           dtick=1 if max_value <= 8 else None, tickformat=",d", **where)


def _layout(fig: go.Figure, lang: str, **kwargs: object) -> go.Figure:
    fig.update_layout(**{**_LAYOUT, **kwargs})
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
        _count_axis(fig, max(values, default=0) or 0, row=1, col=col)
    fig.update_yaxes(autorange="reversed")
    return _layout(fig, lang, height=260, margin=dict(l=10, r=10, t=40, b=10))


# Milestone states on the timeline: marker symbol and colour (Okabe–Ito; shape differs too, so
# the states stay distinguishable without colour).
TIMELINE_STYLE: dict[str, tuple[str, str]] = {
    "geplant": ("circle-open", "#0072B2"),
    "erreicht": ("diamond", "#009E73"),
    "verspätet erreicht": ("diamond", "#E69F00"),
    "überfällig": ("x", "#D55E00"),
    "entfallen": ("circle-open", "#7F7F7F"),
}


def _german_date(col: str) -> pl.Expr:
    return pl.col(col).dt.strftime("%d.%m.%Y").fill_null("–")


def timeline(progress: pl.DataFrame, datenstand, labels: dict[str, str], lang: str = "de",
             target_months: tuple[int, int] = (4, 6)) -> go.Figure:
    """Gantt-like timeline: one lane per commune, planned (open) vs reached (filled) milestones.

    `progress` rows: kommune_id, name, meilenstein, geplant_am, erreicht_am, zustand,
    start_ist; lanes appear in the order of the frame. Grey ticks mark 4 and 6 months after
    each start; a vertical line marks the data date.
    """
    lanes = progress.unique("kommune_id", keep="first", maintain_order=True)
    names = lanes["name"].to_list()
    fig = go.Figure()
    # planned track of each commune as a thin grey line from first to last planned date
    spans = progress.group_by("name", maintain_order=True).agg(
        pl.min_horizontal(pl.col("geplant_am").min(), pl.col("erreicht_am").min()).alias("von"),
        pl.max_horizontal(pl.col("geplant_am").max(), pl.col("erreicht_am").max()).alias("bis"))
    xs, ys = [], []
    for name, von, bis in spans.iter_rows():
        xs += [von, bis, None]
        ys += [name, name, None]
    fig.add_trace(go.Scatter(x=xs, y=ys, mode="lines", line={"color": "#d0d0d0", "width": 6},
                             hoverinfo="skip", showlegend=False))
    # 4- and 6-month marks after each actual start
    starts = lanes.filter(pl.col("start_ist").is_not_null())
    for months, key, grey in ((target_months[0], "mark_min", "#9a9a9a"),
                              (target_months[1], "mark_max", "#333333")):
        marks = starts.select("name", pl.col("start_ist").dt.offset_by(f"{months}mo").alias("x"))
        fig.add_trace(go.Scatter(
            x=marks["x"].to_list(), y=marks["name"].to_list(), mode="markers",
            marker={"symbol": "line-ns", "size": 16, "line": {"width": 2, "color": grey}},
            name=labels[key], hovertemplate="%{y}: " + labels[key] + "<extra></extra>",
        ))
    # milestones: planned markers, then reached markers on top
    frame = progress.with_columns(
        _german_date("geplant_am").alias("geplant_txt"),
        _german_date("erreicht_am").alias("erreicht_txt"),
        pl.coalesce("erreicht_am", "geplant_am").alias("x"),
    )
    for state, (symbol, colour) in TIMELINE_STYLE.items():
        part = frame.filter(pl.col("zustand") == state)
        if part.is_empty():
            continue
        fig.add_trace(go.Scatter(
            x=part["x"].to_list(), y=part["name"].to_list(), mode="markers", name=labels[state],
            marker={"symbol": symbol, "size": 11, "color": colour,
                    "line": {"width": 2, "color": colour}},
            customdata=part.select("meilenstein", "geplant_txt", "erreicht_txt").rows(),
            hovertemplate="<b>%{y}</b><br>%{customdata[0]}<br>" + labels["geplant"]
            + ": %{customdata[1]}<br>" + labels["erreicht"] + ": %{customdata[2]}<extra>"
            + labels[state] + "</extra>",
        ))
    fig.add_vline(x=datenstand, line={"color": "#000000", "width": 1.5, "dash": "dot"})
    fig.add_annotation(x=datenstand, y=0, yref="paper", text=labels["today"], showarrow=False,
                       yanchor="top", xanchor="left", font={"size": 12},
                       bgcolor="rgba(255,255,255,0.9)")
    fig.update_yaxes(categoryorder="array", categoryarray=names, autorange="reversed",
                     showgrid=True, gridcolor="#f0f0f0")
    fig.update_xaxes(showgrid=True, gridcolor="#e5e5e5",
                     tickformat="%m/%Y" if lang == "de" else "%Y-%m")
    return _layout(fig, lang, height=150 + 26 * max(len(names), 1),
                   legend={"orientation": "h", "y": 1.0, "yanchor": "bottom", "x": 0},
                   margin={"l": 10, "r": 10, "t": 60, "b": 30})


def funnel(counts: pl.DataFrame, total: int, lang: str, reached_label: str) -> go.Figure:
    """How many of `total` communes reached each milestone, in track order (a phase funnel)."""
    reached = counts["erreicht"].to_list()
    text = [f"{n} ({fmt.percent(n / total if total else None, 0, lang)})" for n in reached]
    fig = go.Figure(go.Bar(
        y=counts["meilenstein"].to_list(), x=reached, orientation="h", text=text,
        textposition="auto", marker={"color": OKABE_ITO[4]},
        hovertemplate="%{y}: %{x}<extra>" + reached_label + "</extra>",
    ))
    fig.update_yaxes(autorange="reversed")
    _count_axis(fig, max(reached, default=0))
    return _layout(fig, lang, height=340)


def duration_histogram(durations: pl.DataFrame, lang: str, labels: dict[str, str],
                       target_months: tuple[int, int] = (4, 6)) -> go.Figure:
    """Track durations in months (finished and running) against the 4–6-month target band."""
    fig = go.Figure()
    for beendet, colour, label in ((True, OKABE_ITO[2], labels["finished"]),
                                   (False, OKABE_ITO[1], labels["running"])):
        part = durations.filter(pl.col("beendet") == beendet)
        fig.add_trace(go.Histogram(x=part["dauer_monate"].to_list(), name=label,
                                   marker_color=colour, xbins={"size": 1},
                                   hovertemplate="%{x} " + labels["months"] + ": %{y}<extra>"
                                   + label + "</extra>"))
    fig.add_vrect(x0=target_months[0], x1=target_months[1], fillcolor="#009E73", opacity=0.12,
                  line_width=0, annotation_text=labels["target"], annotation_position="top left")
    fig.update_layout(barmode="stack")
    fig.update_xaxes(title=labels["months"], dtick=1)
    peak = durations["dauer_monate"].round(0).value_counts()["count"].max() if durations.height \
        else 0
    _count_axis(fig, peak or 0, axis="y")
    fig.update_yaxes(title=labels["count"])
    return _layout(fig, lang, height=340, legend={"orientation": "h", "y": 1.12})
