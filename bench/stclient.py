"""A light Streamlit client: one browser session without the browser (WebSocket + protobuf).

It speaks the protocol of the installed Streamlit with its own message classes, as the frontend
does (frontend/connection/src/WebsocketConnection.tsx and app/src/App.tsx in streamlit/streamlit):

1. open `ws://HOST/_stcore/stream` with the sub-protocol `streamlit` (the frontend also passes
   the XSRF token and a previous session id there; neither is needed for a fresh session), an
   `Origin` of the server itself, and the browser's cookies;
2. send `BackMsg.rerun_script` with a `ClientState` holding the URL's query string and the page
   name (the URL path, e.g. `fortschritt`; empty for the start page);
3. read binary `ForwardMsg`s: `delta`s carry the page's elements, `script_finished` ends the run
   (`page_not_found` is Streamlit's "Page not found" modal, an `exception` element an error);
4. report the key figures drawn when a page asks for it (`dashboard.paint`: an html element
   whose script POSTs to `/gezeichnet/<token>`), as the browser's script does once they are on
   screen; a light client has them as soon as they arrive.

Used by `bench/load.py` (many sessions at once) and tests/test_replicas.py (what a second
process serves). Loopback only.
"""

from __future__ import annotations

import asyncio
import re
import time
import urllib.request
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import websockets
from streamlit.proto.BackMsg_pb2 import BackMsg
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

from dashboard import paint

FINISHED = ForwardMsg.ScriptFinishedStatus.Value("FINISHED_SUCCESSFULLY")
PAINT_URL = re.compile(rf'"([^"]*{paint.ROUTE}/[A-Za-z0-9_-]+)"')


@dataclass
class Run:
    """What one script run showed."""

    seconds: float
    texts: list[str] = field(default_factory=list)
    metrics: dict[str, str] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)
    first_metric_seconds: float | None = None
    widgets: dict[str, str] = field(default_factory=dict)  # label -> widget id
    redirect: str | None = None  # where the app sent the browser (sign-in, logout)
    timed_out: bool = False  # the run did not end in time (or the connection closed)
    messages: int = 0  # ForwardMsgs received
    last: str = ""  # type of the last one (what the server was doing when it stopped)
    paint_reports: list[str] = field(default_factory=list)  # paths the page asked to POST to


def _collect(msg: ForwardMsg, run: Run, started: float) -> None:
    if msg.WhichOneof("type") == "auth_redirect":
        run.redirect = msg.auth_redirect.url
    if msg.WhichOneof("type") == "page_not_found":
        run.errors.append(f"page not found: {msg.page_not_found.page_name}")
    if msg.WhichOneof("type") != "delta" or msg.delta.WhichOneof("type") != "new_element":
        return
    element = msg.delta.new_element
    kind = element.WhichOneof("type")
    if kind == "markdown":
        run.texts.append(element.markdown.body)
    elif kind == "text":
        run.texts.append(element.text.body)
    elif kind == "heading":
        run.texts.append(element.heading.body)
    elif kind == "alert":
        run.texts.append(element.alert.body)
        if element.alert.format == element.alert.ERROR:
            run.errors.append(element.alert.body)
    elif kind == "metric":
        run.metrics[element.metric.label] = element.metric.body
        if run.first_metric_seconds is None:
            run.first_metric_seconds = time.perf_counter() - started
    elif kind in ("text_input", "button"):
        widget = getattr(element, kind)
        run.widgets[widget.label] = widget.id
    elif kind == "exception":
        run.errors.append(f"{element.exception.type}: {element.exception.message}")
    elif kind == "html" and (found := PAINT_URL.search(element.html.body)):
        run.paint_reports.append(found[1])


