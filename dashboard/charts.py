"""Plotly figure builders: data in, figure out, no Streamlit calls.

The builders the pages call are `figcache.cached`: built once per content, shared read-only.

Colours come from the Okabe–Ito palette (safe for the common colour-vision deficiencies), one
colour per status, defined here once.
"""

from __future__ import annotations

import textwrap

import plotly.graph_objects as go
import polars as pl
from plotly.subplots import make_subplots

from dashboard import figcache, fmt
from dashboard.i18n import value, value_names
from dashboard.report.definitions import SMALL_CELL_TEXT
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


def count_ticks(max_value: float) -> dict:
    """Whole-number ticks for counts up to `max_value` (no "0,5 Kommunen"), for an axis or a
    colour bar."""
    return {"dtick": 1 if max_value <= 8 else None, "tickformat": ",d"}


def _count_axis(fig: go.Figure, max_value: float, axis: str = "x", **where: int) -> None:
    """Counts have whole-number ticks; `where` picks a subplot."""
    update = fig.update_xaxes if axis == "x" else fig.update_yaxes
    update(showgrid=True, gridcolor="#e5e5e5", rangemode="tozero", **count_ticks(max_value),
           **where)


def _bar_values(values: list) -> tuple[list, list, float]:
    """Bar lengths, labels and the largest shown value; a count hidden by the public small-cell
    rule (None) gets no bar and the label "x"."""
    shown = [v for v in values if v is not None]
    return ([v or 0 for v in values], [SMALL_CELL_TEXT if v is None else v for v in values],
            max(shown, default=0))


def _text_positions(text: list) -> list[str]:
    """Inside or beside the bar as fits; a hidden value's "x" beside its empty bar (inside a bar
    of length 0 Plotly draws nothing)."""
    return ["outside" if t == SMALL_CELL_TEXT else "auto" for t in text]


def _names(lang: str, domain: str, values: list) -> list:
    """German data values as the chart shows them in `lang` (`[werte.<domain>]`)."""
    return [value(lang, domain, v) for v in values]


def _module_label(nr: int, name: str, lang: str, width: int = 24) -> str:
    """"2 Stärkung kommunaler<br>Entscheidungsträger*innen": the whole name on up to three
    lines instead of a name cut at a fixed length."""
    return "<br>".join(textwrap.wrap(f"{nr} {value(lang, 'modul', name)}", width))


def _layout(fig: go.Figure, lang: str, **kwargs: object) -> go.Figure:
    fig.update_layout(**{**_LAYOUT, **kwargs})
    if lang != "de":
        fig.update_layout(separators=".,")
    return fig


@figcache.cached
def status_bar(counts: pl.DataFrame, lang: str = "de", title: str = "") -> go.Figure:
    """Horizontal bars: communes per status (`status`, `anzahl`), in track order. A count hidden
    by the public small-cell rule (null) is labelled "x" instead of drawn."""
    order = {s: i for i, s in enumerate(STATUS)}
    counts = counts.sort(pl.col("status").replace_strict(order, default=99))
    x, text, top = _bar_values(counts.get_column("anzahl").to_list())
    fig = go.Figure(
        go.Bar(
            x=x,
            y=_names(lang, "status", counts.get_column("status").to_list()),
            orientation="h",
            marker_color=[STATUS_COLOURS.get(s, "#7F7F7F") for s in counts.get_column("status")],
            text=text,
            textposition="outside",
            hovertemplate="%{y}: %{x}<extra></extra>",
        )
    )
    fig.update_yaxes(autorange="reversed")
    _count_axis(fig, top)
    return _layout(fig, lang, title=title, height=60 + 36 * max(counts.height, 1))


@figcache.cached
def module_bars(uptake: pl.DataFrame, lang: str, events_label: str, participants_label: str
                ) -> go.Figure:
    """Events and participants per module side by side (`modul`, `bezeichnung`, measures)."""
    labels = [_module_label(m, b, lang)
              for m, b in uptake.select("modul", "bezeichnung").iter_rows()]
    fig = make_subplots(rows=1, cols=2, shared_yaxes=True, horizontal_spacing=0.08,
                        subplot_titles=(events_label, participants_label))
    for col, (column, colour) in enumerate((("veranstaltungen", OKABE_ITO[1]),
                                            ("teilnehmende", OKABE_ITO[4])), start=1):
        x, text, top = _bar_values(uptake.get_column(column).to_list())
        fig.add_bar(y=labels, x=x, orientation="h", marker_color=colour, text=text,
                    textposition=_text_positions(text), showlegend=False,
                    hovertemplate="%{y}: %{x}<extra></extra>", row=1, col=col)
        _count_axis(fig, top, row=1, col=col)
    fig.update_yaxes(autorange="reversed")
    lines = sum(label.count("<br>") + 1 for label in labels)
    return _layout(fig, lang, height=max(260, 80 + 30 * lines),
                   margin=dict(l=10, r=10, t=40, b=10))


