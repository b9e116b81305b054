"""Login sessions that survive a reload: signed cookie, shared store, revocation, deep links."""

from __future__ import annotations

import datetime as dt
import json
import shutil
import stat
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from hypothesis import given
from hypothesis import strategies as st
from itsdangerous.encoding import base64_decode
from streamlit.testing.v1 import AppTest

from dashboard import auth, sessions
from dashboard.data import STAFF, Viewer
from tests.conftest import DEMO_DIR
from tests.dashboard.pagetest import APP, assert_ok, run_page

PASSWORD = "richtig-und-lang"
T0 = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)


@pytest.fixture
def users(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "users.toml"
    monkeypatch.setenv("WK_USERS", str(path))
    monkeypatch.setenv("WK_AUDIT", str(tmp_path / "audit.jsonl"))
    monkeypatch.delenv("WK_SESSIONS", raising=False)
    auth.add_account("team", PASSWORD, "staff", path=path)
    auth.add_account("lemgo", PASSWORD, "kommune", "05766020", path=path)
    return path


def _cookie(user: str = "team", client: str | None = "203.0.113.7", now=T0) -> tuple[str, str]:
    sid, ticket = sessions.create(user, "passwort", client, now=now)
    cookie = sessions.redeem_ticket(ticket, client)
    assert cookie is not None
    return sid, cookie


def test_cookie_resumes_the_session_and_holds_only_a_signed_id(users: Path):
    sid, cookie = _cookie()
    payload = json.loads(base64_decode(cookie.split(".")[0]))
    assert payload == sid  # the cookie carries only the random session id (signed)
    session = sessions.resume(cookie, now=T0 + dt.timedelta(minutes=1))
    assert (session.sid, session.user, session.method) == (sid, "team", "passwort")
    # the store and its secret sit next to the accounts, readable by the service only
    store = sessions.store_path()
    assert store == users.with_name("users.toml.sessions.sqlite")
    secret = store.with_name(store.name + ".secret")
    assert stat.S_IMODE(secret.stat().st_mode) == 0o600
    assert len(secret.read_text()) == 64


@pytest.mark.parametrize("tamper", [
    lambda c: c[:-2] + ("AA" if not c.endswith("AA") else "BB"),  # signature changed
    lambda c: c.split(".")[0] + ".x.y",  # forged
    lambda c: "",
])
def test_forged_cookie_opens_nothing(users: Path, tamper):
    _sid, cookie = _cookie()
    assert sessions.resume(tamper(cookie), now=T0) is None


def test_cookie_signed_with_another_secret_is_refused(users: Path, tmp_path: Path):
    _sid, cookie = _cookie()
    other = tmp_path / "other" / "store.sqlite"
    assert sessions.resume(cookie, store=other, now=T0) is None


def test_ticket_is_single_use_and_bound_to_the_client(users: Path):
    sid, ticket = sessions.create("team", "passwort", "203.0.113.7", now=dt.datetime.now(dt.UTC))
    # an attacker who got hold of the link from elsewhere (login CSRF) gets no cookie
    assert sessions.redeem_ticket(ticket, "198.51.100.1") is None
    assert sessions.redeem_ticket(ticket, "203.0.113.7") is not None
    assert sessions.redeem_ticket(ticket, "203.0.113.7") is None  # used
    assert sessions.redeem_ticket(ticket + "x", "203.0.113.7") is None
    # a cookie value is no ticket and a ticket no cookie (different salts)
    assert sessions.resume(ticket) is None
    assert sessions.current(sid) is not None


def test_idle_timeout_is_shared_and_activity_keeps_the_session(users: Path):
    sid, cookie = _cookie()
    # activity every 20 minutes (in any tab or process) keeps it alive past 30 minutes
    for minutes in (20, 40, 60):
        assert sessions.resume(cookie, now=T0 + dt.timedelta(minutes=minutes)) is not None
    assert sessions.resume(cookie, now=T0 + dt.timedelta(minutes=91)) is None
    assert sessions.current(sid, now=T0 + dt.timedelta(minutes=61)) is None  # deleted


def test_session_ends_after_the_maximum_lifetime_even_when_active(users: Path):
    _sid, cookie = _cookie()
    now = T0
    while now - T0 < sessions.MAX_LIFETIME - dt.timedelta(minutes=20):
        now += dt.timedelta(minutes=20)
        assert sessions.resume(cookie, now=now) is not None
    assert sessions.resume(cookie, now=T0 + sessions.MAX_LIFETIME + dt.timedelta(minutes=1)
                           ) is None


def test_logout_password_reset_and_removal_revoke_server_side(users: Path):
    sid, cookie = _cookie()
    _sid2, cookie2 = _cookie()  # a second browser
    _sid3, cookie3 = _cookie("lemgo")
    sessions.revoke(sid)
    assert sessions.resume(cookie, now=T0) is None
    assert sessions.resume(cookie2, now=T0) is not None
    auth.add_account("team", "ein-neues-passwort", "staff", path=users, replace=True)
    assert sessions.resume(cookie2, now=T0) is None
    auth.remove_account("lemgo", users)
    assert sessions.resume(cookie3, now=T0) is None


def test_secret_is_created_once_and_kept(users: Path, tmp_path: Path):
    store = tmp_path / "s" / "x.sqlite"
    first = sessions._secret(store)
    assert sessions._secret(store) == first
    _sid, ticket = sessions.create("team", "passwort", None, store=store)
    assert sessions.redeem_ticket(ticket, None, store=store) is not None


@given(st.text(max_size=80))
def test_next_target_never_leaves_the_site(target: str):
    result = sessions.safe_next(target)
    parts = urlsplit(result)
    assert result.startswith("/") and not result.startswith("//")
    assert not parts.scheme and not parts.netloc
    assert "\\" not in result


@pytest.mark.parametrize("target", ["https://evil.example/", "//evil.example/x", "/\\evil",
                                    "javascript:alert(1)", "fortschritt", "/x\r\nSet-Cookie: a"])
def test_hostile_next_targets_become_the_start_page(target: str):
    assert sessions.safe_next(target) == "/"


def test_local_next_target_is_kept():
    assert sessions.safe_next("/fortschritt?bundesland=Bayern&status=aktiv") == \
        "/fortschritt?bundesland=Bayern&status=aktiv"


@pytest.mark.parametrize(("base", "prefix"), [("", ""), ("monitor", "/monitor"),
                                              ("/monitor/", "/monitor")])
def test_urls_stay_below_the_base_path(base: str, prefix: str):
    from streamlit import config

    old = config.get_option("server.baseUrlPath")
    config.set_option("server.baseUrlPath", base)
    try:
        assert sessions.url(sessions.START_PATH) == f"{prefix}/sitzung/start"
        assert sessions.url("/fortschritt?bundesland=Bayern") == \
            f"{prefix}/fortschritt?bundesland=Bayern"
        assert sessions.url("//evil.example/x") == f"{prefix}/"  # never off the server
    finally:
        config.set_option("server.baseUrlPath", old)


# ---- the app ---------------------------------------------------------------------------------


def _open_url(at, url_path: str):
    """Open `/<url_path>` as the browser does (by the page's URL path). AppTest's switch_page
    only takes script files, and a locked page is a function, so pick its registered hash."""
    at._page_hash = next(h for h, info in at._registered_pages.items()
                         if info.get("url_pathname") == url_path)
    return at


def test_deep_link_to_a_staff_page_asks_for_sign_in_in_german(use_db, demo_db, users: Path):
    at = run_page(use_db, demo_db, viewer=None, bundesland="Bayern")
    _open_url(at, "fortschritt").run()  # not in the public navigation
    assert_ok(at)
    # not the page itself, and no "Page not found": the sign-in with a hint naming the page
    hints = [i.value for i in at.info]
    assert any("„Fortschritt“ ist nur nach der Anmeldung sichtbar" in h for h in hints), hints
    assert at.text_input[0].label == "Benutzername"
    assert not at.dataframe
    at.text_input[0].input("team")
    at.text_input[1].input(PASSWORD)
    at.get("form_submit_button")[0].click().run()
    assert at.session_state["viewer"] == STAFF
    assert sessions.current(at.session_state["sid"]).user == "team"


def test_requested_path_keeps_the_filters(use_db, demo_db, users: Path):
    at = run_page(use_db, demo_db, viewer=None, bundesland=["Bayern", "Hessen"])
    _open_url(at, "bericht").run()
    assert_ok(at)
    # the sign-in keeps the filters of the link in the URL it continues to
    assert at.query_params["bundesland"] == ["Bayern", "Hessen"]
    assert any("„Bericht“" in i.value for i in at.info)


def test_commune_on_a_staff_page_sees_a_german_no_access_note(use_db, demo_db, users: Path):
    at = run_page(use_db, demo_db, viewer=Viewer("kommune", "05766020"))
    _open_url(at, "daten").run()
    assert_ok(at)
    assert [w.value for w in at.warning if "nicht freigegeben" in w.value]
    assert not at.text_input  # no login form, and none of the page's own widgets
    assert not at.dataframe


def test_revoked_session_ends_the_open_tab(use_db, demo_db, users: Path):
    at = run_page(use_db, demo_db, viewer=None)
    at.switch_page("../pages/anmelden.py").run()
    at.text_input[0].input("team")
    at.text_input[1].input(PASSWORD)
    at.get("form_submit_button")[0].click().run()
    at.run()
    assert at.button(key="logout")
    auth.remove_account("team", users)  # e.g. from the CLI, in another process
    at.run()
    assert "viewer" not in at.session_state
    assert any("abgemeldet" in w.value for w in at.warning)
    events = [json.loads(line)["aktion"]
              for line in (users.parent / "audit.jsonl").read_text().splitlines()]
    assert events == ["login_ok", "session_timeout"]


# ---- demo accounts and real data -------------------------------------------------------------


def test_applying_real_data_warns_first_then_ends_the_open_demo_session(
        tmp_path: Path, demo_db: Path, monkeypatch: pytest.MonkeyPatch):
    from dashboard import users as users_cli

    live = tmp_path / "live" / "monitor.duckdb"
    live.parent.mkdir()
    shutil.copyfile(demo_db, live)
    monkeypatch.setenv("WK_DB", str(live))
    monkeypatch.setenv("WK_USERS", str(tmp_path / "users.toml"))
    monkeypatch.setenv("WK_AUDIT", str(tmp_path / "audit.jsonl"))
    monkeypatch.delenv("WK_SESSIONS", raising=False)
    demo = {a["user"]: a["password"] for a in users_cli.demo_accounts(tmp_path / "users.toml")}

    at = AppTest.from_file(APP, default_timeout=120)
    at.run()
    at.switch_page("../pages/anmelden.py").run()
    at.text_input[0].input("team")
    at.text_input[1].input(demo["team"])
    at.get("form_submit_button")[0].click().run()
    sid = at.session_state["sid"]
    at.run()  # the reload after sign-in
    at.switch_page("../pages/daten.py").run()
    assert_ok(at)
    at.file_uploader[0].set_value([("kommunen.csv", (DEMO_DIR / "kommunen.csv").read_bytes(),
                                    "text/csv")])
    at.run()
    assert at.checkbox(key="daten_beispiel").value  # starts from the live (demo) version
    at.checkbox(key="daten_beispiel").uncheck().run()  # staff mark the upload as real data
    assert_ok(at)
    (warning,) = [w.value for w in at.warning if "Demo-Zugänge" in w.value]
    assert "(kommune1, kommune2, team)" in warning and "auch Sie" in warning
    at.button(key="daten_apply").click().run()  # the page reruns after the switch
    assert not at.exception
    assert "viewer" not in at.session_state
    assert any("echte Daten geladen" in w.value for w in at.warning), [w.value for w in at.warning]
    assert sessions.current(sid) is None
    # and the demo password no longer opens anything
    at2 = AppTest.from_file(APP, default_timeout=60)
    at2.run()
    at2.switch_page("../pages/anmelden.py").run()
    at2.text_input[0].input("team")
    at2.text_input[1].input(demo["team"])
    at2.get("form_submit_button")[0].click().run()
    assert "viewer" not in at2.session_state
    assert [e.value for e in at2.error] == ["Demo-Zugänge funktionieren nur mit den Beispieldaten."]
