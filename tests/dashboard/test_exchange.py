"""The exchange on the Vernetzung page, driven like a user: a commune asks, the peer accepts
(double opt-in: no contact detail in any element of either page before), the exchange log, the
"Wir suchen" prefill from the own Selbstcheck, practice cards with hostile text, staff views and
the optional e-mail notification against a local SMTP sink."""

from __future__ import annotations

import datetime as dt
import json
import os
import socket
import time
from pathlib import Path

import polars as pl
import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.handlers import Message
from streamlit.testing.v1 import AppTest

from dashboard import data, exchange_ui, notify, ui
from dashboard.i18n import value as value_in
from dashboard.store import austausch, demo
from etl.schema import HANDLUNGSFELDER
from tests.dashboard.pagetest import APP, assert_ok, open_tables

ENGAGEMENT = "Engagement und Beteiligung"
HOSTILE = "![x](http://evil/x.png) <script>alert(1)</script>"


def _page(viewer: data.Viewer, user: str = "konto", **params: str) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=60)
    at.session_state["viewer"] = viewer
    at.session_state["user"] = user
    for key, value in params.items():
        at.query_params[key] = value
    at.run()
    at.switch_page("../pages/vernetzung.py").run()
    assert_ok(at)
    return open_tables(at)  # the payload holds every table (network, map of suggestions)


def _payload(at: AppTest) -> bytes:
    """Every element of the rendered page, serialised: what the browser would receive."""
    out: list[bytes] = []

    def walk(node) -> None:
        proto = getattr(node, "proto", None)
        if proto is not None and hasattr(proto, "SerializeToString"):
            out.append(proto.SerializeToString())
        for child in getattr(node, "children", {}).values():
            walk(child)

    walk(at._tree)
    return b"\n".join(out)


def _contact_values(kid: str) -> list[bytes]:
    row = data.peer_contacts(data.STAFF, [kid]).row(0, named=True)
    values = [row[c] for c in ("ansprechperson", "email", "telefon")]
    assert all(values), kid  # the demo has contact data for everyone, so absence means hidden
    return [v.encode() for v in values]


@pytest.fixture
def demo_store(use_db, demo_db):
    use_db(demo_db)
    demo.seed(data.query("select * from mart_peer_merkmale order by kommune_id"))
    return demo_db


def _refusing_pair() -> tuple[str, str]:
    """Two communes without consent to networking where the first sees the second suggested."""
    frame = data.query("select kommune_id from mart_kommune where not vernetzung_zustimmung "
                       "and status <> 'ausgeschieden' order by kommune_id")
    refusing = frame["kommune_id"].to_list()
    for asker in refusing:
        austausch.save_entry(data.Viewer("kommune", asker), "x", asker, "gesuch", ENGAGEMENT,
                             "Wir suchen Ideen für Beteiligung")
    peer = refusing[1]
    austausch.save_entry(data.Viewer("kommune", peer), "x", peer, "angebot", ENGAGEMENT,
                         "Beteiligungsformat im Rathaus")
    return refusing[0], peer


