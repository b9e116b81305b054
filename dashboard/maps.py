"""Offline maps: MapLibre traces on a white background with our own boundaries (no tiles, no CDN).

Boundaries come from the committed GeoJSON files made from the BKG VG250 package
(`tools/geo/build_reference.py`). Points use `mode="markers"` only: text labels would make MapLibre
fetch glyphs from the internet.
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections import OrderedDict
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import numpy as np
import plotly.graph_objects as go
import polars as pl
from plotly.colors import get_colorscale, sample_colorscale

from dashboard import data, figcache, fmt
from dashboard.charts import STATUS_COLOURS, count_ticks
from dashboard.i18n import translate, translate_values, value
from etl.schema import MEILENSTEINE

GEO_DIR = Path(__file__).resolve().parent.parent / "data" / "geo"
CENTER = {"lat": 51.16, "lon": 10.45}
ZOOM = 4.6  # MapLibre's zoom of the whole country at the maps' height
HEIGHT = 620  # px
PHASE_SCALE = "Cividis"  # sequential and colour-blind-safe: phase is ordinal
NEUTRAL = "#0072B2"  # one colour when the map shows no programme state (Okabe–Ito blue)
# a MapLibre style without sources or layers: a transparent map (no tiles, nothing fetched)
NO_BACKGROUND = {"version": 8, "sources": {}, "layers": []}


LEVELS = ("laender", "kreise")
GEO_ROUTE = "/geo"  # the app server serves the boundary files below it (dashboard/server.py)


@cache
def boundaries(level: str) -> dict:
    """The simplified boundaries of `laender` or `kreise` as GeoJSON (read once per process)."""
    return json.loads(boundary_file(level)[1])


@cache
def boundary_file(level: str) -> tuple[str, bytes]:
    """The file name under `GEO_ROUTE` (level and content hash, so a browser may keep it for
    good) and the bytes of the boundaries of `level`."""
    raw = (GEO_DIR / f"{level}.geojson").read_bytes()
    return f"{level}-{hashlib.sha256(raw).hexdigest()[:16]}.geojson", raw


def boundary_source(level: str, geo_url: str | None) -> dict | str:
    """What a map layer or choropleth gets as its boundaries: the URL of the file when the app
    server serves them (`geo_url`, absolute: MapLibre loads it in a worker), so the browser
    fetches them once instead of with every rerun (the Kreise are 1.5 MB); else the GeoJSON."""
    return f"{geo_url}/{boundary_file(level)[0]}" if geo_url else boundaries(level)


def _base_layout(fig: go.Figure, show_kreise: bool, height: int, lang: str = "de",
                 geo_url: str | None = None) -> go.Figure:
    layers = []
    if show_kreise:
        layers.append({"source": boundary_source("kreise", geo_url), "type": "line",
                       "color": "#b5b5b5", "line": {"width": 0.5}, "below": "traces"})
    layers.append({"source": boundary_source("laender", geo_url), "type": "line",
                   "color": "#555555", "line": {"width": 1.2}, "below": "traces"})
    fig.update_layout(
        map={"style": "white-bg", "center": CENTER, "zoom": ZOOM, "layers": layers},
        margin={"l": 0, "r": 0, "t": 0, "b": 0},
        height=height,
        # legend symbols of one size: the markers' own sizes vary (and shrink on full maps)
        legend={"yanchor": "top", "y": 0.99, "xanchor": "left", "x": 0.01,
                "bgcolor": "rgba(255,255,255,0.85)", "itemsizing": "constant"},
        separators=",." if lang == "de" else ".,",
    )
    return fig


LABEL_KEYS = ("typ", "bundesland", "status", "phase", "next", "einwohner", "none", "none_started")


def labels(lang: str) -> dict[str, str]:
    """The translated hover and legend labels of `points_map`."""
    return {k: translate(lang, f"karte.{k}") for k in LABEL_KEYS}


# up to this many points the markers span their full size range; beyond it they shrink, but
# not below this range (px)
FULL_SIZE_POINTS = 300
SHRUNK_SIZES = (2.5, 7.0)


def marker_sizes(einwohner: pl.Series, smallest: float = 6, largest: float = 26) -> np.ndarray:
    """Marker area grows with population (square-root scale), so big cities do not hide others.

    A map with more than `FULL_SIZE_POINTS` points draws them smaller (by the square root of
    the ratio, at least `SHRUNK_SIZES`): at national scale 11,000 full-size markers covered Germany
    as one area and hid each other's status colour."""
    shrink = min(1.0, (FULL_SIZE_POINTS / max(einwohner.len(), 1)) ** 0.5)
    smallest = max(min(smallest, SHRUNK_SIZES[0]), smallest * shrink)
    largest = max(min(largest, SHRUNK_SIZES[1]), largest * shrink)
    values = np.sqrt(einwohner.fill_null(0).to_numpy().astype(np.float32))
    top = values.max() if len(values) and values.max() > 0 else 1.0
    return (smallest + (largest - smallest) * values / top).round(1).astype(np.float32)


