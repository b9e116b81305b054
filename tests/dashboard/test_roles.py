"""Per-role views: navigation, values each role sees, login, lock-out and cache isolation."""

from __future__ import annotations

import json
import threading
from pathlib import Path

import duckdb
import polars as pl
import pytest

from dashboard import auth, data, sessions
from dashboard.data import PUBLIC, STAFF, Viewer
from tests.dashboard.pagetest import APP, assert_ok, frames, metrics, open_tables, run_page

PASSWORD = "richtig-und-lang"


@pytest.fixture(scope="module")
def sql(demo_db):
    con = duckdb.connect(str(demo_db), read_only=True)
    yield lambda q, *p: con.execute(q, list(p)).fetchall()
    con.close()


@pytest.fixture
def accounts(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    users = tmp_path / "users.toml"
    monkeypatch.setenv("WK_USERS", str(users))
    monkeypatch.setenv("WK_AUDIT", str(tmp_path / "audit.jsonl"))
    auth.add_account("team", PASSWORD, "staff", path=users)
    return tmp_path


def _all_text(at) -> str:
    """Everything a page shows as text, including table cells."""
    parts = [e.value for kind in ("markdown", "caption", "text", "title", "header", "subheader",
                                  "info", "warning", "error", "success") for e in getattr(at, kind)]
    parts += [f"{m.label} {m.value}" for m in at.metric]
    parts += [d.to_csv() for d in frames(at)]
    return "\n".join(str(p) for p in parts)


@pytest.fixture(scope="module")
def kommunen(sql):
    """A consenting commune with Selbstcheck, and a non-consenting one with Selbstcheck."""
    yes = sql("select kommune_id from kommune k where vernetzung_zustimmung and exists (select 1 "
              "from selbstcheck s where s.kommune_id = k.kommune_id) order by 1 limit 1")[0][0]
    no = sql("select kommune_id from kommune k where not vernetzung_zustimmung and exists "
             "(select 1 from selbstcheck s where s.kommune_id = k.kommune_id) order by 1")[0][0]
    return yes, no


def test_app_navigation_table_matches_design():
    from dashboard.app import pages_for

    assert pages_for("public") == ["ueberblick", "karte", "module", "anmelden"]
    assert "daten" not in pages_for("kommune") and "bericht" not in pages_for("kommune")
    assert "fortschritt" not in pages_for("kommune")


@pytest.mark.parametrize("page", ["fortschritt", "kommune", "vernetzung", "bericht", "daten"])
def test_public_cannot_open_restricted_pages_by_url(use_db, demo_db, page):
    use_db(demo_db)
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(APP, default_timeout=60).run()
    with pytest.raises(Exception):  # noqa: B017 – AppTest refuses a page not in the navigation
        at.switch_page(f"../pages/{page}.py").run()
        assert_ok(at)
        # if AppTest ran anything, it must be the public default page, not the restricted one
        assert at.title[0].value == "Überblick"
        raise RuntimeError("fell back to the default page")


def test_data_layer_refuses_what_a_role_may_not_see(use_db, demo_db, kommunen):
    use_db(demo_db)
    own, other = kommunen
    with pytest.raises(PermissionError):
        data.load_kommune_profile(PUBLIC, own)
    with pytest.raises(PermissionError):
        data.rejects(PUBLIC)
    assert data.load_progress(PUBLIC).is_empty()
    assert data.load_overdue(PUBLIC).is_empty()
    assert data.uptake_by_kommune(PUBLIC).is_empty()
    me = Viewer("kommune", own)
    assert set(data.load_progress(me)["kommune_id"]) == {own}
    peer = data.load_kommune_profile(me, other)
    assert peer.selbstcheck is None and peer.milestones is None and peer.uptake is None
    assert peer.facts.get("email") is None and "notiz" not in peer.facts
    mine = data.load_kommune_profile(me, own)
    assert mine.selbstcheck is not None and len(mine.selbstcheck) == 7


def test_public_sees_aggregates_with_small_cells_hidden(use_db, demo_db, sql):
    at = open_tables(run_page(use_db, demo_db, viewer=None))
    m = metrics(at)
    # the public count is of admitted communes (the others are not published at all)
    assert m["Kommunen"] != str(sql("select count(*) from kommune")[0][0])
    assert "Überfällige Meilensteine" not in m
    status = frames(at)[0]
    shown = dict(zip(status["Status"], status["Kommunen"], strict=True))
    # the staff edition of the same report is the truth: every count of 1 or 2 shows "x"
    from dashboard.report import definitions as rd

    day = data.build_info().datenstand
    truth = data.load_report(data.STAFF, rd.PROGRAMMSTART, day, day)["kommunen_status"].frame
    admitted = {s: n for s, n in zip(truth["status"], truth["kommunen"], strict=True)
                if s not in rd.NICHT_AUFGENOMMEN and s != "Insgesamt"}
    # communes not admitted yet appear neither as rows nor in the total
    assert set(shown) == {*admitted, "Insgesamt"}
    assert shown["Insgesamt"] == m["Kommunen"] == str(sum(admitted.values()))
    for s, n in admitted.items():
        if 0 < n < 3:
            assert shown[s] == "x", (s, n)
        else:
            assert shown[s] in (str(n), "x"), (s, n)
    assert any("„x“" in c.value or "Schutz kleiner Fallzahlen" in c.value for c in at.caption)


def test_public_pages_show_no_personal_data(use_db, demo_db, sql):
    personal = [v for row in sql("select ansprechperson, email, telefon, notiz from kommune")
                for v in row if v]
    for page in ("ueberblick", "karte", "module"):
        at = open_tables(run_page(use_db, demo_db, page=None if page == "ueberblick" else page,
                                  viewer=None))
        text = _all_text(at)
        leaked = [v for v in personal if v in text]
        assert leaked == [], (page, leaked[:3])


def test_commune_sees_own_selbstcheck_and_only_consented_contacts(use_db, demo_db, sql,
                                                                  kommunen):
    own, other = kommunen
    me = Viewer("kommune", own)
    at = open_tables(run_page(use_db, demo_db, viewer=me))
    assert at.title[0].value == "Kommune"  # a commune lands on its own profile
    assert at.selectbox(key="profile_kommune").value == own
    assert any("Handlungsfeld" in t.columns for t in frames(at))
    at = open_tables(run_page(use_db, demo_db, page="kommune", viewer=me, kommune=other))
    text = _all_text(at)
    levels = sql("select stand from selbstcheck where kommune_id = ?", other)
    assert not any("Handlungsfeld" in t.columns for t in frames(at))
    assert any("sieht nur das Programmteam und die Kommune selbst" in i.value for i in at.info)
    email, person = sql("select email, ansprechperson from kommune where kommune_id = ?",
                        other)[0]
    assert email not in text and person not in text
    assert levels  # the peer has levels, and none of them was shown as a table


def test_login_logout_and_audit(use_db, demo_db, accounts):
    at = run_page(use_db, demo_db, viewer=None)
    at.switch_page("../pages/anmelden.py").run()
    at.text_input[0].input("team")
    at.text_input[1].input(PASSWORD)
    at.get("form_submit_button")[0].click().run()
    assert_ok(at)
    assert at.session_state["viewer"] == STAFF
    assert at.session_state["user"] == "team"
    sid = at.session_state["sid"]
    assert sessions.current(sid) is not None  # the server-side session behind the cookie
    at.run()  # the browser reloads after sign-in (to receive the cookie)
    at.button(key="logout").click().run()
    assert "viewer" not in at.session_state
    assert sessions.current(sid) is None  # revoked: the cookie opens nothing any more
    events = [json.loads(line) for line in (accounts / "audit.jsonl").read_text().splitlines()]
    assert [e["aktion"] for e in events] == ["login_ok", "logout"]
    assert PASSWORD not in (accounts / "audit.jsonl").read_text()


def test_wrong_password_many_times_locks_out(use_db, demo_db, accounts):
    at = run_page(use_db, demo_db, page="anmelden", viewer=None)
    messages = []
    for _ in range(auth.MAX_FAILURES + 1):
        at.text_input[0].input("team")
        at.text_input[1].input("falsch-falsch")
        at.get("form_submit_button")[0].click().run()
        messages.append(at.error[0].value)
    assert messages[0] == "Benutzername oder Passwort ist falsch."
    assert "Zu viele Fehlversuche" in messages[-1]
    at.text_input[0].input("team")
    at.text_input[1].input(PASSWORD)
    at.get("form_submit_button")[0].click().run()
    assert "Zu viele Fehlversuche" in at.error[0].value
    assert "viewer" not in at.session_state
    log = (accounts / "audit.jsonl").read_text()
    assert log.count('"login_failed"') == auth.MAX_FAILURES + 2
    assert "falsch-falsch" not in log
    # a password typed into the name field never reaches the log
    at.text_input[0].input("Geheim-Passwort-99")
    at.text_input[1].input("")
    at.get("form_submit_button")[0].click().run()
    log = (accounts / "audit.jsonl").read_text()
    assert "Geheim-Passwort-99" not in log.lower() and "geheim-passwort-99" not in log
    assert '"(unbekannt)"' in log


def test_two_roles_in_parallel_see_different_data(use_db, demo_db, kommunen, sql):
    """The query cache is shared by all sessions; the role filter runs after it."""
    use_db(demo_db)
    own, _ = kommunen
    results: dict[str, object] = {}

    def session(name: str, viewer) -> None:
        for _ in range(5):
            results[name] = data.load_progress(viewer)["kommune_id"].unique().to_list()

    threads = [threading.Thread(target=session, args=("staff", STAFF)),
               threading.Thread(target=session, args=("kommune", Viewer("kommune", own))),
               threading.Thread(target=session, args=("public", PUBLIC))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results["kommune"] == [own]
    assert results["public"] == []
    assert len(results["staff"]) == sql("select count(distinct kommune_id) from meilenstein")[0][0]


def test_a_commune_learns_no_other_communes_overdue_milestones(use_db, demo_db, sql):
    """The attack: a commune filters its Überblick to a Land with one commune and reads
    "Überfällige Meilensteine" – that commune's monitoring state. A commune counts its own
    overdue milestones only (as its overdue list shows its own rows)."""
    use_db(demo_db)
    own, own_land = sql("select f.kommune_id, k.bundesland from mart_fortschritt f "
                        "join kommune k using (kommune_id) where f.zustand = 'überfällig' "
                        "order by 1 limit 1")[0]
    me = Viewer("kommune", own)
    mine = sql("select count(*) from mart_fortschritt where kommune_id = ? "
               "and zustand = 'überfällig'", own)[0][0]
    others_seen = 0
    for (land,) in sql("select distinct bundesland from kommune order by 1"):
        filters = data.Filters(bundesland=(land,))
        others_seen += data.key_figures(STAFF, filters).ueberfaellige_meilensteine
        assert data.key_figures(me, filters).ueberfaellige_meilensteine == (
            mine if land == own_land else 0), land
    assert others_seen > mine  # other communes have overdue milestones: something to hide
    assert data.key_figures(me).ueberfaellige_meilensteine == mine
    assert data.key_figures(PUBLIC).ueberfaellige_meilensteine is None


def test_a_commune_learns_no_other_communes_participants_at_shared_events(use_db, demo_db, sql):
    """The attack: a commune reads the participants of an event it shared with one other
    commune and subtracts its own (it knows them, they are in its uptake): the rest is the other
    commune's count. A commune sees its own participants per event, never the event's total."""
    use_db(demo_db)
    own, event, total, mine = sql(
        "select m.kommune_id, m.veranstaltung_id, v.teilnehmende, m.teilnehmende "
        "from modulnutzung m join mart_veranstaltung v using (veranstaltung_id) "
        "join kommune k using (kommune_id) "
        "where v.kommunen_anzahl = 2 and v.teilnehmende > m.teilnehmende "
        "and v.teilnehmende > 2 and exists (select 1 from modulnutzung o join kommune ok "
        "using (kommune_id) where o.veranstaltung_id = m.veranstaltung_id "
        "and ok.bundesland <> k.bundesland) order by 1, 2 limit 1")[0]
    assert data.shared_events(STAFF).filter(
        pl.col("veranstaltung_id") == event)["teilnehmende"].to_list() == [total]

    me = Viewer("kommune", own)
    seen = data.shared_events(me)
    assert "teilnehmende" not in seen.columns
    expected = dict(sql("select veranstaltung_id, sum(teilnehmende) from modulnutzung "
                        "where kommune_id = ? group by 1", own))
    assert seen.height > 0 and dict(seen.select("veranstaltung_id", "eigene_teilnehmende")
                                    .rows()) == {e: expected[e] for e in seen["veranstaltung_id"]}
    assert seen.filter(pl.col("veranstaltung_id") == event)["eigene_teilnehmende"].to_list() \
        == [mine]
    # filtered to the other commune's Land, the commune still sees that event (a commune of the
    # selection took part), with its own participants
    other_land = sql("select k.bundesland from modulnutzung m join kommune k using (kommune_id) "
                     "where m.veranstaltung_id = ? and m.kommune_id <> ?", event, own)[0][0]
    filtered = data.shared_events(me, data.Filters(bundesland=(other_land,)))
    assert filtered.filter(pl.col("veranstaltung_id") == event)["eigene_teilnehmende"] \
        .to_list() == [mine]
    assert set(filtered["veranstaltung_id"]) <= set(seen["veranstaltung_id"])

    at = open_tables(run_page(use_db, demo_db, "module", viewer=me))
    table = next(f for f in frames(at) if "Veranstaltung" in f.columns)
    assert "Teilnehmende" not in table.columns
    row = table[table["Veranstaltung"] == event]
    assert row["Ihre Teilnehmenden"].tolist() == [mine]
    assert total not in row.drop(columns=["Veranstaltung"]).to_numpy().ravel().tolist()


@pytest.mark.parametrize("page", ["ueberblick", "karte", "module"])
def test_public_pages_with_a_tiny_selection_show_hidden_cells(use_db, demo_db, sql, page):
    """A filter down to one commune. The map lists the commune and draws no Land count (all
    hidden: every count rests on < 3 communes); the figure pages show the public edition of the
    whole programme, as without the filter, and say so (an edition of the one commune's Land
    would be its own figures; tests/dashboard/test_public_pages.py)."""
    land = sql("select bundesland from kommune group by 1 having count(*) = 1 limit 1")[0][0]
    at = run_page(use_db, demo_db, page=None if page == "ueberblick" else page, viewer=None,
                  bundesland=land)
    if page == "karte":
        open_tables(at.radio(key="map_view").set_value("laender").run())
        assert not frames(at) and not at.get("plotly_chart")
        assert any("beruhen auf weniger als drei Kommunen" in c.value for c in at.caption)
    else:
        open_tables(at)
        unfiltered = open_tables(run_page(use_db, demo_db, viewer=None,
                                          page=None if page == "ueberblick" else page))
        assert at.metric or frames(at)
        assert metrics(at) == metrics(unfiltered)
        assert [t.to_dict() for t in frames(at)] == [t.to_dict() for t in frames(unfiltered)]
        assert any("gelten immer für das ganze Programm" in i.value for i in at.info)


def test_a_login_the_audit_log_cannot_record_does_not_take_effect(use_db, demo_db, accounts,
                                                                  monkeypatch, tmp_path):
    blocker = tmp_path / "keine_mappe"
    blocker.write_text("eine Datei, kein Ordner")
    monkeypatch.setenv("WK_AUDIT", str(blocker / "audit.jsonl"))  # cannot be created
    at = run_page(use_db, demo_db, viewer=None)
    at.switch_page("../pages/anmelden.py").run()
    at.text_input[0].input("team")
    at.text_input[1].input(PASSWORD)
    at.get("form_submit_button")[0].click().run()
    assert "viewer" not in at.session_state or at.session_state["viewer"] == data.PUBLIC
    assert any("Prüfprotokoll kann nicht geschrieben werden" in e.value for e in at.error)
