"""Report charts as PNG and SVG, rendered by kaleido in the installed Chromium with the plotly.js
shipped in the plotly package and MathJax switched off, so no request leaves the machine."""

from __future__ import annotations

import concurrent.futures
import os
import shutil
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

import plotly.graph_objects as go

from dashboard import charts
from dashboard.report.definitions import (
    CHARTS,
    SMALL_CELL_TEXT,
    Report,
    chart_data,
)
from dashboard.report.notes import (
    version_text,
    words,
)

# ---- charts --------------------------------------------------------------------------------------

_render_lock = threading.Lock()
_renderer_ready = False
RENDER_TIMEOUT = 120  # seconds for one image; the first one includes the browser start
IMAGE_WIDTH = 860

Progress = Callable[[str], None]


def chromium_path() -> str | None:
    """The browser kaleido will use ($BROWSER_PATH, $CHROMIUM, or chromium on the PATH)."""
    for candidate in (os.environ.get("BROWSER_PATH"), os.environ.get("CHROMIUM")):
        if candidate and Path(candidate).exists():
            return candidate
    return shutil.which("chromium") or shutil.which("chromium-browser") or \
        shutil.which("google-chrome")


def plotly_js() -> Path:
    """plotly.js shipped inside the plotly package (no CDN)."""
    import plotly

    return Path(plotly.__file__).parent / "package_data" / "plotly.min.js"


def start_renderer() -> None:
    """Start kaleido's browser once per process (MathJax off, local plotly.js)."""
    global _renderer_ready
    with _render_lock:
        if _renderer_ready:
            return
        browser = chromium_path()
        if browser is None:
            raise RuntimeError("Für Diagramm-Bilder und das PDF wird Chromium benötigt, ist aber "
                               "nicht installiert. Bitte „make browser“ ausführen.")
        os.environ.setdefault("BROWSER_PATH", browser)
        import kaleido

        kaleido.start_sync_server(mathjax=False, plotlyjs=str(plotly_js()),
                                  silence_warnings=True)
        _renderer_ready = True


def _render(fig: go.Figure, image_format: str, scale: float) -> bytes:
    import kaleido

    start_renderer()
    height = int(fig.layout.height or 450)
    opts = {"format": image_format, "width": IMAGE_WIDTH, "height": height, "scale": scale}
    with _render_lock:  # kaleido's server has one queue: one call at a time
        pool = concurrent.futures.ThreadPoolExecutor(1)
        future = pool.submit(kaleido.calc_fig_sync, fig.to_dict(), opts=opts)
        try:
            return future.result(timeout=RENDER_TIMEOUT)  # a dead browser must not hang us
        except concurrent.futures.TimeoutError as exc:
            raise RuntimeError("Das Diagramm konnte nicht gezeichnet werden (Chromium "
                               "antwortet nicht).") from exc
        except Exception as exc:  # kaleido's own errors, e.g. a browser that does not start
            raise RuntimeError(f"Das Diagramm konnte nicht gezeichnet werden: {exc}") from exc
        finally:
            pool.shutdown(wait=False)


def png_bytes(fig: go.Figure) -> bytes:
    return _render(fig, "png", 2)


def svg_bytes(fig: go.Figure) -> bytes:
    data = _render(fig, "svg", 1)
    if not data.lstrip().startswith(b"<?xml"):
        data = b'<?xml version="1.0" encoding="UTF-8" standalone="no"?>\n' + data
    return data


def chart_figure(key: str, report: Report, lang: str = "de") -> go.Figure:
    """The chart as the page shows it."""
    return charts.report_chart(key, chart_data(key, report), lang)


# The header of an exported picture, in pixels: title, subtitle lines, legend rows (measured on
# kaleido's PNGs; text widths are estimated generously so a row never holds more than fits)
_TITLE_SIZE, _SUBTITLE_SIZE, _LEGEND_SIZE = 19, 12, 14
_TITLE_TOP = 14
_TITLE_BLOCK = 50  # top padding, title and the gap to the subtitle
_SUBTITLE_LINE = 17
_LEGEND_ROW = 26
_LEGEND_ITEM = 46  # symbol and gaps of one legend entry
_CHAR_WIDTH = 0.6  # of the font size: wider than the average letter of the sans-serif font