# hover lines after the name: (label key, column); a line is shown when the points carry the
# column (the public map has no status, phase or next milestone, see data.load_map_points)
HOVER_LINES = (("typ", "typ"), ("bundesland", "bundesland"), ("status", "status"),
               ("phase", "aktuelle_phase"), ("next", "naechster_meilenstein"))


def hover_values(points: pl.DataFrame, labels: dict[str, str], lang: str = "de"
                 ) -> tuple[np.ndarray, str]:
    """The hover columns of every point (name, the `HOVER_LINES` the points carry, population
    formatted for `lang`) as a string array, and the hover template that shows them.

    Values are escaped for Plotly's HTML-like hover markup; labels stay in the template, so
    they are sent once, not once per point.
    """
    def esc(col: pl.Expr) -> pl.Expr:
        return (col.cast(pl.String).fill_null(labels["none"])
                .str.replace_all("&", "&amp;", literal=True)
                .str.replace_all("<", "&lt;", literal=True)
                .str.replace_all(">", "&gt;", literal=True))

    # the Land only where the map has no programme state (the public map): staff see it in the
    # table, and every hover column costs some 100 kB at national scale
    public = "status" not in points.columns
    lines = [(labels[key], column) for key, column in HOVER_LINES
             if column in points.columns and (public or column != "bundesland")]
    einwohner = pl.Series([fmt.number(v, lang=lang)
                           for v in points.get_column("einwohner").to_list()], dtype=pl.String)
    domains = {"typ": "typ", "bundesland": "bundesland", "status": "status",
               "aktuelle_phase": "phase", "naechster_meilenstein": "meilenstein"}
    shown = translate_values(points, lang, **{c: domains[c] for _, c in lines})
    values = shown.select(esc(pl.col("name")), *(esc(pl.col(c)) for _, c in lines),
                          einwohner.alias("_einwohner"))
    template = "<b>%{customdata[0]}</b>" + "".join(
        f"<br>{label}: %{{customdata[{i}]}}"
        for i, label in enumerate([*(lb for lb, _ in lines), labels["einwohner"]], start=1))
    return values.to_numpy(), template + "<extra></extra>"


def _points_trace(part: pl.DataFrame, hover: np.ndarray, template: str, **extra) -> dict:
    """A lean Scattermap trace: numpy arrays (sent as typed arrays) and one string array for the
    hover instead of a column list of Python tuples."""
    trace = {
        "type": "scattermap", "mode": "markers",
        "lat": part.get_column("lat").to_numpy().astype(np.float32),
        "lon": part.get_column("lon").to_numpy().astype(np.float32),
        "customdata": hover, "hovertemplate": template,
    }
    trace.update(extra)
    return trace


@dataclass(frozen=True)
class PointsMap:
    """The figure and, per trace, the row numbers of its points in the points frame (a clicked
    point comes back as trace number and point index)."""

    figure: go.Figure
    rows: tuple[np.ndarray, ...]

    def row_of(self, point: dict) -> int:
        """Row in the points frame of a point from a Streamlit selection event."""
        return int(self.rows[point["curve_number"]][point["point_index"]])


