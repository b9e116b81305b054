"""Plotly figures (and other display values) built once per content: `@figcache.cached`.

Building a Plotly figure (trace and layout objects, each property checked by its validator) is
the largest part of many page script runs: 50–500 ms per chart on the 2-core server, on every
rerun and for every visitor, for the same data (bench/runcost.py); formatting the 94,000
numbers of the national Karte table as German text took 2–3 s per run. `cached` keeps the last
`MAX_FIGURES` results per builder, keyed by the builder and a digest of *everything* passed to
it: a polars frame by the SHA-256 of its Arrow IPC bytes (schema and every value), other
arguments by value. The key is the content itself, so a figure can only be reused for exactly
the data it was built from: two viewers whose (role-filtered) data differ in a single cell get
two figures, two whose data are equal share one, which is what building it twice would have
given. Role checks stay in the data layer, before the builder sees anything. Builders must be
pure (data in, figure out, no `st.*`, no clock, no `ui.lang()`: the language is an argument);
an argument of a type not listed in `_digest` is not cached at all.

The figure is shared: callers must not change it (copy with `go.Figure(fig)` first, as
`action_views.with_notes` does). `st.plotly_chart` only reads it. A cached Plotly figure comes
back as a `SharedFigure`, which holds to this: a change raises, and the dict `st.plotly_chart`
asks for on every run (`to_dict`: a deep copy of every trace, 30–70 ms for the national Karte
and Vernetzung maps) is made once, when the figure is cached.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
import hashlib
import threading
from collections import OrderedDict
from collections.abc import Callable
from typing import TypeVar

import plotly.graph_objects as go
import polars as pl

MAX_FIGURES = 32  # per builder
_lock = threading.Lock()
F = TypeVar("F", bound=Callable)


class SharedFigure(go.Figure):
    """A cached figure, shown to every session whose data are the same: read-only, its dict made
    once (`shared`)."""

    _shared_dict: dict

    def to_dict(self) -> dict:
        """The figure's dict, made when it was shared (read-only, like the figure)."""
        return self._shared_dict

    def __reduce__(self):
        """A copy or a pickle is an ordinary figure, from a copy of the dict (Plotly's own
        `__reduce__` would add its grid keys to the shared dict)."""
        props = go.Figure.to_dict(self)
        props["_grid_str"], props["_grid_ref"] = self._grid_str, self._grid_ref
        return (go.Figure, (props,))

    def _changed(self, *args, **kwargs):
        raise TypeError("Diese Abbildung ist zwischengespeichert und wird geteilt; sie darf nicht "
                        "verändert werden. Erst kopieren: go.Figure(fig).")

    # every change of a Plotly figure (property, trace, layout) ends in one of these, after
    # Plotly has applied it to the object: the error makes a forbidden change loud, and what is
    # shown (the dict) stays as it was
    _send_addTraces_msg = _send_moveTraces_msg = _send_deleteTraces_msg = _changed
    _send_restyle_msg = _send_relayout_msg = _send_update_msg = _send_animate_msg = _changed


def shared(fig: go.Figure) -> SharedFigure:
    """`fig` made a `SharedFigure` in place (no copy, no validation): from now on it must not
    change, and its dict is made now, once."""
    dict_now = go.Figure.to_dict(fig)
    fig.__class__ = SharedFigure
    fig._shared_dict = dict_now
    return fig


class _Unhashable(Exception):
    """An argument this cache cannot key by content: build without the cache."""


def _digest(value: object) -> object:
    if isinstance(value, pl.DataFrame):
        return ("frame", hashlib.sha256(value.write_ipc(None).getvalue()).hexdigest())
    if isinstance(value, pl.Series):
        return ("series", _digest(value.to_frame()))
    if isinstance(value, pl.Expr):
        return ("expr", hashlib.sha256(value.meta.serialize()).hexdigest())
    if value is None or isinstance(value, (str, int, float, bool, dt.date, dt.datetime)):
        return (type(value).__name__, value)
    if isinstance(value, (list, tuple)):
        return (type(value).__name__, tuple(_digest(v) for v in value))
    if isinstance(value, dict):
        return ("dict", tuple((_digest(k), _digest(v)) for k, v in value.items()))
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return (type(value).__qualname__,
                tuple((f.name, _digest(getattr(value, f.name))) for f in dataclasses.fields(value)))
    raise _Unhashable(type(value).__name__)


def key(builder: Callable, args: tuple, kwargs: dict) -> tuple | None:
    """The cache key of `builder(*args, **kwargs)`, None when an argument cannot be keyed."""
    try:
        return (builder.__module__, builder.__qualname__, _digest(args),
                _digest(dict(sorted(kwargs.items()))))
    except _Unhashable:
        return None


_caches: list[tuple[str, OrderedDict]] = []


def caches() -> list[tuple[str, OrderedDict]]:
    """(builder name, its results) of every cached builder (bench/memserve.py reports them)."""
    return list(_caches)


def cached(builder: F | None = None, *, maxsize: int = MAX_FIGURES) -> F:
    """Reuse what `builder` returned for the same arguments (by content); the last `maxsize`
    results per builder. `@cached` or `@cached(maxsize=4)` (for large results)."""
    if builder is None:
        return functools.partial(cached, maxsize=maxsize)  # type: ignore[return-value]
    results: OrderedDict[tuple, object] = OrderedDict()
    _caches.append((f"{builder.__module__}.{builder.__qualname__}", results))

    @functools.wraps(builder)
    def wrapper(*args, **kwargs):
        k = key(builder, args, kwargs)
        if k is None:
            return builder(*args, **kwargs)
        with _lock:
            hit = results.get(k)
            if hit is not None:
                results.move_to_end(k)
                return hit
        value = builder(*args, **kwargs)
        if type(value) is go.Figure:
            value = shared(value)
        with _lock:
            results[k] = value
            while len(results) > maxsize:
                results.popitem(last=False)
        return value

    wrapper.uncached = builder
    return wrapper  # type: ignore[return-value]


def clear() -> None:
    with _lock:
        for _, results in _caches:
            results.clear()