class Session:
    """One open session (a browser tab); `rerun` runs the script like a click or navigation."""

    def __init__(self, base_url: str, cookies: dict[str, str] | None = None) -> None:
        self.base_url = base_url.rstrip("/")
        self.cookies = cookies or {}
        self._ws = None

    async def open(self, timeout: float = 120) -> Session:
        parts = urlsplit(self.base_url)
        headers = {"Origin": f"{parts.scheme}://{parts.netloc}"}
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        self._ws = await websockets.connect(
            f"ws://{parts.netloc}{parts.path}/_stcore/stream", subprotocols=["streamlit"],
            additional_headers=headers, max_size=None, open_timeout=timeout,
            # browsers send no WebSocket pings; a busy server must not lose light sessions
            # for a late pong that a browser would never have asked for
            ping_interval=None, close_timeout=5)
        return self

    async def rerun(self, page: str = "", query: str = "", timeout: float = 120,
                    texts: dict[str, str] | None = None, click: str | None = None) -> Run:
        """Run `page`; with `texts` (widget id -> value) and `click` (a button's widget id),
        as after typing into text inputs and pressing that button.

        Never waits longer than `timeout`: a run that does not finish in time (or a closed
        connection) comes back with `timed_out` / an error saying what had arrived, so one
        stuck session cannot hang a benchmark."""
        back = BackMsg()
        back.rerun_script.query_string = query
        back.rerun_script.page_name = page
        for widget_id, value in (texts or {}).items():
            state = back.rerun_script.widget_states.widgets.add()
            state.id = widget_id
            state.string_value = value
        if click:
            state = back.rerun_script.widget_states.widgets.add()
            state.id = click
            state.trigger_value = True
        started = time.perf_counter()
        run = Run(0.0)
        try:
            await asyncio.wait_for(self._exchange(back, run, started), timeout)
        except TimeoutError:
            run.timed_out = True
            run.errors.append(f"no end of the script run after {timeout:g} s "
                              f"({run.messages} messages, last: {run.last or 'none'})")
        except websockets.ConnectionClosed as exc:
            run.errors.append(f"connection closed by the server ({exc}) after "
                              f"{run.messages} messages")
            run.timed_out = True  # the session is gone: nothing more to run on it
        run.seconds = time.perf_counter() - started
        return run

    async def _exchange(self, back: BackMsg, run: Run, started: float) -> None:
        """Send `back`, then read ForwardMsgs into `run` until the script run has ended."""
        await self._ws.send(back.SerializeToString())
        while True:
            msg = ForwardMsg()
            msg.ParseFromString(await self._ws.recv())
            run.messages += 1
            kind = msg.WhichOneof("type")
            run.last = kind if kind != "delta" else f"delta {msg.delta.WhichOneof('type')}"
            reports = len(run.paint_reports)
            _collect(msg, run, started)
            if len(run.paint_reports) > reports:  # the figures before it have arrived: drawn
                asyncio.get_running_loop().run_in_executor(None, self._report,
                                                           run.paint_reports[-1])
            if kind == "script_finished":
                if msg.script_finished == FINISHED:
                    return
                if msg.script_finished != ForwardMsg.FINISHED_EARLY_FOR_RERUN:
                    run.errors.append(f"script finished with status "
                                      f"{ForwardMsg.ScriptFinishedStatus.Name(msg.script_finished)}")
                    return

    def _report(self, path: str) -> None:
        parts = urlsplit(self.base_url)
        request = urllib.request.Request(f"{parts.scheme}://{parts.netloc}{path}", method="POST")
        with urllib.request.urlopen(request, timeout=30):
            pass

    async def close(self) -> None:
        if self._ws is not None:
            await self._ws.close()
            self._ws = None


async def sign_in(base_url: str, user: str, password: str, query: str = "",
                  timeout: float = 120) -> Run:
    """Fill in and submit the sign-in form, as a browser would; the run's `redirect` is the
    `/sitzung/start` link that sets the cookie (None when the sign-in failed)."""
    session = await Session(base_url).open(timeout)
    try:
        form = await session.rerun("anmelden", query, timeout)
        if form.errors or "Anmelden" not in form.widgets:
            form.errors.append(f"no sign-in form (widgets: {sorted(form.widgets)})")
            return form
        return await session.rerun(
            "anmelden", query, timeout,
            texts={form.widgets["Benutzername"]: user, form.widgets["Passwort"]: password},
            click=form.widgets["Anmelden"])
    finally:
        await session.close()


async def visit(base_url: str, page: str = "", query: str = "",
                cookies: dict[str, str] | None = None) -> Run:
    """Open a session, run one page, close it."""
    session = await Session(base_url, cookies).open()
    try:
        return await session.rerun(page, query)
    finally:
        await session.close()


def visit_sync(base_url: str, page: str = "", query: str = "",
               cookies: dict[str, str] | None = None) -> Run:
    return asyncio.run(visit(base_url, page, query, cookies))