def points_map(points: pl.DataFrame, colour_by: str, labels: dict[str, str],
               show_kreise: bool = True, height: int = HEIGHT, lang: str = "de",
               geo_url: str | None = None) -> PointsMap:
    """Communes as points coloured by `status` or current phase, sized by population.

    `colour_by` "none" draws one colour (the public map: no programme state). `labels` holds
    translated hover labels: typ, bundesland, phase, next, status, einwohner, none, none_started.
    The figure is built without Plotly's per-value validation (the hot path of the Karte page at
    national scale).
    """
    hover, template = hover_values(points, labels, lang)
    everyone = np.arange(points.height)
    sizes = marker_sizes(points.get_column("einwohner"))
    traces, rows = [], []
    if colour_by == "status":
        for name, colour, group in point_groups(points, "status"):
            rows.append(group)
            traces.append(_points_trace(
                points[group], hover[group], template,
                name=value(lang, "status", name),
                legendrank=list(STATUS_COLOURS).index(name),
                marker={"size": sizes[group], "color": colour, "opacity": 0.85}))
    elif colour_by == "phase":
        ticks = list(range(0, len(MEILENSTEINE) + 1))
        rows.append(everyone)
        traces.append(_points_trace(
            points, hover, template, name=labels["phase"], showlegend=False,
            marker={"size": sizes, "opacity": 0.9,
                    "color": points.get_column("phase_index").to_numpy().astype(np.int8),
                    "colorscale": PHASE_SCALE, "cmin": 0, "cmax": len(MEILENSTEINE),
                    "colorbar": {"title": {"text": labels["phase"]}, "tickvals": ticks,
                                 "ticktext": [labels["none_started"],
                                              *(value(lang, "meilenstein", m)
                                                for m in MEILENSTEINE)],
                                 # inside the map, like the status legend: outside, it would
                                 # narrow the map and move its centre off the preview's
                                 "x": 0.99, "xanchor": "right",
                                 "bgcolor": "rgba(255,255,255,0.85)", "len": 0.8}}))
    else:
        rows.append(everyone)
        traces.append(_points_trace(points, hover, template, showlegend=False,
                                    marker={"size": sizes, "color": NEUTRAL, "opacity": 0.85}))
    fig = go.Figure(data=traces, _validate=False)
    fig._layout_obj._validate = False
    fig = _base_layout(fig, show_kreise, height, lang, geo_url)
    # no background: the preview under the map (`preview_svg`, on the page's white) shows until
    # MapLibre has drawn the points and lines, and is removed then (`ui.map_preview`)
    fig.update_layout(paper_bgcolor="rgba(0,0,0,0)", map_style=NO_BACKGROUND)
    return PointsMap(fig, tuple(rows))


_figures: OrderedDict[tuple, PointsMap] = OrderedDict()
_figures_lock = threading.Lock()


def cached_points_map(viewer: data.Viewer, filters: data.Filters, colour_by: str,
                      show_kreise: bool = False, lang: str = "de", geo_url: str | None = None
                      ) -> tuple[pl.DataFrame, PointsMap]:
    """The viewer's map points and their figure, built once per build, viewer, filters and
    settings (a rerun of the Karte page, e.g. after opening the table, reuses it)."""
    points = data.load_map_points(viewer, filters)
    key = (data.build_info().build_id, viewer, filters, colour_by, show_kreise, lang, geo_url)
    with _figures_lock:
        fig = _figures.get(key)
        if fig is not None:
            _figures.move_to_end(key)
            return points, fig
    fig = points_map(points, colour_by, labels(lang), show_kreise=show_kreise, lang=lang,
                     geo_url=geo_url)
    fig = PointsMap(figcache.shared(fig.figure), fig.rows)
    with _figures_lock:
        _figures[key] = fig
        while len(_figures) > 32:
            _figures.popitem(last=False)
    return points, fig


def land_choropleth(counts: pl.DataFrame, value_label: str, height: int = HEIGHT,
                    lang: str = "de", geo_url: str | None = None) -> go.Figure:
    """Communes per Bundesland as a choropleth (colour-blind-safe sequential scale)."""
    fig = go.Figure(go.Choroplethmap(
        geojson=boundary_source("laender", geo_url), featureidkey="properties.name",
        locations=counts["bundesland"].to_list(), z=counts["kommunen"].to_list(),
        colorscale="Blues", marker={"line": {"width": 0.8, "color": "#555555"}},
        colorbar={"title": {"text": value_label},
                  **count_ticks(counts["kommunen"].max() or 0)},
        text=translate_values(counts, lang, bundesland="bundesland")["bundesland"].to_list(),
        hovertemplate="<b>%{text}</b><br>" + value_label + ": %{z}<extra></extra>",
    ))
    return _base_layout(fig, show_kreise=False, height=height, lang=lang, geo_url=geo_url)


# The preview: the same points and Länder lines as an SVG drawn by the server, shown while
# Plotly's script loads (1 s and more on a busy 2-core machine, bench/pages.py "Map floor"), then
# covered by the interactive map. Drawn in the interactive map's own projection (MapLibre's Web
# Mercator with 512-px tiles at `ZOOM` around `CENTER`), so the map replaces it in place.
PREVIEW_WIDTH = 2400  # px: wider than any map column; centred like the map, cut at the sides


