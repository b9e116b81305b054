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


def export_figure(key: str, report: Report, lang: str = "de") -> go.Figure:
    """The chart as a standalone image: title and Stichtag/data version on the picture."""
    chart = next(c for c in CHARTS if c.key == key)
    fig = go.Figure(chart_figure(key, report, lang))
    subtitle = version_text(report, lang)
    if report.public:
        subtitle += " · " + words(lang)["hidden"].format(x=SMALL_CELL_TEXT)
    fig.update_layout(
        title={"text": chart.title(lang), "x": 0.01, "xanchor": "left", "font": {"size": 19},
               "subtitle": {"text": subtitle, "font": {"size": 12, "color": "#555555"}}},
        margin={"t": 86, "l": 10, "r": 30, "b": 10},
        height=int(fig.layout.height or 400) + 80,
        font={"size": 14},
        paper_bgcolor="white",
    )
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
