"""Local accounts, password hashing, lock-out, session timeout and the OIDC role mapping."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dashboard import auth
from dashboard.data import Viewer

PASSWORD = "richtig-und-lang"


@pytest.fixture
def users(tmp_path: Path) -> Path:
    path = tmp_path / "users.toml"
    auth.add_account("team", PASSWORD, "staff", path=path)
    auth.add_account("lemgo", PASSWORD, "kommune", "05766020", path=path)
    return path


def test_password_is_stored_as_argon2_hash_only(users: Path):
    text = users.read_text(encoding="utf-8")
    assert PASSWORD not in text
    assert text.count("$argon2id$") == 2
    assert oct(users.stat().st_mode)[-3:] == "600"


def test_login_gives_the_accounts_viewer(users: Path):
    assert auth.authenticate("team", PASSWORD, users).viewer == Viewer("staff")
    assert auth.authenticate(" Lemgo ", PASSWORD, users).viewer == Viewer("kommune", "05766020")


def test_wrong_password_and_unknown_user_give_the_same_message(users: Path):
    with pytest.raises(auth.AuthError, match="Benutzername oder Passwort ist falsch") as a:
        auth.authenticate("team", "falsch-falsch", users)
    with pytest.raises(auth.AuthError) as b:
        auth.authenticate("niemand", "falsch-falsch", users)
    assert str(a.value) == str(b.value)


def test_lockout_after_repeated_failures_then_release(users: Path):
    now = dt.datetime(2026, 11, 25, 10, 0, tzinfo=dt.UTC)
    for _ in range(auth.MAX_FAILURES - 1):
        with pytest.raises(auth.AuthError, match="falsch"):
            auth.authenticate("team", "falsch-falsch", users, now=now)
    with pytest.raises(auth.AuthError, match="Zu viele Fehlversuche"):
        auth.authenticate("team", "falsch-falsch", users, now=now)
    # locked: even the right password is refused
    with pytest.raises(auth.AuthError, match="Zu viele Fehlversuche"):
        auth.authenticate("team", PASSWORD, users, now=now + dt.timedelta(minutes=5))
    # after the lock-out period the right password works and resets the counter
    later = now + auth.LOCKOUT + dt.timedelta(seconds=1)
    assert auth.authenticate("team", PASSWORD, users, now=later).username == "team"
    # the other account was never affected
    assert auth.authenticate("lemgo", PASSWORD, users, now=now).username == "lemgo"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("x", PASSWORD, "staff"), "Benutzername"),
        (("neu", "kurz", "staff"), "mindestens 10 Zeichen"),
        (("neu", PASSWORD, "kommune"), "Gemeindeschlüssel"),
        (("neu", PASSWORD, "admin"), "Rolle"),
        (("team", PASSWORD, "staff"), "gibt es schon"),
    ],
)
def test_add_account_rejects_bad_input(users: Path, args, message):
    with pytest.raises(auth.AuthError, match=message):
        auth.add_account(*args, path=users)


def test_remove_account(users: Path):
    auth.remove_account("lemgo", users)
    with pytest.raises(auth.AuthError):
        auth.authenticate("lemgo", PASSWORD, users)


def test_session_timeout():
    now = dt.datetime(2026, 11, 25, 10, 0, tzinfo=dt.UTC)
    assert not auth.session_expired(now - dt.timedelta(minutes=29), now)
    assert auth.session_expired(now - dt.timedelta(minutes=31), now)
    assert not auth.session_expired(None, now)


MAPPING = {
    "emails": {"Anna@Phineo.org": {"role": "staff"},
               "integration@lemgo.example": {"role": "kommune", "kommune_id": "05766020"},
               "kaputt@lemgo.example": {"role": "kommune"},
               "chef@bertelsmann-stiftung.de": {"role": "public"}},
    "domains": {"bertelsmann-stiftung.de": {"role": "staff"},
                "lemgo.example": {"role": "kommune", "kommune_id": "05766020"}},
}


@pytest.mark.parametrize(
    ("email", "viewer"),
    [
        ("anna@phineo.org", Viewer("staff")),
        ("ANNA@PHINEO.ORG", Viewer("staff")),
        ("integration@lemgo.example", Viewer("kommune", "05766020")),
        ("someone@bertelsmann-stiftung.de", Viewer("staff")),
        ("jemand@lemgo.example", Viewer("kommune", "05766020")),
        ("kaputt@lemgo.example", None),  # exact entry without commune: no access, not the domain
        ("chef@bertelsmann-stiftung.de", None),  # exact entry with an unknown role wins: no access
        ("fremd@example.org", None),
        ("", None),
        (None, None),
        ("kein-at-zeichen", None),
    ],
)
def test_oidc_role_mapping(email, viewer):
    assert auth.viewer_for_email(email, MAPPING) == viewer


@given(st.emails())
def test_oidc_unknown_addresses_never_get_a_role(email: str):
    assert auth.viewer_for_email(email, {"emails": {}, "domains": {}}) is None


def test_example_allowlist_parses_and_maps(tmp_path: Path):
    example = Path(__file__).resolve().parents[2] / "config" / "oidc_roles.example.toml"
    mapping = auth.load_oidc_roles(example)
    assert auth.viewer_for_email("x@bertelsmann-stiftung.de", mapping) == Viewer("staff")


# ---- throttling by account and client (#11) ------------------------------------------------


def _fail(users: Path, name: str, client: str | None, now: dt.datetime, times: int = 1) -> str:
    message = ""
    for _ in range(times):
        with pytest.raises(auth.AuthError) as exc:
            auth.authenticate(name, "falsch-falsch", users, now=now, client=client)
        message = str(exc.value)
    return message


def test_a_stranger_cannot_keep_a_colleague_locked_out(users: Path):
    now = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)
    # the attacker repeats five wrong passwords every 15 minutes, all day
    for hour in range(8):
        for quarter in range(4):
            t = now + dt.timedelta(hours=hour, minutes=15 * quarter)
            assert "gesperrt" in _fail(users, "team", "198.51.100.9", t, times=5)
            # the colleague at her own desk signs in at the same moment
            account = auth.authenticate("team", PASSWORD, users, now=t, client="203.0.113.5")
            assert account.username == "team"
    # the attacker's own client stays locked for the account, even with the right password
    with pytest.raises(auth.AuthError, match="gesperrt"):
        auth.authenticate("team", PASSWORD, users, now=now, client="198.51.100.9")


def test_one_client_guessing_many_names_is_blocked(users: Path):
    now = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)
    for i in range(auth.MAX_CLIENT_FAILURES - 1):
        assert _fail(users, f"name{i}", "198.51.100.9", now) == \
            "Benutzername oder Passwort ist falsch."
    assert "gesperrt" in _fail(users, "noch-einer", "198.51.100.9", now)
    with pytest.raises(auth.AuthError, match="gesperrt"):  # also for real accounts
        auth.authenticate("lemgo", PASSWORD, users, now=now, client="198.51.100.9")
    assert auth.authenticate("lemgo", PASSWORD, users, now=now, client="203.0.113.5")


def test_spread_out_guessing_locks_the_account_for_everyone(users: Path):
    now = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)
    for i in range(auth.MAX_ACCOUNT_FAILURES // 4 + 1):
        _fail(users, "team", f"10.0.{i}.1", now, times=4)  # under each client's limit
    with pytest.raises(auth.AuthError, match="gesperrt"):
        auth.authenticate("team", PASSWORD, users, now=now, client="203.0.113.5")


@settings(max_examples=5, deadline=None)
@given(st.lists(st.text(min_size=1, max_size=60), min_size=30, max_size=60))
def test_state_file_holds_no_entry_per_unknown_name(tmp_path_factory, names: list[str]):
    users = tmp_path_factory.mktemp("u") / "users.toml"
    auth.add_account("team", PASSWORD, "staff", path=users)
    now = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)
    for i, name in enumerate(names):
        _fail(users, name, f"10.1.{i}.1", now)
    state = json.loads(users.with_name("users.toml.state.json").read_text())
    assert all(k.startswith("client:") for k in state), state  # one per client, not per name
    # no name as a JSON string of its own (a bare substring check fails on a name such as
    # "lien", which is part of "client:")
    assert not any(json.dumps(name.strip().lower()) in json.dumps(state) for name in names
                   if len(name.strip()) > 3)
    # a quarter of an hour later everything has been pruned
    _fail(users, "team", "10.9.9.9", now + auth.LOCKOUT + dt.timedelta(seconds=1))
    state = json.loads(users.with_name("users.toml.state.json").read_text())
    assert len(state) == 3  # that client, and the account's counters for it and overall
