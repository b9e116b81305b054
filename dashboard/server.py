"""The served app: `streamlit run dashboard/server.py` (Makefile, tests, deploy/).

Streamlit's `st.App` runs `app.py` as usual and adds two small routes to the same Starlette
server, because a Streamlit script cannot set an HttpOnly cookie itself (see
`dashboard/sessions.py`):

- `GET /sitzung/start?t=<ticket>&next=<path>`: redeem the single-use ticket of a password login,
  set the signed session cookie (HttpOnly, SameSite=Lax, Secure over HTTPS) and continue to the
  requested page;
- `GET /sitzung/ende?next=<path>`: clear the cookie (the session itself is already revoked).

`streamlit run dashboard/app.py` still works, without the cookie (a reload then ends a login).
"""

from __future__ import annotations

import streamlit as st
from starlette.requests import Request
from starlette.responses import RedirectResponse
from starlette.routing import Route

from dashboard import sessions


def _cookie_path() -> str:
    base = (st.get_option("server.baseUrlPath") or "").strip("/")
    return f"/{base}" if base else "/"


def _local(path: str) -> str:
    """`path` below the server's base URL path."""
    base = _cookie_path().rstrip("/")
    return f"{base}{sessions.safe_next(path)}"


def start(request: Request) -> RedirectResponse:
    client = request.client.host if request.client else None
    cookie = sessions.redeem_ticket(request.query_params.get("t", ""), client)
    if cookie is None:
        # expired, used twice or from another browser: sign in again, with a German hint
        return RedirectResponse(_local("/anmelden?hinweis=ticket"), status_code=303)
    response = RedirectResponse(_local(request.query_params.get("next", "/")), status_code=303)
    response.set_cookie(sessions.COOKIE, cookie, httponly=True, samesite="lax",
                        secure=request.url.scheme == "https", path=_cookie_path(),
                        max_age=int(sessions.MAX_LIFETIME.total_seconds()))
    response.headers["Cache-Control"] = "no-store"
    return response


def end(request: Request) -> RedirectResponse:
    response = RedirectResponse(_local(request.query_params.get("next", "/")), status_code=303)
    response.delete_cookie(sessions.COOKIE, path=_cookie_path(), httponly=True, samesite="lax")
    response.headers["Cache-Control"] = "no-store"
    return response


app = st.App("app.py", routes=[Route(sessions.START_PATH, start),
                               Route(sessions.END_PATH, end)])
