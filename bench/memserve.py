"""`python -m bench.memserve [dashboard.serve options]`: the deployed server plus a memory report.

Starts exactly what `python -m dashboard.serve` starts; on SIGUSR1 it appends to `$WK_MEMDUMP`
what holds the server's memory: RSS, Streamlit sessions (connected / kept for reconnect),
glibc's heap (`mallinfo2`: in use vs free but not returned to the system), the largest Python
object types after a full collection, and the data-layer caches (entries, polars bytes).
With `WK_MEMDUMP_TRIM=1` it then calls `malloc_trim(0)` and reports RSS again, which separates
"still referenced" from "freed but kept by glibc". Used by bench/memory.py; loopback only.
"""

from __future__ import annotations

import collections
import ctypes
import gc
import os
import signal
import sys
import time
from pathlib import Path


class _Mallinfo2(ctypes.Structure):
    _fields_ = [(name, ctypes.c_size_t) for name in (
        "arena", "ordblks", "smblks", "hblks", "hblkhd", "usmblks", "fsmblks", "uordblks",
        "fordblks", "keepcost")]


def _rss() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def _mallinfo() -> str:
    libc = ctypes.CDLL("libc.so.6")
    libc.mallinfo2.restype = _Mallinfo2
    info = libc.mallinfo2()
    mib = 1024 * 1024
    return (f"glibc heap: arena {info.arena / mib:.0f} MiB, in use {info.uordblks / mib:.0f} MiB, "
            f"free but kept {info.fordblks / mib:.0f} MiB, mmapped {info.hblkhd / mib:.0f} MiB "
            f"({info.hblks} blocks)")


def _pymalloc() -> str:
    """Python's own small-object heap (arenas of 1 MiB, mmapped outside glibc): an arena goes
    back to the system only when every block in it is free."""
    import tempfile

    with tempfile.TemporaryFile() as f:
        saved = os.dup(2)
        os.dup2(f.fileno(), 2)
        try:
            sys._debugmallocstats()
        finally:
            os.dup2(saved, 2)
            os.close(saved)
        f.seek(0)
        text = f.read().decode(errors="replace")
    stats = {}
    for line in text.splitlines():
        if line.startswith("# ") and "=" in line:
            name, value = line[2:].split("=", 1)
            stats[name.strip()] = int(value.strip().replace(",", ""))
    mib = 2**20
    return (f"pymalloc: {stats.get('arenas allocated current', 0)} arenas of 1 MiB, blocks in use "
            f"{stats.get('bytes in allocated blocks', 0) / mib:.0f} MiB, free in arenas "
            f"{stats.get('bytes in available blocks', 0) / mib:.0f} MiB")


def _duckdb_jemalloc() -> str:
    """DuckDB's own jemalloc: allocated vs resident (freed pages it has not purged yet)."""
    from dashboard import housekeeping

    lib = housekeeping._duckdb_jemalloc()
    if lib is None:
        return "duckdb jemalloc: not loaded"
    epoch = ctypes.c_uint64(1)
    lib.duckdb_je_mallctl(b"epoch", None, None, ctypes.byref(epoch), 8)
    values = []
    for name in ("allocated", "resident"):
        value, size = ctypes.c_size_t(0), ctypes.c_size_t(8)
        lib.duckdb_je_mallctl(f"stats.{name}".encode(), ctypes.byref(value), ctypes.byref(size),
                              None, 0)
        values.append(f"{name} {value.value / 2**20:.0f} MiB")
    return "duckdb jemalloc: " + ", ".join(values)


def _sessions() -> str:
    from streamlit.runtime import Runtime

    mgr = Runtime.instance()._session_mgr
    stored = getattr(getattr(mgr, "_session_storage", None), "_cache", {})
    runtime = Runtime.instance()
    sources = getattr(runtime.dataframe_source_mgr, "_sources", None)
    media = getattr(runtime.media_file_mgr, "_file_metadata", {})
    return (f"streamlit sessions: {len(mgr.list_active_sessions())} connected, "
            f"{len(stored)} kept for reconnect; dataframe sources "
            f"{len(sources) if sources is not None else '?'}, media files {len(media)}")


def _caches() -> list[str]:
    import polars as pl

    from dashboard import data, maps

    lines = []
    handle = data._handle
    if handle is not None:
        frames = [v for v in handle.cache.values() if isinstance(v, pl.DataFrame)]
        lines.append(f"data.query cache: {len(handle.cache)} entries, "
                     f"{sum(f.estimated_size() for f in frames) / 2**20:.1f} MiB polars")
        used = handle.con.execute("select sum(memory_usage_bytes) from duckdb_memory()").fetchone()
        lines.append(f"duckdb buffer memory: {(used[0] or 0) / 2**20:.1f} MiB")
    lines.append(f"maps._figures: {len(maps._figures)} figures, "
                 f"{sum(_bytes(f.figure) for f in maps._figures.values()) / 2**20:.1f} MiB as JSON")
    from dashboard import figcache

    for name, results in figcache.caches():
        if results:
            lines.append(f"figcache {name}: {len(results)} entries, "
                         f"{sum(_bytes(v) for v in results.values()) / 2**20:.1f} MiB")
    lines.append(f"data._report_cache: {len(data._report_cache)}, _group_cache: "
                 f"{len(data._group_cache)}, _peer_cache: {len(data._peer_cache)}")
    return lines


