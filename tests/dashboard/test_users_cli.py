"""`python -m dashboard.users`: adding accounts and the demo accounts for the sample data."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from dashboard import auth, users


@pytest.fixture
def users_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "users.toml"
    monkeypatch.setenv("WK_USERS", str(path))
    return path


def test_add_reads_the_password_from_stdin(users_file, monkeypatch, capsys):
    monkeypatch.setattr("sys.stdin", io.StringIO("ein-langes-passwort\n"))
    assert users.main(["add", "--user", "lemgo", "--role", "kommune", "--kommune", "05766020",
                       "--password-stdin"]) == 0
    assert auth.authenticate("lemgo", "ein-langes-passwort").kommune_id == "05766020"
    assert users.main(["list"]) == 0
    assert "lemgo" in capsys.readouterr().out


def test_add_refuses_a_kommune_account_without_key(users_file, monkeypatch, capsys):
    monkeypatch.setattr("sys.stdin", io.StringIO("ein-langes-passwort\n"))
    assert users.main(["add", "--user", "x1", "--role", "kommune", "--password-stdin"]) == 1
    assert "Gemeindeschlüssel" in capsys.readouterr().err


def test_demo_accounts_only_for_sample_data(users_file, use_db, demo_db, cohort_db, capsys):
    use_db(demo_db)
    assert users.main(["demo"]) == 0
    out = capsys.readouterr().out
    accounts = auth.load_accounts(users_file)
    assert set(accounts) == {"team", "kommune1", "kommune2"}
    assert all(a.demo for a in accounts.values())
    assert "team" in out and "Passwort" in out
    password = out.split("team", 1)[1].split("Passwort", 1)[1].split()[0]
    assert auth.authenticate("team", password, users_file).demo
    # kept nowhere in plain text: not next to the accounts, not in the accounts file
    for f in users_file.parent.iterdir():
        if f.is_file():
            assert password.encode() not in f.read_bytes(), f
    # so the next call (every `make run`) sets new passwords; the old one stops working
    assert users.main(["demo"]) == 0
    assert password not in capsys.readouterr().out
    with pytest.raises(auth.AuthError):
        auth.authenticate("team", password, users_file)
    use_db(cohort_db)  # built without `beispieldaten = true`: real data
    assert users.main(["demo"]) == 1
    assert "nur für die Beispieldaten" in capsys.readouterr().err