def _text_width(text: str, size: float) -> float:
    return len(text) * size * _CHAR_WIDTH


def _lines(parts: list[str], size: float, width: float) -> list[str]:
    """Parts joined with " · " into as few lines as fit `width`."""
    lines: list[str] = []
    for part in parts:
        if lines and _text_width(f"{lines[-1]} · {part}", size) <= width:
            lines[-1] = f"{lines[-1]} · {part}"
        else:
            lines.append(part)
    return lines


def legend_rows(names: list[str], width: float, size: float = _LEGEND_SIZE) -> int:
    """How many rows a horizontal legend with these entries takes in `width` pixels."""
    rows, used = 0, width
    for name in names:
        item = _LEGEND_ITEM + _text_width(name, size)
        if used + item > width:
            rows, used = rows + 1, 0.0
        used += item
    return rows


def _legend_names(fig: go.Figure) -> list[str]:
    """The legend entries the figure shows ([] without a legend)."""
    if fig.layout.showlegend is False:
        return []
    return [t.name for t in fig.data if t.name and t.showlegend is not False]


def export_figure(key: str, report: Report, lang: str = "de") -> go.Figure:
    """The chart as a standalone image: title and Stichtag/data version on the picture; a legend
    that stood above the plot goes into the header under the subtitle, with room for all its
    rows, so no text overlaps; module names are not shortened."""
    chart = next(c for c in CHARTS if c.key == key)
    fig = go.Figure(charts.report_chart(key, chart_data(key, report), lang, short_names=False))
    width = IMAGE_WIDTH - 30
    parts = [version_text(report, lang)]
    if report.public:
        parts.append(words(lang)["hidden"].format(x=SMALL_CELL_TEXT))
    subtitle = _lines(parts, _SUBTITLE_SIZE, width)
    header = _TITLE_BLOCK + _SUBTITLE_LINE * len(subtitle)
    names = _legend_names(fig)
    legend_on_top = bool(names) and (fig.layout.legend.y or 0) >= 1
    rows = legend_rows(names, width) if legend_on_top else 0
    top = header + rows * _LEGEND_ROW + 14
    height = int(fig.layout.height or 400) + top
    fig.update_layout(
        title={"text": chart.title(lang), "x": 0.01, "xanchor": "left", "xref": "container",
               "y": 1 - _TITLE_TOP / height, "yanchor": "top", "yref": "container",
               "font": {"size": _TITLE_SIZE},
               "subtitle": {"text": "<br>".join(subtitle),
                            "font": {"size": _SUBTITLE_SIZE, "color": "#555555"}}},
        margin={"t": top, "l": 10, "r": 30, "b": 10},
        height=height,
        font={"size": _LEGEND_SIZE},
        paper_bgcolor="white",
    )
    if legend_on_top:
        fig.update_layout(legend={"x": 0.01, "xref": "container", "xanchor": "left",
                                  "y": 1 - (header + 4) / height, "yref": "container",
                                  "yanchor": "top", "font": {"size": _LEGEND_SIZE}})
    return fig


@dataclass
class ChartFiles:
    """Rendered charts: PNG per chart key (for the PDF) and all files by name."""

    png: dict[str, bytes] = field(default_factory=dict)
    files: dict[str, bytes] = field(default_factory=dict)


def chart_files(report: Report, keys: Iterable[str] | None = None,
                progress: Progress = lambda _m: None, lang: str = "de") -> ChartFiles:
    """PNG and SVG of every report chart in `lang`, named with the Stichtag."""
    result = ChartFiles()
    keys = list(keys or (c.key for c in CHARTS))
    for n, key in enumerate(keys, 1):
        progress(f"Diagramm {n}/{len(keys)}: {key}")
        fig = export_figure(key, report, lang)
        png = png_bytes(fig)
        result.png[key] = png
        result.files[report.file_name(key, "png", lang)] = png
        result.files[report.file_name(key, "svg", lang)] = svg_bytes(fig)
    return result
