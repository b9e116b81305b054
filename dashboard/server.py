"""The served app: `streamlit run dashboard/server.py` (Makefile, tests, deploy/).

Streamlit's `st.App` runs `app.py` as usual and adds two small routes to the same Starlette
server, because a Streamlit script cannot set an HttpOnly cookie itself (see
`dashboard/sessions.py`):

- `GET /sitzung/start?t=<ticket>&next=<path>`: redeem the single-use ticket of a password login,
  set the signed session cookie (HttpOnly, SameSite=Lax, Secure over HTTPS) and continue to the
  requested page;
- `GET /sitzung/ende?next=<path>`: clear the cookie (the session itself is already revoked).

and the private calendar links of the communes, `GET /kalender/<token>.ics` (`calendar_feed`),
the map boundaries, `GET /geo/<level>-<hash>.geojson` (`boundary_file`): fetched once by the
browser instead of riding along with every rerun of a map, and `POST /gezeichnet/<token>`
(`painted`): the browser has drawn a page's key figures, its charts may follow (`dashboard.paint`).

Under `server.baseUrlPath` (e.g. `monitor`) all routes, the cookie's Path and every redirect
live below it (`/monitor/sitzung/start`, `sessions.url`).

It also tells the frontend where the server is (`BackendUrlMiddleware`): opened at a page URL
such as `/karte`, Streamlit's frontend first tries `/karte/_stcore/health` and
`/karte/_stcore/host-config` (404, two console errors on every direct page load) before `/`.
With `window.__streamlit.BACKEND_BASE_URL` set in the page it asks the right place at once.

`streamlit run dashboard/app.py` still works, without the cookie (a reload then ends a login).
"""

from __future__ import annotations

import contextlib
import gzip
from functools import cache

import streamlit as st
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import PlainTextResponse, RedirectResponse, Response
from starlette.routing import Route

from dashboard import maps, paint, sessions, watch


def _cookie_path() -> str:
    return sessions.base_path() or "/"


def start(request: Request) -> RedirectResponse:
    client = request.client.host if request.client else None
    cookie = sessions.redeem_ticket(request.query_params.get("t", ""), client)
    if cookie is None:
        # expired, used twice or from another browser: sign in again, with a German hint
        return RedirectResponse(sessions.url("/anmelden?hinweis=ticket"), status_code=303)
    response = RedirectResponse(sessions.url(request.query_params.get("next", "/")),
                                status_code=303)
    response.set_cookie(sessions.COOKIE, cookie, httponly=True, samesite="lax",
                        secure=request.url.scheme == "https", path=_cookie_path(),
                        max_age=int(sessions.MAX_LIFETIME.total_seconds()))
    response.headers["Cache-Control"] = "no-store"
    return response


def end(request: Request) -> RedirectResponse:
    response = RedirectResponse(sessions.url(request.query_params.get("next", "/")),
                                status_code=303)
    response.delete_cookie(sessions.COOKIE, path=_cookie_path(), httponly=True, samesite="lax")
    response.headers["Cache-Control"] = "no-store"
    return response


# A private link must not linger in caches or travel on in a Referer header.
_FEED_HEADERS = {"Cache-Control": "private, no-store", "Referrer-Policy": "no-referrer",
                 "X-Content-Type-Options": "nosniff"}


def calendar_feed(request: Request) -> Response:
    """`GET /kalender/<token>.ics`: a commune's private calendar (its own planned milestones,
    events and due measures; dashboard/watch). A wrong, renewed or revoked token gets the same
    404, so the answer tells nothing about which."""
    body = watch.feed_for_token(request.path_params["token"])
    if body is None:
        return PlainTextResponse("Nicht gefunden.", status_code=404, headers=_FEED_HEADERS)
    return Response(body, media_type="text/calendar; charset=utf-8", headers={
        **_FEED_HEADERS, "Content-Disposition": 'inline; filename="kalender.ics"'})


@cache
def _boundary_gzip(level: str) -> bytes:
    return gzip.compress(maps.boundary_file(level)[1], 6, mtime=0)