def project(lon: np.ndarray, lat: np.ndarray, width: float, height: float,
            zoom: float = ZOOM) -> tuple[np.ndarray, np.ndarray]:
    """Pixel positions of `lon`/`lat` on a `width` × `height` map centred on `CENTER` at `zoom`
    (Web Mercator, 512 px per world at zoom 0, as MapLibre draws it)."""
    world = 512 * 2.0 ** zoom

    def mercator(la):
        return np.log(np.tan(np.pi / 4 + np.radians(la) / 2))

    x = width / 2 + (np.asarray(lon, dtype=np.float64) - CENTER["lon"]) / 360 * world
    y = height / 2 + (mercator(CENTER["lat"]) - mercator(np.asarray(lat, dtype=np.float64))
                      ) / (2 * np.pi) * world
    return x, y


def _path(rings, width: float, height: float) -> str:
    """SVG path data of `rings` (lists of [lon, lat]) projected, 1-px steps merged."""
    parts = []
    for ring in rings:
        coords = np.asarray(ring, dtype=np.float64)
        x, y = project(coords[:, 0], coords[:, 1], width, height)
        xy = np.round(np.column_stack([x, y])).astype(np.int32)
        keep = np.ones(len(xy), dtype=bool)
        keep[1:] = (np.diff(xy, axis=0) != 0).any(axis=1)
        xy = xy[keep]
        if len(xy) < 2:
            continue
        parts.append("M" + "L".join(f"{a} {b}" for a, b in xy.tolist()))
    return "".join(parts)


@cache
def _boundary_path(level: str, width: float, height: float) -> str:
    rings = []
    for feature in boundaries(level)["features"]:
        geometry = feature["geometry"]
        polygons = ([geometry["coordinates"]] if geometry["type"] == "Polygon"
                    else geometry["coordinates"])
        for polygon in polygons:
            rings.extend(polygon)
    return _path(rings, width, height)


def _hex(rgb: str) -> str:
    """'rgb(r, g, b)' or '#rrggbb' as '#rrggbb'."""
    if rgb.startswith("#"):
        return rgb
    r, g, b = (int(float(v)) for v in rgb[rgb.index("(") + 1:rgb.index(")")].split(","))
    return f"#{r:02x}{g:02x}{b:02x}"


def point_groups(points: pl.DataFrame, colour_by: str) -> list[tuple[object, str, np.ndarray]]:
    """The points by colour, in drawing order: (status, phase index or None; fill colour; rows),
    groups without points left out. By status, communes that left come first, so they never
    hide active ones; by phase, the colour scale's colour of each phase."""
    everyone = np.arange(points.height)
    if colour_by == "status":
        status = points.get_column("status").to_numpy()
        order = sorted(STATUS_COLOURS.items(), key=lambda kv: kv[0] != "ausgeschieden")
        groups = [(name, colour, everyone[status == name]) for name, colour in order]
    elif colour_by == "phase":
        steps = len(MEILENSTEINE)
        scale = get_colorscale(PHASE_SCALE)
        phase = points.get_column("phase_index").fill_null(0).to_numpy()
        groups = [(i, _hex(sample_colorscale(scale, i / steps)[0]), everyone[phase == i])
                  for i in range(steps + 1)]
    else:
        groups = [(None, NEUTRAL, everyone)]
    return [group for group in groups if len(group[2])]


def preview_svg(points: pl.DataFrame, colour_by: str, show_kreise: bool = False,
                height: int = HEIGHT, width: int = PREVIEW_WIDTH) -> str:
    """The points map as a static SVG (`points_map`'s points, colours, sizes and lines), for
    the moment before the interactive map is drawn. Only numbers and colours from this module go
    into it: no name or other text of the data."""
    x, y = project(points.get_column("lon").to_numpy(), points.get_column("lat").to_numpy(),
                   width, height)
    # MapLibre fades a circle's edge inside its radius, SVG across it: half a pixel less looks
    # the same
    radius = np.maximum(marker_sizes(points.get_column("einwohner")) / 2 - 0.5, 0.5)
    opacity = 0.9 if colour_by == "phase" else 0.85
    layers = []
    if show_kreise:
        layers.append(f'<path d="{_boundary_path("kreise", width, height)}" fill="none" '
                      'stroke="#b5b5b5" stroke-width="0.5"/>')
    layers.append(f'<path d="{_boundary_path("laender", width, height)}" fill="none" '
                  'stroke="#555555" stroke-width="1.2"/>')
    for _, colour, rows in point_groups(points, colour_by):
        circles = "".join(f'<circle cx="{a:.1f}" cy="{b:.1f}" r="{r:.2f}"/>'
                          for a, b, r in zip(x[rows].tolist(), y[rows].tolist(),
                                             radius[rows].tolist(), strict=True))
        layers.append(f'<g fill="{colour}" fill-opacity="{opacity}">{circles}</g>')
    return (f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
            f'viewBox="0 0 {width} {height}">{"".join(layers)}</svg>')
