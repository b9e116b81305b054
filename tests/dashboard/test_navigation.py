"""The sidebar menu (#12): a heading per section and the role's pages in order, in German and
English; the links carry the filters and the language; the landing page and the open-request
count. (Accessibility, clicks and the phone width: tests/e2e/test_pages_e2e.py and
tests/e2e/test_sessions_e2e.py.)"""

from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest

from dashboard import data, ui
from dashboard.store import austausch
from tests.dashboard.pagetest import run_page
from tests.dashboard.test_exchange import ENGAGEMENT, _refusing_pair, demo_store  # noqa: F401

MENUS = {
    ("public", "de"): [("Programm", ["Überblick", "Karte", "Module"]),
                       ("Konto", ["Anmelden"])],
    ("kommune", "de"): [("Programm", ["Überblick", "Karte", "Module"]),
                        ("Kommunen", ["Kommune", "Vernetzung", "Handlungsplan"])],
    ("staff", "de"): [("Programm", ["Überblick", "Karte", "Fortschritt", "Module"]),
                      ("Kommunen", ["Kommune", "Vernetzung", "Handlungsplan"]),
                      ("Programmteam", ["Fristen & Versand", "Bericht", "Daten"])],
    ("public", "en"): [("Programme", ["Overview", "Map", "Modules"]),
                       ("Account", ["Sign in"])],
    ("kommune", "en"): [("Programme", ["Overview", "Map", "Modules"]),
                        ("Municipalities", ["Municipality", "Networking", "Action plan"])],
    ("staff", "en"): [("Programme", ["Overview", "Map", "Progress", "Modules"]),
                      ("Municipalities", ["Municipality", "Networking", "Action plan"]),
                      ("Programme team", ["Deadlines & delivery", "Report", "Data"])],
}


def _viewer(role: str, db) -> data.Viewer:
    if role == "staff":
        return data.STAFF
    if role == "public":
        return data.PUBLIC
    import duckdb

    own = duckdb.connect(str(db), read_only=True).execute(
        "select min(kommune_id) from kommune where status = 'aktiv'").fetchone()[0]
    return data.Viewer("kommune", own)


def _menu_block(at: AppTest):
    """The menu container: the first block of the sidebar, holding the page links."""
    block = at.sidebar.children[0]
    assert [c for c in block.children.values() if c.type == "page_link"], "no menu first"
    return block


def _menu(at: AppTest) -> list[tuple[str, list[str]]]:
    """(section heading, page link labels) in the order drawn."""
    sections: list[tuple[str, list[str]]] = []
    for child in _menu_block(at).children.values():
        if child.type == "subheader":
            sections.append((child.value, []))
        elif child.type == "page_link":
            sections[-1][1].append(child.proto.label)
    return sections


def _links(at: AppTest) -> dict[str, tuple[str, str]]:
    """Link label → (target URL path, query string)."""
    return {c.proto.label: (c.proto.page, c.proto.query_string)
            for c in _menu_block(at).children.values() if c.type == "page_link"}


@pytest.mark.parametrize(("role", "lang"), list(MENUS))
def test_each_role_sees_its_sections_in_order(use_db, cohort_db, role, lang):
    at = run_page(use_db, cohort_db, viewer=_viewer(role, cohort_db),
                  **({"lang": lang} if lang == "en" else {}))
    assert _menu(at) == MENUS[role, lang]
    # the headings are real headings (h3), not text inside the link list
    assert [h.value for h in at.sidebar.subheader][:len(MENUS[role, lang])] == [
        heading for heading, _pages in MENUS[role, lang]]


def test_links_keep_the_filters_and_the_language(use_db, cohort_db):
    # Hessen has no commune in the cohort: an edited link's unknown value is not passed on
    at = run_page(use_db, cohort_db, "fristen", bundesland=["Bayern", "Hessen", "Niedersachsen"],
                  lang="en")
    links = _links(at)
    assert links["Map"] == ("karte", "bundesland=Bayern&bundesland=Niedersachsen&lang=en")
    assert links["Data"] == ("daten", "bundesland=Bayern&bundesland=Niedersachsen&lang=en")
    # a filter cleared in the sidebar is gone from the links at the next run
    at.button(key="filters_reset").click().run()
    assert _links(at)["Data"] == ("daten", "lang=en")


def test_landing_entry_leads_to_the_root_there_and_to_its_name_elsewhere(use_db, cohort_db):
    """At `/` the landing entry is the default page (so it is marked as the current page);
    elsewhere it links to `/ueberblick`, which opens the same page (and keeps deep links)."""
    at = run_page(use_db, cohort_db)
    assert _links(at)["Überblick"][0] == ""
    at.switch_page("../pages/karte.py").run()
    assert _links(at)["Überblick"][0] == "ueberblick"
    assert at.title[0].value == "Karte"


def test_menu_script_marks_the_current_link_and_the_landmark(use_db, cohort_db):
    """The menu script gets the current link's position among the links (aria-current)."""
    at = run_page(use_db, cohort_db, "fristen")
    script = [h for h in at.sidebar.get("html") if "aria-current" in h.proto.body]
    assert len(script) == 1
    labels = [label for _heading, pages in _menu(at) for label in pages]
    body = script[0].proto.body
    assert f'current = {labels.index("Fristen & Versand")}, key = "{ui.MENU_KEY}"' in body
    assert 'label = "Seiten"' in body
    assert 'document.documentElement.lang = "de";' in body  # screen readers read German
    english = run_page(use_db, cohort_db, "fristen", lang="en")
    (script,) = [h.proto.body for h in english.sidebar.get("html")
                 if "aria-current" in h.proto.body]
    assert 'document.documentElement.lang = "en";' in script


def test_open_requests_are_counted_in_the_menu(demo_store):  # noqa: F811
    asker, peer = _refusing_pair()
    austausch.request_contact(data.Viewer("kommune", asker), "a", peer, ENGAGEMENT, "Hallo")
    at = AppTest.from_file("../../dashboard/app.py", default_timeout=60)
    at.session_state["viewer"] = data.Viewer("kommune", peer)
    at.run()
    assert _menu(at)[1] == ("Kommunen", ["Kommune", "Vernetzung (1)", "Handlungsplan"])
    at.session_state["viewer"] = data.Viewer("kommune", asker)  # the asker has none open
    at.run()
    assert _menu(at)[1] == ("Kommunen", ["Kommune", "Vernetzung", "Handlungsplan"])


def test_the_menu_is_there_when_a_page_ends_early(use_db, cohort_db):
    """The menu is sent after the page's content (`ui.run_page`); a page that ends early (here
    Fortschritt at an empty selection) still has it at the top of the sidebar, with the filters.
    (With `st.stop()` instead of `ui.end_page()` both were missing.)"""
    at = run_page(use_db, cohort_db, "fortschritt", bundesland="Bayern", status="abgeschlossen",
                  groesse="klein")
    assert ui.t("empty.title") in at.warning[0].value  # the page ended at its empty state
    assert [s for s, _links in _menu(at)][:1] == ["Programm"]
    assert at.button_group(key="flt_bundesland") is not None