# Milestone states on the timeline: marker symbol and colour (Okabe–Ito; shape differs too, so
# the states stay distinguishable without colour).
TIMELINE_STYLE: dict[str, tuple[str, str]] = {
    "geplant": ("circle-open", "#0072B2"),
    "erreicht": ("diamond", "#009E73"),
    "verspätet erreicht": ("diamond", "#E69F00"),
    "überfällig": ("x", "#D55E00"),
    "entfallen": ("circle-open", "#7F7F7F"),
}


def _date_text(dates: pl.Series, lang: str) -> pl.Series:
    return fmt.texts(dates, lambda d: fmt.date(d, lang)).fill_null(fmt.NONE)


@figcache.cached
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
        _date_text(progress["geplant_am"], lang).alias("geplant_txt"),
        _date_text(progress["erreicht_am"], lang).alias("erreicht_txt"),
        pl.col("meilenstein").replace(value_names(lang, "meilenstein")),
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
    # below the date ticks, so the label never covers one
    fig.add_annotation(x=datenstand, y=0, yref="paper", yshift=-24, text=labels["today"],
                       showarrow=False, yanchor="top", xanchor="center", font={"size": 12})
    fig.update_yaxes(categoryorder="array", categoryarray=names, autorange="reversed",
                     showgrid=True, gridcolor="#f0f0f0")
    fig.update_xaxes(showgrid=True, gridcolor="#e5e5e5",
                     tickformat="%m/%Y" if lang == "de" else "%b %Y")
    return _layout(fig, lang, height=150 + 26 * max(len(names), 1),
                   legend={"orientation": "h", "y": 1.0, "yanchor": "bottom", "x": 0},
                   margin={"l": 10, "r": 10, "t": 60, "b": 50})


@figcache.cached
def funnel(counts: pl.DataFrame, total: int, lang: str, reached_label: str) -> go.Figure:
    """How many of `total` communes reached each milestone, in track order (a phase funnel)."""
    reached = counts["erreicht"].to_list()
    text = [f"{n} ({fmt.percent(n / total if total else None, 0, lang)})" for n in reached]
    fig = go.Figure(go.Bar(
        y=_names(lang, "meilenstein", counts["meilenstein"].to_list()), x=reached,
        orientation="h", text=text,
        textposition="auto", marker={"color": OKABE_ITO[4]},
        hovertemplate="%{y}: %{x}<extra>" + reached_label + "</extra>",
    ))
    fig.update_yaxes(autorange="reversed")
    _count_axis(fig, max(reached, default=0))
    return _layout(fig, lang, height=340)


@figcache.cached
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
    # the band lies below the bars and its label above the plot, where no bar can hide it
    fig.add_vrect(x0=target_months[0], x1=target_months[1], fillcolor="#009E73", opacity=0.12,
                  line_width=0, layer="below")
    fig.add_annotation(x=sum(target_months) / 2, y=1, yref="paper", yanchor="bottom",
                       text=labels["target"], showarrow=False, font={"size": 12})
    fig.update_layout(barmode="stack")
    fig.update_xaxes(title=labels["months"], dtick=1)
    peak = durations["dauer_monate"].round(0).value_counts()["count"].max() if durations.height \
        else 0
    _count_axis(fig, peak or 0, axis="y")
    fig.update_yaxes(title=labels["count"])
    return _layout(fig, lang, height=360, legend={"orientation": "h", "y": 1.2},
                   margin={"l": 10, "r": 10, "t": 70, "b": 10})


MODULE_COLOURS = {1: OKABE_ITO[4], 2: OKABE_ITO[0], 3: OKABE_ITO[2]}