def test_a_commune_asks_the_peer_accepts_and_only_then_both_see_contacts(demo_store):
    asker, peer = _refusing_pair()
    a, p = data.Viewer("kommune", asker), data.Viewer("kommune", peer)
    names = data.kommune_names()
    asker_contacts, peer_contacts = _contact_values(asker), _contact_values(peer)

    at = _page(a, "konto-a")
    payload = _payload(at)
    assert names[peer].encode() in payload  # the peer is suggested ...
    assert not [v for v in peer_contacts if v in payload]  # ... without its contacts
    at.text_area(key=f"ask_{peer}_message").set_value("Hätten Sie Zeit? " + HOSTILE)
    at.selectbox(key=f"ask_{peer}_topic").set_value(ENGAGEMENT)
    at.button(key=f"ask_{peer}_send").click().run()
    assert_ok(at)
    assert any(f"Anfrage an {names[peer]} gesendet" in s.value for s in at.success)
    sent = austausch.requests(a).filter(pl.col("an_kommune_id") == peer).row(0, named=True)
    assert sent["zustand"] == "offen" and sent["handlungsfeld"] == ENGAGEMENT
    assert not [v for v in peer_contacts if v in _payload(at)]

    other = _page(p, "konto-p")
    assert "Anfragen (1)" in [t.label for t in other.tabs]
    payload = _payload(other)
    assert not [v for v in asker_contacts if v in payload]
    assert ui.md_escape("Hätten Sie Zeit? " + HOSTILE) in [c.value for c in other.caption]
    assert not any("](http://evil" in m.value or "<script>" in m.value
                   for m in [*other.markdown, *other.caption])
    other.button(key=f"accept_{sent['id']}").click().run()
    assert_ok(other)
    assert any("Angenommen" in s.value for s in other.success)
    assert all(v in _payload(other) for v in asker_contacts)  # now the peer sees the asker
    assert all(v in _payload(_page(a, "konto-a")) for v in peer_contacts)  # and vice versa

    events = [json.loads(line) for line in
              Path(os.environ["WK_AUDIT"]).read_text(encoding="utf-8").splitlines()]
    actions = [(e["benutzer"], e["aktion"]) for e in events]
    assert ("konto-a", "kontaktanfrage") in actions
    assert ("konto-p", "kontaktanfrage_angenommen") in actions
    text = json.dumps(events, ensure_ascii=False)
    assert not [v for v in asker_contacts + peer_contacts if v.decode() in text]


def test_blanked_values_leave_no_bytes_for_the_browser(demo_store):
    """A value hidden by the data layer must not travel in the Arrow bytes Streamlit sends (a
    null mask over the original buffer would)."""
    from streamlit import dataframe_util

    asker, peer = _refusing_pair()
    frame = data.peer_suggestions(data.Viewer("kommune", asker), asker, n=40)
    assert peer in frame["kommune_id"].to_list()
    sent = dataframe_util.convert_anything_to_arrow_bytes(frame)
    assert not [v for v in _contact_values(peer) if v in sent]
    # Selbstcheck columns of the other communes: the bytes equal those of a frame built from the
    # visible values alone, so nothing hidden rides along
    own = data.load_peer_features(data.Viewer("kommune", asker))
    assert own.filter(pl.col("kommune_id") != asker)["staende"].null_count() == own.height - 1

    def arrow(frame: pl.DataFrame) -> bytes:
        return dataframe_util.convert_anything_to_arrow_bytes(frame)

    assert arrow(own) == arrow(pl.DataFrame(own.to_dicts(), schema=own.schema))
    # control: the naive mask does carry hidden values (so the comparison can fail)
    full = data.load_peer_features(data.STAFF)
    masked = full.with_columns(pl.when(pl.col("kommune_id") == asker).then(pl.col("staende"))
                               .alias("staende"))
    assert arrow(masked) != arrow(pl.DataFrame(masked.to_dicts(), schema=masked.schema))


def test_a_peer_declines_and_no_contacts_ever_show(demo_store):
    asker, peer = _refusing_pair()
    a, p = data.Viewer("kommune", asker), data.Viewer("kommune", peer)
    request = austausch.request_contact(a, "a", peer, ENGAGEMENT, "Hallo")
    at = _page(p, "konto-p")
    at.button(key=f"decline_{request}").click().run()
    assert austausch.requests(p).filter(pl.col("id") == request)["zustand"].item() == "abgelehnt"
    assert not [v for v in _contact_values(peer) if v in _payload(_page(a))]
    assert not [v for v in _contact_values(asker) if v in _payload(_page(p))]
    with pytest.raises(austausch.StoreError, match="schon beantwortet"):
        austausch.answer_request(p, "p", request, "angenommen")
    with pytest.raises(PermissionError):
        austausch.answer_request(a, "a", austausch.request_contact(a, "a", peer, ENGAGEMENT,
                                                                   "noch mal"), "angenommen")


