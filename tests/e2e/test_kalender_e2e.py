"""The private calendar link on the real server (`dashboard/server.py`): `/kalender/<token>.ics`
answers with the commune's own calendar, and with one and the same 404 for a wrong, renewed or
revoked token. No browser needed: plain HTTP."""

from __future__ import annotations

import os
import urllib.error
import urllib.request

import polars as pl
from icalendar import Calendar

from dashboard import data
from dashboard.store import watch as wstore
from tests.e2e.conftest import start_app


def _get(url: str) -> tuple[int, dict[str, str], bytes]:
    try:
        with urllib.request.urlopen(url, timeout=30) as r:
            return r.status, {k.lower(): v for k, v in r.headers.items()}, r.read()
    except urllib.error.HTTPError as exc:
        return exc.code, {k.lower(): v for k, v in exc.headers.items()}, exc.read()


def test_private_calendar_link_on_the_real_server(demo_db, use_db):
    use_db(demo_db)
    ids = data.priorities(data.STAFF)["kommune_id"].unique(maintain_order=True).to_list()
    own, other = ids[0], ids[1]
    token = wstore.new_calendar_token(data.Viewer("kommune", own), "k", own)
    other_token = wstore.new_calendar_token(data.STAFF, "anna", other)
    proc, url = start_app(demo_db, WK_STORE=os.environ["WK_STORE"],
                          WK_AUDIT=os.environ["WK_AUDIT"])
    try:
        status, headers, body = _get(f"{url}/kalender/{token}.ics")
        assert status == 200, body[:300]
        assert headers["content-type"] == "text/calendar; charset=utf-8"
        assert "no-store" in headers["cache-control"] and "public" not in headers["cache-control"]
        assert headers["referrer-policy"] == "no-referrer"
        assert "set-cookie" not in headers and "etag" not in headers
        events = list(Calendar.from_ical(body).walk("VEVENT"))
        assert events and all(str(e["UID"]).startswith(f"{own}-") for e in events)
        profile = data.load_kommune_profile(data.STAFF, own)
        planned = profile.milestones.filter(pl.col("erreicht_am").is_null()
                                            & pl.col("geplant_am").is_not_null())
        uids = {str(e["UID"]).split("@")[0] for e in events}
        assert {f"{own}-meilenstein-{r}" for r in planned["reihenfolge"]} <= uids
        names = data.kommune_names()
        assert names[other].encode() not in body and other.encode() not in body
        # the other commune's link gives only its own calendar
        _, _, theirs = _get(f"{url}/kalender/{other_token}.ics")
        assert all(str(e["UID"]).startswith(f"{other}-")
                   for e in Calendar.from_ical(theirs).walk("VEVENT"))
        # wrong, renewed, revoked, malformed: the same 404, nothing telling them apart
        renewed = wstore.new_calendar_token(data.STAFF, "anna", own)
        answers = [_get(f"{url}/kalender/{t}.ics") for t in
                   (token, "A" * 43, token[:-1], token + "A")]
        assert _get(f"{url}/kalender/{renewed}.ics")[0] == 200
        wstore.revoke_calendar_token(data.Viewer("kommune", own), "k", own)
        answers.append(_get(f"{url}/kalender/{renewed}.ics"))
        assert {a[0] for a in answers} == {404}
        assert len({a[2] for a in answers}) == 1 and b"Nicht gefunden" in answers[0][2]
        assert all("no-store" in a[1]["cache-control"] for a in answers)
        # an encoded path trick is refused before it reaches the route
        assert _get(f"{url}/kalender/%2e%2e%2f{other_token}.ics")[0] in (400, 404)
    finally:
        proc.terminate()
        proc.wait(timeout=10)
