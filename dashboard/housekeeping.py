"""Give memory back after visitors leave: a background thread of the server process.

What holds a server's memory after its sessions close (bench/memory.py, national data, 50
sessions: RSS 504 MiB after warm-up, 905 MiB 5 s after the close, 633 MiB once all of this ran):

1. Streamlit keeps every closed session for `server.disconnectedSessionTTL` seconds (default
   120) so that a browser that lost its connection can resume it. The store drops an expired
   session only when it is next touched, i.e. when another visitor comes.
2. A dropped session (its script run context, widget state, element tree) sits in reference
   cycles: only a full garbage collection frees it, which Streamlit runs after the next script
   run, i.e. again only when another visitor comes.
3. The allocators keep freed pages: Python's own (pymalloc: 1 MiB arenas, each returned only
   when empty; `dashboard.serve` runs the server with `PYTHONMALLOC=malloc` instead, so that
   `malloc_trim` returns the free pages between the objects); glibc's arenas; DuckDB's own
   jemalloc (a query's freed intermediates: 51 MiB resident for 32 MiB in use after the
   national warm-up, kept until DuckDB next allocates); pyarrow's pool, though it held little
   in bench/memory.py (polars' own jemalloc already purges in background threads).

`start()` runs one daemon thread that every `WK_HOUSEKEEPING_SECONDS` (default 30) drops the
expired sessions, runs a full collection when that dropped any, and hands freed pages back to
the system (`pyarrow.default_memory_pool().release_unused()`, a purge of DuckDB's jemalloc,
glibc's `malloc_trim(0)`). It reads nothing of a session and touches no data. `dashboard.serve`
starts it, before Streamlit's threads, and limits glibc to two arenas there (`limit_arenas`).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import gc
import logging
import os
import sys
import threading

_log = logging.getLogger(__name__)
DEFAULT_SECONDS = 30.0

_stop = threading.Event()
_thread: threading.Thread | None = None


def _libc() -> ctypes.CDLL | None:
    name = ctypes.util.find_library("c")
    try:
        libc = ctypes.CDLL(name)
        libc.malloc_trim  # noqa: B018 - glibc only (not musl, not macOS)
    except (OSError, AttributeError, TypeError):
        return None
    return libc


_LIBC = _libc()


def malloc_trim() -> bool:
    """Return glibc's free heap pages to the system; False where there is no glibc."""
    if _LIBC is None:
        return False
    _LIBC.malloc_trim(0)
    return True


M_ARENA_MAX = -8  # glibc's mallopt parameter (malloc.h)
ARENAS = 2


def limit_arenas() -> bool:
    """At most `ARENAS` glibc heaps (default: 8 per core), as `MALLOC_ARENA_MAX=2` would.

    Every script run has its own thread; each thread that allocates gets its own glibc arena, and
    the freed pages scattered over many arenas stay with the process (after 50 national
    sessions: 73–89 MiB "free but kept" with the default, 38 MiB with 2 arenas). Threads only
    run Python under the GIL here, so fewer arenas cost no parallelism. Call before threads
    start; an explicit `MALLOC_ARENA_MAX` in the environment wins."""
    if _LIBC is None or os.environ.get("MALLOC_ARENA_MAX"):
        return False
    return bool(_LIBC.mallopt(M_ARENA_MAX, ARENAS))


def expire_closed_sessions() -> int:
    """Drop the closed sessions whose reconnect time is over; how many were dropped.

    Streamlit has no public call for this: the store is its session manager's
    `_session_storage` (a TTL cache whose `expire()` drops what is over), changed under the
    manager's `_storage_lock`. Anything else found there (another Streamlit) is left alone."""
    from streamlit import runtime

    if not runtime.exists():
        return 0
    manager = getattr(runtime.get_instance(), "_session_mgr", None)
    cache = getattr(getattr(manager, "_session_storage", None), "_cache", None)
    lock = getattr(manager, "_storage_lock", None)
    if cache is None or lock is None or not callable(getattr(cache, "expire", None)):
        return 0
    with lock:
        dropped = cache.expire()
    return len(dropped)


def release_arrow() -> bool:
    """Hand Arrow's freed pages back (Streamlit serialises every table with pyarrow, whose
    mimalloc pool keeps them until its next allocation); False if pyarrow is not loaded."""
    pyarrow = sys.modules.get("pyarrow")
    if pyarrow is None:
        return False
    pyarrow.default_memory_pool().release_unused()
    return True


_ARENAS_ALL = 4096  # jemalloc's MALLCTL_ARENAS_ALL: "arena.4096.purge" purges every arena


def _duckdb_jemalloc() -> ctypes.CDLL | None:
    """DuckDB's own jemalloc (its Linux wheels link one, with the symbols prefixed
    `duckdb_je_`), or None where the loaded DuckDB has none (macOS, Windows, other builds)."""
    module = sys.modules.get("_duckdb")
    path = getattr(module, "__file__", None)
    if not path:
        return None
    try:
        lib = ctypes.CDLL(path)  # already loaded: the same library, no second copy
        lib.duckdb_je_mallctl  # noqa: B018
    except (OSError, AttributeError):
        return None
    lib.duckdb_je_mallctl.argtypes = [ctypes.c_char_p, ctypes.c_void_p, ctypes.c_void_p,
                                      ctypes.c_void_p, ctypes.c_size_t]
    return lib


def release_duckdb() -> bool:
    """Hand DuckDB's freed pages back: purge every arena of its jemalloc; False if DuckDB (or
    its jemalloc) is not loaded.

    DuckDB frees a query's intermediates to its jemalloc, which keeps them as dirty pages and
    returns them only by time-based decay, and decay only advances when DuckDB allocates again,
    i.e. with the next query (after the national warm-up: 51 MiB). DuckDB's
    `allocator_background_threads` setting would purge on a timer, but closing any instance that
    set it (the connection of the previous build) switches the threads off for the whole
    process; a purge here needs no instance."""
    lib = _duckdb_jemalloc()
    if lib is None:
        return False
    return lib.duckdb_je_mallctl(f"arena.{_ARENAS_ALL}.purge".encode(), None, None, None, 0) == 0


def release() -> int:
    """One round: drop expired sessions, collect their cycles, trim the heaps; sessions
    dropped."""
    dropped = expire_closed_sessions()
    if dropped:
        gc.collect()
    release_arrow()
    release_duckdb()
    malloc_trim()
    return dropped


def _seconds() -> float:
    try:
        return max(1.0, float(os.environ.get("WK_HOUSEKEEPING_SECONDS", DEFAULT_SECONDS)))
    except ValueError:
        return DEFAULT_SECONDS


def _loop(seconds: float) -> None:
    while not _stop.wait(seconds):
        try:
            dropped = release()
            if dropped:
                _log.info("%d geschlossene Sitzungen freigegeben", dropped)
        except Exception:  # noqa: BLE001 - housekeeping must never stop the server
            _log.exception("Speicherfreigabe fehlgeschlagen")


def start() -> None:
    """Limit glibc's arenas and start the housekeeping thread, once per process (a daemon: it
    never delays shutdown)."""
    global _thread
    if _thread is not None and _thread.is_alive():
        return
    limit_arenas()
    _stop.clear()
    _thread = threading.Thread(target=_loop, args=(_seconds(),), name="housekeeping",
                               daemon=True)
    _thread.start()


def stop() -> None:
    """Stop the thread (tests; the server simply exits)."""
    _stop.set()
    if _thread is not None:
        _thread.join(timeout=10)