def test_exchange_log_after_acceptance_and_staff_views(demo_store):
    asker, peer = _refusing_pair()
    a, p = data.Viewer("kommune", asker), data.Viewer("kommune", peer)
    request = austausch.request_contact(a, "a", peer, ENGAGEMENT, "Hallo")
    with pytest.raises(austausch.StoreError, match="angenommenen"):
        austausch.log_exchange(a, "a", request, dt.date(2026, 1, 5), "Video", "ja")
    austausch.answer_request(p, "p", request, "angenommen")
    at = _page(a, "konto-a")
    key = f"log_{request}"
    at.date_input(key=f"{key}_date").set_value(dt.date(2026, 1, 5))
    at.selectbox(key=f"{key}_format").set_value("Besuch")
    at.radio(key=f"{key}_helped").set_value("teilweise")
    at.text_input(key=f"{key}_note").set_value("Notiz nur fürs Team")
    at.button(key=f"{key}_save").click().run()
    assert_ok(at)
    logged = austausch.exchanges(data.STAFF).filter(pl.col("anfrage_id") == request)
    assert logged.select("kommune_id", "datum", "format", "geholfen", "notiz").rows() == [
        (asker, "2026-01-05", "Besuch", "teilweise", "Notiz nur fürs Team")]
    # the note is for staff and its author: the peer sees the record without it
    assert austausch.exchanges(p).filter(pl.col("anfrage_id") == request)["notiz"].item() == ""

    staff = _page(data.STAFF, "anna")
    assert [t.label for t in staff.tabs if "Netzwerk" in t.label]
    tables = [d.value for d in staff.dataframe]
    requests_table = next(t for t in tables if "Alter (Tage)" in t.columns)
    mine = requests_table[(requests_table["Von"] == data.kommune_names()[asker])]
    assert mine["Zustand"].tolist() == ["angenommen"] and mine["Alter (Tage)"].tolist() == [0]
    exchanges_table = next(t for t in tables if "Geholfen" in t.columns)
    assert "Notiz nur fürs Team" in exchanges_table["Notiz"].tolist()
    network = next(t for t in tables if "Zustand" in t.columns and "Gestellt am" in t.columns
                   and "Alter (Tage)" not in t.columns)
    assert len(network) == austausch.requests(data.STAFF).filter(
        pl.col("zustand") == "angenommen").height
    assert staff.get("plotly_chart")


def test_prefill_from_own_selbstcheck_needs_confirmation(demo_store):
    kid = "01003000"
    viewer = data.Viewer("kommune", kid)
    profile = data.load_kommune_profile(viewer, kid)
    prios = profile.selbstcheck.filter(pl.col("prioritaet"))["handlungsfeld"].to_list()
    before = austausch.entries(data.STAFF)
    at = _page(viewer)
    at.button(key="exchange_prefill").click().run()
    assert_ok(at)
    keys = {exchange_ui._entry_key(kid, "gesuch", f): f for f in prios}
    drafts = {keys[t.key]: t.value for t in at.text_area if t.key in keys}
    assert set(drafts) == set(prios) and all(drafts.values())
    assert austausch.entries(data.STAFF).equals(before)  # nothing published by the prefill
    field = next(f for f in prios)
    at.button(key=f"save_{kid}_{field}").click().run()
    saved = austausch.entries(data.STAFF).filter(
        (pl.col("kommune_id") == kid) & (pl.col("art") == "gesuch")
        & (pl.col("handlungsfeld") == field)).row(0, named=True)
    assert saved["beschreibung"] == drafts[field]


