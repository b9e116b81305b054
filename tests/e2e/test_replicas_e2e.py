"""Two app processes over one data folder (as behind a load balancer, deploy/README.md).

Proves what several replicas need: a new build written by one writer is served by both within
seconds with the same build id; failed logins spread over both lock the account; the audit log
holds the events of both, complete and in order; a session cookie issued by one is accepted by
the other. The sessions are light WebSocket clients (bench/stclient.py), not browsers.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import io
import json
import re
import shutil
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from bench import stclient
from dashboard import auth, imports
from dashboard.data import STAFF
from tests.conftest import DEMO_DIR
from tests.e2e.conftest import start_app

PASSWORD = "zwei-prozesse-123"


@pytest.fixture(scope="module")
def replicas(tmp_path_factory: pytest.TempPathFactory, demo_db: Path
             ) -> Iterator[tuple[Path, dict[str, str], list[str]]]:
    base = tmp_path_factory.mktemp("replicas")
    (base / "data").mkdir()
    (base / "config").mkdir()
    db = base / "data" / "monitor.duckdb"
    shutil.copyfile(demo_db, db)
    env = {"WK_USERS": str(base / "config" / "users.toml"),
           "WK_AUDIT": str(base / "data" / "audit.jsonl")}
    users = Path(env["WK_USERS"])
    auth.add_account("team", PASSWORD, "staff", path=users)
    auth.add_account("anna", PASSWORD, "staff", path=users)
    started = [start_app(db, **env) for _ in range(2)]
    yield db, env, [url for _proc, url in started]
    for proc, _url in started:
        proc.terminate()
        proc.wait(timeout=10)


def _build_id(url: str) -> str:
    run = stclient.visit_sync(url)
    assert not run.errors, run.errors
    (found,) = {m.group(1) for t in run.texts if (m := re.search(r"Build (\S+)", t))}
    return found


def test_a_new_build_is_served_by_both_processes(replicas, monkeypatch: pytest.MonkeyPatch):
    db, env, (a, b) = replicas
    old = _build_id(a)
    assert _build_id(b) == old
    monkeypatch.setenv("WK_DB", str(db))
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    kommunen = (DEMO_DIR / "kommunen.csv").read_bytes()
    upload = io.BytesIO(kommunen)
    upload.name = "kommunen.csv"
    preview = imports.preview(STAFF, [upload], dt.date(2022, 3, 16), beispieldaten=True)
    assert preview.can_apply, preview.problems
    new = imports.apply(STAFF, "anna", preview).build_id
    assert new != old
    deadline = time.monotonic() + 10
    seen = {}
    while time.monotonic() < deadline and set(seen.values()) != {new}:
        seen = {url: _build_id(url) for url in (a, b)}
    assert seen == {a: new, b: new}


def test_failed_logins_over_both_processes_lock_the_account(replicas):
    _db, env, (a, b) = replicas
    for i in range(auth.MAX_FAILURES):
        run = asyncio.run(stclient.sign_in((a, b)[i % 2], "team", f"falsch-{i}-xxxxx"))
        assert run.redirect is None
    # now even the right password is refused, by either process
    for url in (a, b):
        run = asyncio.run(stclient.sign_in(url, "team", PASSWORD))
        assert run.redirect is None
        assert any("Zu viele Fehlversuche" in e for e in run.errors), run.errors
    events = [json.loads(line) for line in Path(env["WK_AUDIT"]).read_text().splitlines()]
    failed = [e for e in events if e["aktion"] == "login_failed" and e["benutzer"] == "team"]
    assert len(failed) == auth.MAX_FAILURES + 2
    times = [e["zeit"] for e in events]
    assert times == sorted(times)  # appended in order, by both processes


def test_a_cookie_from_one_process_is_accepted_by_the_other(replicas):
    _db, _env, (a, b) = replicas
    run = asyncio.run(stclient.sign_in(a, "anna", PASSWORD, query="next=/fortschritt"))
    assert run.redirect and run.redirect.startswith("/sitzung/start?t=")
    response = requests.get(a + run.redirect, allow_redirects=False, timeout=10)
    assert response.status_code == 303
    assert response.headers["location"] == "/fortschritt"  # the page the link asked for
    cookie = response.cookies["wk_sitzung"]
    assert "httponly" in response.headers["set-cookie"].lower()
    # the same ticket a second time gives nothing
    again = requests.get(a + run.redirect, allow_redirects=False, timeout=10)
    assert again.headers["location"] == "/anmelden?hinweis=ticket"
    assert "wk_sitzung" not in again.cookies

    on_b = stclient.visit_sync(b, "fortschritt", cookies={"wk_sitzung": cookie})
    assert not on_b.errors, on_b.errors
    assert "anna" in on_b.texts and "Fortschritt" in on_b.texts
    assert "Abmelden" in on_b.widgets
    # without the cookie the same page asks for a sign-in
    anonymous = stclient.visit_sync(b, "fortschritt")
    assert any("nur nach der Anmeldung sichtbar" in t for t in anonymous.texts)
    # a forged cookie opens nothing
    forged = stclient.visit_sync(b, "fortschritt", cookies={"wk_sitzung": cookie[:-3] + "abc"})
    assert any("nur nach der Anmeldung sichtbar" in t for t in forged.texts)


@pytest.mark.parametrize("role", ["public", "kommune", "staff"])
def test_every_page_url_opens_without_page_not_found(replicas, role: str):
    _db, env, (a, _b) = replicas
    cookies = None
    if role != "public":
        users = Path(env["WK_USERS"])
        user = f"url-{role}"
        if user not in auth.load_accounts(users):
            auth.add_account(user, PASSWORD, role, "01001000" if role == "kommune" else None,
                             path=users)
        run = asyncio.run(stclient.sign_in(a, user, PASSWORD))
        response = requests.get(a + run.redirect, allow_redirects=False, timeout=10)
        cookies = {"wk_sitzung": response.cookies["wk_sitzung"]}
    # dashboard/app.py PAGES (importing the entry point would run it)
    for stem in ("ueberblick", "karte", "fortschritt", "module", "kommune", "vernetzung",
                 "bericht", "daten", "anmelden"):
        run = stclient.visit_sync(a, stem, cookies=cookies)
        assert not [e for e in run.errors if "page not found" in e], (stem, run.errors)