def _bytes(value: object) -> int:
    """About what a cached value holds: a figure's JSON, a frame's buffers."""
    import plotly.graph_objects as go
    import polars as pl

    if isinstance(value, go.Figure):
        return len(value.to_json(validate=False))
    if isinstance(value, (pl.DataFrame, pl.Series)):
        return int(value.estimated_size())
    figure = getattr(value, "figure", None)
    return _bytes(figure) if figure is not None else 0


def _clearing() -> list[str]:
    """RSS after dropping each cache in turn (collect + trim after each): what each one holds."""
    from dashboard import data, figcache, maps

    def trimmed() -> float:
        gc.collect()
        pyarrow = sys.modules.get("pyarrow")
        if pyarrow is not None:
            pyarrow.default_memory_pool().release_unused()
        ctypes.CDLL("libc.so.6").malloc_trim(0)
        time.sleep(1)
        return _rss()

    out = [f"clearing caches: start {trimmed():.0f} MiB"]
    for name, clear in (("figcache", figcache.clear), ("maps._figures", maps._figures.clear),
                        ("data.query", lambda: data._handle.cache.clear()),
                        ("data report/group/peer", lambda: (data._report_cache.clear(),
                                                           data._group_cache.clear(),
                                                           data._peer_cache.clear()))):
        clear()
        out.append(f"  without {name}: {trimmed():.0f} MiB")
    return out


def _types(top: int = 12) -> list[str]:
    gc.collect()
    counts = collections.Counter(type(o).__name__ for o in gc.get_objects())
    return [f"  {n:>8} {name}" for name, n in counts.most_common(top)]


def _tracemalloc(top: int = 25) -> list[str]:
    """With WK_MEMDUMP_TRACE=N: start tracing N frames at the first report, and at each later
    one list the tracebacks holding most of what was allocated since and is still alive (slows
    the server: for finding what holds memory, not for timing)."""
    import tracemalloc

    frames = int(os.environ.get("WK_MEMDUMP_TRACE", "0"))
    if not frames:
        return []
    if not tracemalloc.is_tracing():
        tracemalloc.start(frames)
        return ["tracemalloc: started"]
    snapshot = tracemalloc.take_snapshot().filter_traces(
        [tracemalloc.Filter(False, tracemalloc.__file__)])
    stats = snapshot.statistics("traceback")
    out = [f"tracemalloc: {sum(s.size for s in stats) / 2**20:.1f} MiB allocated since the "
           "first report and alive, largest tracebacks:"]
    for stat in stats[:top]:
        out.append(f"  {stat.size / 2**20:.1f} MiB {stat.count} blocks")
        out += [f"      {line.strip()}" for line in stat.traceback.format()[-2 * frames:]]
    return out


def _dump(signum, frame) -> None:
    out = [f"--- {time.strftime('%H:%M:%S')} RSS {_rss():.0f} MiB"]
    for part in (_sessions, _caches, _mallinfo, _pymalloc, _duckdb_jemalloc):
        try:
            result = part()
            out += result if isinstance(result, list) else [result]
        except Exception as exc:  # a diagnostic must not take the server down
            out.append(f"{part.__name__}: {type(exc).__name__}: {exc}")
    out += ["objects after gc.collect():", *_types()]
    out += _tracemalloc()
    out.append(f"RSS after gc {_rss():.0f} MiB; " + _mallinfo() + "; " + _pymalloc())
    if os.environ.get("WK_MEMDUMP_PROBE") == "1":
        # which allocator gives memory back when it is merely used again?
        import polars as pl

        pl.DataFrame({"a": range(200_000)}).group_by(pl.col("a") % 7).agg(pl.len())
        time.sleep(1)
        out.append(f"RSS after a small polars query {_rss():.0f} MiB")
        from dashboard import data

        data._connection().con.cursor().execute("select count(*) from range(100000)").fetchall()
        time.sleep(1)
        out.append(f"RSS after a small DuckDB query {_rss():.0f} MiB")
        pool = sys.modules["pyarrow"].default_memory_pool() if "pyarrow" in sys.modules else None
        if pool is not None:
            out.append(f"pyarrow pool ({pool.backend_name}): {pool.bytes_allocated() / 2**20:.1f}"
                       f" MiB allocated")
            pool.release_unused()
            out.append(f"RSS after pyarrow release_unused() {_rss():.0f} MiB")
    if Path(os.environ["WK_MEMDUMP"] + ".clear").exists():  # bench/memory.py --clear
        out += _clearing()
    if os.environ.get("WK_MEMDUMP_TRIM") == "1":
        ctypes.CDLL("libc.so.6").malloc_trim(0)
        out.append(f"RSS after malloc_trim(0) {_rss():.0f} MiB; " + _mallinfo())
    with open(os.environ["WK_MEMDUMP"], "a", encoding="utf-8") as f:
        f.write("\n".join(out) + "\n")


if __name__ == "__main__":
    signal.signal(signal.SIGUSR1, _dump)
    from dashboard import serve

    serve.main(sys.argv[1:])