def test_practice_cards_escape_hostile_text_and_the_directory_filters(demo_store):
    kid = "01053136"
    viewer = data.Viewer("kommune", kid)
    card = austausch.save_practice(viewer, "z", kid, ENGAGEMENT, HOSTILE, "=SUM(1) " + HOSTILE,
                                   datei=("plan.pdf", b"%PDF-1.7 demo"))
    at = _page(data.Viewer("kommune", "01003000"))
    at.text_input(key="practice_search").set_value("evil").run()
    assert f"**{ui.md_escape(HOSTILE)}**" in [m.value for m in at.markdown]
    assert not any("](http://evil" in m.value or "<script>" in m.value for m in at.markdown)
    assert any(c.value == "1 Praxisbeispiele" for c in at.caption)
    assert austausch.practice_file(data.PUBLIC, card) is None  # not released
    austausch.save_practice(viewer, "z", kid, ENGAGEMENT, "Öffentlich", "x", oeffentlich=True,
                            practice_id=card)
    austausch.review_practice(data.STAFF, "anna", card, release=True)
    assert austausch.practice_file(data.PUBLIC, card).inhalt == b"%PDF-1.7 demo"
    with pytest.raises(PermissionError):
        austausch.review_practice(viewer, "z", card, release=True)
    with pytest.raises(PermissionError):  # another commune cannot overwrite the card
        austausch.save_practice(data.Viewer("kommune", "01003000"), "l", "01003000", ENGAGEMENT,
                                "fremd", "x", practice_id=card)


def test_uncovered_needs_and_communes_without_exchange():
    f1, f2, f3 = HANDLUNGSFELDER[:3]
    entries = pl.DataFrame({
        "id": ["1", "2", "3", "4"], "kommune_id": ["A", "B", "B", "C"],
        "art": ["gesuch", "gesuch", "angebot", "gesuch"],
        "handlungsfeld": [f1, f2, f1, f2], "beschreibung": ["a", "b", "c", "d"],
        "stichworte": ["", "", "", ""]})
    practices = pl.DataFrame({"kommune_id": ["C"], "handlungsfeld": [f3]})
    names = {"A": "Aa", "B": "Bb", "C": "Cc"}
    uncovered = exchange_ui.uncovered_needs(entries, practices, names, "de")
    # A's need in f1 meets B's offer; the f2 needs of B and C meet nothing
    assert uncovered.rows() == [(f2, "Bb", "b", ""), (f2, "Cc", "d", "")]
    english = exchange_ui.uncovered_needs(entries, practices, names, "en")
    assert english.rows() == [(value_in("en", "handlungsfeld", f2), *r[1:])
                              for r in uncovered.rows()]
    assert english.columns[0] == "Field of action"
    requests = pl.DataFrame({"von_kommune_id": ["A", "B"], "an_kommune_id": ["B", "C"],
                             "zustand": ["angenommen", "offen"]})
    kommunen = pl.DataFrame({"kommune_id": ["A", "B", "C", "D"], "name": ["Aa", "Bb", "Cc", "Dd"],
                             "bundesland": ["Bayern"] * 4})
    without = exchange_ui.communes_without_exchange(kommunen, requests, "de")
    assert without.rows() == [("Cc", "Bayern", 1), ("Dd", "Bayern", 0)]
    without = exchange_ui.communes_without_exchange(kommunen, requests, "en")
    assert without.rows() == [("Cc", "Bavaria", 1), ("Dd", "Bavaria", 0)]


# ---- e-mail --------------------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class _Sink(Message):
    def __init__(self) -> None:
        super().__init__()
        self.messages = []

    def handle_message(self, message) -> None:
        self.messages.append(message)