def boundary_file(request: Request) -> Response:
    """`GET /geo/<level>-<hash>.geojson`: the boundaries the maps draw (`maps.boundary_source`).
    The name carries the content hash, so browsers keep the file for good; other names: 404."""
    name = request.path_params["name"]
    level = next((lv for lv in maps.LEVELS if maps.boundary_file(lv)[0] == name), None)
    if level is None:
        return PlainTextResponse("Nicht gefunden.", status_code=404)
    headers = {"Cache-Control": "public, max-age=31536000, immutable",
               "X-Content-Type-Options": "nosniff", "Vary": "Accept-Encoding"}
    if "gzip" in request.headers.get("accept-encoding", ""):
        return Response(_boundary_gzip(level), media_type="application/geo+json",
                        headers={**headers, "Content-Encoding": "gzip"})
    return Response(maps.boundary_file(level)[1], media_type="application/geo+json",
                    headers=headers)


class BackendUrlMiddleware:
    """Put `window.__streamlit = {BACKEND_BASE_URL: …}` into Streamlit's index.html."""

    MARKER = b"window.prerenderReady = false"

    def __init__(self, app) -> None:
        self.app = app

    async def __call__(self, scope, receive, send) -> None:
        path = scope.get("path", "")
        if (scope["type"] != "http" or scope.get("method") != "GET" or "/_stcore/" in path
                or "/static/" in path or "/media/" in path or "." in path.rsplit("/", 1)[-1]):
            await self.app(scope, receive, send)
            return
        # index.html is small: ask for it uncompressed so it can be edited
        scope = {**scope, "headers": [(k, v) for k, v in scope["headers"]
                                      if k.lower() != b"accept-encoding"]}
        start: dict = {}
        body: list[bytes] = []

        async def capture(message) -> None:
            if message["type"] == "http.response.start":
                start.update(message)
                return
            if message["type"] != "http.response.body":
                await send(message)
                return
            headers = dict(start.get("headers", []))
            if b"text/html" not in headers.get(b"content-type", b""):
                if start:
                    await send(start)
                    start.clear()
                await send(message)
                return
            body.append(message.get("body", b""))
            if message.get("more_body"):
                return
            html = b"".join(body)
            if self.MARKER in html:
                base = sessions.base_path() + "/"
                html = html.replace(self.MARKER, self.MARKER + (
                    "\n      window.__streamlit = window.__streamlit || "
                    f"{{BACKEND_BASE_URL: window.location.origin + {base!r}}}").encode(), 1)
            start["headers"] = [(k, str(len(html)).encode() if k.lower() == b"content-length"
                                 else v) for k, v in start["headers"]]
            await send(start)
            await send({"type": "http.response.body", "body": html})

        await self.app(scope, receive, capture)

def painted(request: Request) -> Response:
    """`POST /gezeichnet/<token>`: the browser has drawn a page's key figures (`dashboard.paint`);
    the page's script goes on to its charts. The same empty answer for every token."""
    paint.painted(request.path_params["token"])
    return Response(status_code=204, headers={"Cache-Control": "no-store"})


@contextlib.asynccontextmanager
async def serving(_app: st.App):
    """While this server runs, the routes exist: pages may use them. Set at the start, not at
    import, so that importing this module (tests of the handlers) changes nothing else."""
    sessions.ROUTES_SERVED = True
    yield None


# Streamlit mounts its own routes below `server.baseUrlPath` but not an App's extra routes: they
# get the prefix here (the command-line options are loaded before this module is imported).
app = st.App("app.py", routes=[Route(sessions.url(sessions.START_PATH), start),
                               Route(sessions.url(sessions.END_PATH), end),
                               Route(sessions.url(watch.FEED_PATH), calendar_feed,
                                     methods=["GET"]),
                               Route(sessions.url(maps.GEO_ROUTE + "/{name}"), boundary_file,
                                     methods=["GET"]),
                               Route(sessions.url(paint.ROUTE + "/{token}"), painted,
                                     methods=["POST"])],
             middleware=[Middleware(BackendUrlMiddleware)], lifespan=serving)