@figcache.cached
def monthly_by_module(monthly: pl.DataFrame, value: str, lang: str, module_names: dict[int, str],
                      value_label: str, month_label: str = "") -> go.Figure:
    """Stacked bars per month, one colour per module (`monat`, `modul`, value column)."""
    fig = go.Figure()
    for modul, name in module_names.items():
        part = monthly.filter(pl.col("modul") == modul)
        if part.is_empty():
            continue
        fig.add_bar(x=part["monat"].to_list(), y=part[value].to_list(), name=name,
                    marker_color=MODULE_COLOURS.get(modul, OKABE_ITO[7]),
                    hovertemplate="%{x|" + ("%m/%Y" if lang == "de" else "%b %Y")
                    + "}: %{y}<extra>" + name + "</extra>")
    fig.update_layout(barmode="stack")
    fig.update_xaxes(tickformat="%m/%Y" if lang == "de" else "%b %Y", dtick="M3",
                     title=month_label)
    _count_axis(fig, monthly[value].max() or 0, axis="y")
    fig.update_yaxes(title=value_label)
    legend = {"orientation": "h", "y": 1.1, "traceorder": "normal"}
    return _layout(fig, lang, height=360, legend=legend)


@figcache.cached
def hbars(frame: pl.DataFrame, category: str, value: str, lang: str, colour: str = OKABE_ITO[4]
          ) -> go.Figure:
    """Horizontal bars of `value` per `category`, largest first (uptake counts, never rankings
    of communes)."""
    frame = frame.sort(value, descending=True, nulls_last=True)
    x, text, top = _bar_values(frame[value].to_list())
    fig = go.Figure(go.Bar(y=frame[category].to_list(), x=x,
                           orientation="h", marker_color=colour, text=text,
                           textposition=_text_positions(text),
                           hovertemplate="%{y}: %{x}<extra></extra>"))
    fig.update_yaxes(autorange="reversed")
    _count_axis(fig, top)
    return _layout(fig, lang, height=80 + 30 * max(frame.height, 1))


@figcache.cached
def selbstcheck_bars(sc: pl.DataFrame, lang: str, labels: dict[str, str]) -> go.Figure:
    """One commune's self-assessed level per Handlungsfeld (1–4); priorities marked by colour
    and a star in the label, so the marking does not rely on colour alone."""
    names = [f"{'★ ' if p else ''}{value(lang, 'handlungsfeld', h)}"
             for h, p in sc.select("handlungsfeld", "prioritaet").rows()]
    colours = [OKABE_ITO[0] if p else OKABE_ITO[4] for p in sc["prioritaet"].to_list()]
    fig = go.Figure(go.Bar(
        y=names, x=sc["stand"].to_list(), orientation="h", marker_color=colours,
        text=sc["stand"].to_list(), textposition="auto",
        hovertemplate="%{y}: " + labels["stand"] + " %{x}<extra></extra>",
    ))
    fig.update_yaxes(autorange="reversed")
    fig.update_xaxes(range=[0, 4], dtick=1, title=labels["stand"], showgrid=True,
                     gridcolor="#e5e5e5")
    return _layout(fig, lang, height=320)


# ---- report (NAP-I) ------------------------------------------------------------------------------
# One builder per chart in dashboard/definitions.CHARTS. Input is the chart's slice of a report
# table (`definitions.chart_data`); in the public version hidden cells are null and labelled "x".

SECTOR_COLOURS = (OKABE_ITO[4], OKABE_ITO[0], OKABE_ITO[2], OKABE_ITO[6], OKABE_ITO[1], "#BBBBBB")


def _report_names(lang: str, domain: str, values: list) -> list:
    """Report categories in `lang`; a value without a German key (a report table translated
    before it reaches the chart) is shown as it is."""
    names = value_names(lang, domain)
    return [names.get(v, v) for v in values]


def _report_module(name: str, lang: str) -> tuple[int, str]:
    """"2 Stärkung …" → (2, "2 Strengthening …") in `lang`."""
    nr, _, rest = name.partition(" ")
    if not nr.isdigit():
        return 0, name
    return int(nr), f"{nr} {_report_names(lang, 'modul', [rest])[0]}"


def _report_texts(data, column: str, lang: str) -> list[str]:
    return [data.marker(column, i) or fmt.number(v, 0, lang)
            for i, v in enumerate(data.frame[column].to_list())]


HBAR_LABEL_GAP = 10  # pixels between a bar chart's category names and its axis