def test_notifications_go_to_the_smtp_sink_without_contacts_or_message(demo_store):
    asker, peer = _refusing_pair()
    sink = _Sink()
    controller = Controller(sink, hostname="127.0.0.1", port=_free_port())
    controller.start()
    try:
        config = {"host": "127.0.0.1", "port": controller.port, "absender": "monitor@example.org",
                  "app_url": "http://localhost:8501/vernetzung"}
        request = austausch.request_contact(data.Viewer("kommune", asker), "a", peer, ENGAGEMENT,
                                            "Geheime Nachricht 4711")
        assert notify.request_sent(request, config)
        austausch.answer_request(data.Viewer("kommune", peer), "p", request, "angenommen")
        assert notify.request_accepted(request, config)
        for _ in range(50):
            if len(sink.messages) == 2:
                break
            time.sleep(0.05)
    finally:
        controller.stop()
    names = data.kommune_names()
    first, second = sink.messages
    assert first["To"] == _contact_values(peer)[1].decode()
    assert first["Subject"] == f"Neue Austauschanfrage von {names[asker]}"
    assert second["To"] == _contact_values(asker)[1].decode()
    assert second["Subject"] == f"{names[peer]} hat Ihre Austauschanfrage angenommen"
    for message, other in ((first, asker), (second, peer)):
        body = message.get_payload(decode=True).decode()
        assert "Geheime Nachricht" not in body
        assert not [v for v in _contact_values(other) if v.decode() in body]
        assert "http://localhost:8501/vernetzung" in body


def test_no_smtp_server_means_no_mail_and_no_error(demo_store):
    asker, peer = _refusing_pair()
    request = austausch.request_contact(data.Viewer("kommune", asker), "a", peer, ENGAGEMENT,
                                        "Hallo")
    assert notify.request_sent(request, {}) is False  # not configured
    closed = {"host": "127.0.0.1", "port": _free_port(), "absender": "m@example.org"}
    assert notify.request_sent(request, closed) is False  # configured but unreachable


def test_practice_search_finds_the_field_in_the_ui_language():
    cards = pl.DataFrame({"kommune_id": ["A", "B"], "titel": ["Quartiersrat", "Sprachcafé"],
                          "was": ["", ""], "mit_wem": ["", ""], "ergebnis": ["", ""],
                          "handlungsfeld": ["Zusammenhalt und Begegnung",
                                            "Engagement und Beteiligung"]})
    names = {"A": "Aa", "B": "Bb"}
    found = exchange_ui.practice_matches(cards, names, "Cohesion", None, "en")
    assert found["titel"].to_list() == ["Quartiersrat"]
    assert "_suche" not in found.columns
    assert exchange_ui.practice_matches(cards, names, "zusammenhalt", None, "en").height == 1
    assert exchange_ui.practice_matches(cards, names, "cohesion", None, "de").is_empty()
    assert exchange_ui.practice_matches(cards, names, "bb sprach", None, "de").height == 1


def test_a_practice_file_is_read_only_when_its_download_is_clicked(demo_store, monkeypatch):
    """The Vernetzung no longer reads every card's file on every page run (each file was held in
    each session's memory): the button makes the file on click, from the store, which checks the
    viewer again. The label shows the file name literally."""
    kid = "01053136"
    content = b"%PDF-1.7 " + b"Praxisbericht " * 200
    card = austausch.save_practice(data.Viewer("kommune", kid), "z", kid, ENGAGEMENT, "Plan",
                                   "x", datei=("plan_(v2)__*final*.pdf", content))
    reads: list[str] = []
    read = austausch.practice_file
    monkeypatch.setattr(austausch, "practice_file",
                        lambda viewer, pid: reads.append(pid) or read(viewer, pid))
    other = data.Viewer("kommune", "01003000")
    at = _page(other)
    assert reads == []  # nothing read for the page
    button = next(e.proto for e in at.get("download_button")
                  if e.proto.id.endswith(f"practice_file_{card}"))
    assert button.ignore_rerun
    name = "plan_(v2)__final.pdf"  # the store keeps letters, digits and " ._-()"
    assert button.label.endswith(f": {ui.md_escape(name)}") and "\\_" in button.label
    assert exchange_ui._practice_file_bytes(other, card) == content
    assert reads == [card]
    with pytest.raises(PermissionError):  # not released: the public gets nothing
        exchange_ui._practice_file_bytes(data.PUBLIC, card)
