"""de.toml and en.toml stay in step; every value a domain can take has a translation."""

from __future__ import annotations

import ast
import re
import string
from pathlib import Path

import polars as pl
import pytest

import dashboard
from dashboard import audit, charts
from dashboard.i18n import LANGUAGES, strings, translate, translate_values, value, value_names
from dashboard.store import austausch, handlungsplan, notizen
from etl import schema

DOMAINS = {
    "status": (*schema.STATUS, "noch nicht im Programm", "Insgesamt"),  # + report rows
    "meilenstein": schema.MEILENSTEINE,
    "phase": (*schema.MEILENSTEINE, "noch nicht begonnen"),
    "zustand": tuple(charts.TIMELINE_STYLE),
    "modul": tuple(schema.MODULE.values()),
    "format": schema.FORMATE,
    "handlungsfeld": schema.HANDLUNGSFELDER,
    "typ": schema.KOMMUNE_TYPEN,
    "groessenklasse": tuple(label for label, _, _ in schema.GROESSENKLASSEN),
    "bundesland": schema.BUNDESLAENDER,
    # exchange and action sections: stored codes, German text in de.toml (CODED)
    "massnahme_stand": handlungsplan.ZUSTAENDE,
    "anfrage_zustand": austausch.ZUSTAENDE,
    "eintrag_art": austausch.ARTEN,
    "eintrag_sicht": austausch.SICHTBARKEIT,
    "notiz_sicht": notizen.SICHTBARKEIT,
    "geholfen": austausch.GEHOLFEN,
    "austausch_format": austausch.FORMATE,
    "frist_art": ("ueberfaellig", "dauer", "massnahme"),
    # report rows (etl/sql/marts/kennzahl_*.sql; test_english checks a whole report)
    "merkmal": ("Art", "Größenklasse", "Bundesland", "Insgesamt", "Modul", "Format", "Thema"),
    "auspraegung": ("alle Veranstaltungen",),
    "schritt": ("Beginn", *schema.MEILENSTEINE),
    "dauergruppe": ("abgeschlossen bis Stichtag", "abgeschlossen im Zeitraum",
                    "laufend am Stichtag"),
    "quartal": ("Zeitraum",),
}
# Domains keyed by a stored code whose German text differs from it (`zurueckgezogen`)
CODED = frozenset({"anfrage_zustand", "eintrag_art", "eintrag_sicht", "notiz_sicht",
                   "frist_art"})


def _fields(text: str) -> set[str]:
    return {f for _, f, _, _ in string.Formatter().parse(text) if f is not None}


def test_both_languages_have_the_same_keys():
    de, en = set(strings("de")), set(strings("en"))
    assert de - en == set(), "missing in en.toml"
    assert en - de == set(), "missing in de.toml"


def test_both_languages_use_the_same_placeholders():
    de, en = strings("de"), strings("en")
    assert {k: _fields(v) for k, v in de.items()} == {k: _fields(en[k]) for k in de}


@pytest.mark.parametrize("domain", DOMAINS)
def test_every_value_of_a_domain_has_a_translation(domain):
    for lang in LANGUAGES:
        assert set(value_names(lang, domain)) == set(DOMAINS[domain]), (lang, domain)
    if domain not in CODED:
        assert value_names("de", domain) == {v: v for v in DOMAINS[domain]}


def german_texts() -> set[str]:
    """The German texts of all domain values whose English text differs (what an English page
    must not show)."""
    return {value_names("de", d)[k] for d in DOMAINS for k, v in value_names("en", d).items()
            if value_names("de", d)[k] != v}


def test_english_values_are_english():
    """No English value is its German text, except names spelt alike in both languages."""
    alike = {"Workshop", "Webinar", "Video", "Format", "Berlin", "Brandenburg", "Bremen",
             "Hamburg", "Saarland", "Baden-Württemberg", "Schleswig-Holstein"}
    same = {v for d in DOMAINS for k, v in value_names("en", d).items()
            if value_names("de", d)[k] == v}
    assert same == alike
    assert not any(re.search("[äöüß]", v) for d in DOMAINS for v in value_names("en", d).values()
                   if v != "Baden-Württemberg")


def test_a_missing_key_fails_loudly_in_tests():
    with pytest.raises(KeyError):
        translate("en", "app.no_such_key")
    with pytest.raises(KeyError, match="Gemeindeverband"):
        value("en", "typ", "Gemeindeverband")
    frame = pl.DataFrame({"typ": ["Stadt", "Gemeindeverband"]})
    with pytest.raises(KeyError, match="Gemeindeverband"):
        translate_values(frame, "en", typ="typ")


def test_a_missing_key_falls_back_with_a_log_line_in_production(monkeypatch, caplog):
    monkeypatch.delenv("WK_I18N_STRICT")
    frame = pl.DataFrame({"typ": ["Stadt", "Gemeindeverband"]})
    assert translate_values(frame, "en", typ="typ")["typ"].to_list() == ["Town", "Gemeindeverband"]
    assert "Gemeindeverband" in caplog.text


def test_translate_values_keeps_rows_nulls_and_free_text():
    frame = pl.DataFrame({
        "status": ["aktiv", None, "ausgeschieden"],
        "thema": ["Zusammenhalt und Begegnung", "Eigenes Thema <script>", None],
        "schwerpunkte": [["Engagement und Beteiligung"], [], None],
        "n": [1, 2, 3],
    })
    got = translate_values(frame, "en", status="status", thema="thema",
                           schwerpunkte="handlungsfeld")
    assert got.to_dict(as_series=False) == {
        "status": ["active", None, "withdrawn"],
        "thema": ["Cohesion and encounter", "Eigenes Thema <script>", None],
        "schwerpunkte": [["Engagement and participation"], [], None],
        "n": [1, 2, 3],
    }
    assert translate_values(frame, "de", status="status").equals(frame)


def _logged_actions() -> set[str]:
    """Every action name the code passes as a literal to `audit.log_event`."""
    found = set()
    for path in Path(dashboard.__file__).parent.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if (isinstance(node, ast.Call) and getattr(node.func, "attr", None) == "log_event"
                    and len(node.args) > 1 and isinstance(node.args[1], ast.Constant)):
                found.add(node.args[1].value)
    return found


def test_every_audit_action_has_a_label():
    """The audit log on the Daten page labels each action in both languages; an action the
    code logs but the list lacks (as `rollback_failed` was) would show as its code."""
    logged = _logged_actions()
    assert {"login_ok", "import", "rollback", "rollback_failed"} <= logged  # the scan works
    assert logged <= set(audit.ACTIONS)
    for lang in LANGUAGES:
        labels = {k.removeprefix("daten.action."): v for k, v in strings(lang).items()
                  if k.startswith("daten.action.")}
        assert set(audit.ACTIONS) <= set(labels), lang
    assert translate("en", "daten.action.rollback_failed") == "Rollback failed"