def _report_hbar(data, category: str, value: str, lang: str, colours: list[str] | str,
                 label: str, domain: str) -> go.Figure:
    values = data.frame[value].to_list()
    categories = _report_names(lang, domain, data.frame[category].to_list())
    fig = go.Figure(go.Bar(
        y=categories, x=values, orientation="h", marker_color=colours,
        text=_report_texts(data, value, lang), textposition="outside", cliponaxis=False,
        hovertemplate="%{y}: %{text}<extra></extra>", name=label,
    ))
    hidden = [(c, data.marker(value, i)) for i, c in enumerate(categories)
              if data.marker(value, i)]
    if hidden:  # hidden figures have no bar: say so where the bar would be ("x" or "x")
        fig.add_scatter(x=[0] * len(hidden), y=[c for c, _ in hidden], mode="text",
                        text=[m for _, m in hidden],
                        textposition="middle right", showlegend=False, hoverinfo="skip",
                        cliponaxis=False)
    # the names keep a gap to the axis, where a hidden figure's "x" begins ("Bayern x", not
    # "Bayernx")
    fig.update_yaxes(autorange="reversed", ticklabelstandoff=HBAR_LABEL_GAP)
    _count_axis(fig, max((v for v in values if v is not None), default=0))
    fig.update_xaxes(title=label)
    return _layout(fig, lang, height=90 + 26 * max(data.frame.height, 1), showlegend=False)


# Above the plot: below it, the legend ran into the tilted quarter ticks and the axis title.
_LEGEND_ABOVE = {"orientation": "h", "y": 1.02, "yanchor": "bottom", "x": 0,
                 "traceorder": "normal"}


@figcache.cached
def report_chart(key: str, data, lang: str, short_names: bool = True) -> go.Figure:
    """The report chart `key` from its data slice (`definitions.chart_data(key, report)`);
    `short_names=False` keeps long module names whole in the legend (exported pictures)."""
    frame = data.frame
    labels = {c.name: c.label(lang).removeprefix("davon ").removeprefix("of which ")
              for c in data.table.columns}
    if key == "kommunen_status":
        return _report_hbar(data, "status", "kommunen", lang,
                            [STATUS_COLOURS.get(s, "#7F7F7F") for s in frame["status"]],
                            labels["kommunen"], "status")
    if key == "kommunen_bundesland":
        return _report_hbar(data, "auspraegung", "teilnehmend", lang, OKABE_ITO[4],
                            labels["teilnehmend"], "bundesland")
    if key == "selbstcheck_schritte":
        fig = go.Figure()
        for column, colour in (("bis_stichtag", OKABE_ITO[4]), ("im_zeitraum", OKABE_ITO[1])):
            fig.add_bar(y=_report_names(lang, "schritt", frame["schritt"].to_list()),
                        x=frame[column].to_list(), orientation="h",
                        name=labels[column], marker_color=colour,
                        text=_report_texts(data, column, lang), textposition="outside",
                        cliponaxis=False, hovertemplate="%{y}: %{text}<extra></extra>")
        fig.update_yaxes(autorange="reversed")
        peak = max((v for v in frame["bis_stichtag"].to_list() if v is not None), default=0)
        _count_axis(fig, peak)
        return _layout(fig, lang, height=320, barmode="group",
                       legend={"orientation": "h", "y": -0.15, "traceorder": "normal"})
    if key == "veranstaltungen_modul":
        fig = go.Figure()
        for modul, part in frame.group_by("auspraegung", maintain_order=True):
            nr, name = _report_module(str(modul[0]), lang)
            fig.add_bar(x=_report_names(lang, "quartal", part["quartal"].to_list()),
                        y=part["veranstaltungen"].to_list(),
                        name=name if len(name) < 40 or not short_names else name[:38] + "…",
                        marker_color=MODULE_COLOURS.get(nr, OKABE_ITO[7]),
                        hovertemplate="%{x}: %{y}<extra></extra>")
        fig.update_xaxes(type="category", categoryorder="category ascending",
                         title=labels["quartal"])
        totals = frame.group_by("quartal").agg(pl.col("veranstaltungen").sum())
        _count_axis(fig, totals["veranstaltungen"].max() or 0, axis="y")
        fig.update_yaxes(title=labels["veranstaltungen"])
        return _layout(fig, lang, height=420, barmode="stack",
                       legend=_LEGEND_ABOVE)
    if key == "teilnehmende_sektor":
        fig = go.Figure()
        sectors = [c for c in frame.columns if c not in ("quartal", "teilnehmende")]
        for column, colour in zip(sectors, SECTOR_COLOURS, strict=False):
            fig.add_bar(x=_report_names(lang, "quartal", frame["quartal"].to_list()),
                        y=frame[column].to_list(),
                        name=labels[column], marker_color=colour,
                        hovertemplate="%{x}: %{y}<extra></extra>")
        fig.update_xaxes(type="category", categoryorder="category ascending",
                         title=labels["quartal"])
        _count_axis(fig, frame["teilnehmende"].max() or 0, axis="y")
        fig.update_yaxes(title=labels["teilnehmende"])
        return _layout(fig, lang, height=420, barmode="stack",
                       legend=_LEGEND_ABOVE)
    raise KeyError(key)
