"""Key figures first: a page's first run waits until the browser has drawn its key figures.

A page sends its key figures and then its charts. Arriving together, the charts hold the figures
back: the browser draws nothing of the update until Plotly's 4.7 MB script is loaded and run
(2–5 s on a busy 2-core machine; bench/first_figure.py). So after its key figures a page's first
run sends a tiny script (`ui.key_figures_sent`) that reports back once the browser has painted
them, and waits for that report before it goes on to the charts:

- `expect()` registers a one-time token; the script POSTs to `ROUTE/<token>` (served by
  dashboard/server.py, `painted`) after the next frame, i.e. after the figures are on screen;
- `wait(token)` blocks the script thread (no CPU) until then, at most `MAX_WAIT` seconds: a
  client that never reports (a light load-test client, a proxy sending the POST to another
  replica) costs that much once per page, nothing else.

Tokens are random, single-use and held only while a script waits; an unknown token is ignored,
so the route tells a caller nothing and can wake no one but the page that sent it.
"""

from __future__ import annotations

import secrets
import threading

ROUTE = "/gezeichnet"
# Longest wait for the browser's report, in seconds.
MAX_WAIT = 2.5

_waiting: dict[str, threading.Event] = {}
_lock = threading.Lock()


def expect() -> str:
    """A new token to wait for."""
    token = secrets.token_urlsafe(16)
    with _lock:
        _waiting[token] = threading.Event()
    return token


def painted(token: str) -> bool:
    """The browser reports `token` drawn; False for a token nobody waits for."""
    with _lock:
        event = _waiting.get(token)
    if event is None:
        return False
    event.set()
    return True


def wait(token: str, timeout: float | None = None) -> bool:
    """Block until `token` was reported (True) or `timeout` (default `MAX_WAIT`) seconds passed
    (False); the token is then forgotten either way."""
    timeout = MAX_WAIT if timeout is None else timeout
    with _lock:
        event = _waiting.get(token)
    try:
        return event is not None and event.wait(timeout)
    finally:
        with _lock:
            _waiting.pop(token, None)


def waiting() -> int:
    """How many page runs wait right now (for tests and housekeeping)."""
    with _lock:
        return len(_waiting)
