"""The app's script, run by `streamlit run dashboard/server.py` (which adds the session-cookie
routes; `streamlit run dashboard/app.py` also works, without them).

Sets up the page, the language, the shared filters and the navigation; the page scripts in
`pages/` only read filters, call `dashboard.data` and lay out.
"""

from __future__ import annotations

import functools
from pathlib import Path

# Imported before any page runs: plotly imports pandas lazily inside its validators, and two
# sessions doing that at the same time in their script threads saw a half-initialised module
# ("partially initialized module 'pandas' has no attribute 'Series'", seen in the Vernetzung
# e2e test). Importing it once here, in the first script run, removes the race.
import pandas  # noqa: F401
import streamlit as st

from dashboard import data, ui
from dashboard.store import austausch

PAGES_DIR = ui.PAGES_DIR
# A local icon file: a Material icon as page icon makes the browser fetch it from Google.
ICON = Path(__file__).resolve().parent / "static" / "icon.png"

# (file stem = url path, material icon, roles that see it, menu section); the order is the menu
# order. A page a role may not see is registered hidden with `ui.locked_page` instead of its
# script: its URL leads to the sign-in (with a German hint, then on to the page with its filters)
# rather than to Streamlit's "Page not found". The data layer checks the role again for every
# read.
PAGES = (
    ("ueberblick", ":material/dashboard:", ("staff", "kommune", "public"), "programm"),
    ("karte", ":material/map:", ("staff", "kommune", "public"), "programm"),
    ("fortschritt", ":material/timeline:", ("staff",), "programm"),
    ("module", ":material/event:", ("staff", "kommune", "public"), "programm"),
    ("kommune", ":material/location_city:", ("staff", "kommune"), "kommunen"),
    ("vernetzung", ":material/hub:", ("staff", "kommune"), "kommunen"),
    ("handlungsplan", ":material/checklist:", ("staff", "kommune"), "kommunen"),
    ("fristen", ":material/alarm:", ("staff",), "programmteam"),
    ("bericht", ":material/summarize:", ("staff",), "programmteam"),
    ("daten", ":material/database:", ("staff",), "programmteam"),
    ("anmelden", ":material/login:", ("public",), "konto"),
)
# The page a role lands on.
DEFAULT_PAGE = {"staff": "ueberblick", "kommune": "kommune", "public": "ueberblick"}


def pages_for(role: str) -> list[str]:
    """The page stems a role may open, in menu order."""
    return [stem for stem, _icon, roles, _section in PAGES if role in roles]


def navigation_sections(role: str) -> dict[str, list[str]]:
    """The role's pages grouped into menu sections (section key → page stems), in menu order."""
    sections: dict[str, list[str]] = {}
    for stem, _icon, roles, section in PAGES:
        if role in roles:
            sections.setdefault(section, []).append(stem)
    return sections


def main() -> None:
    st.set_page_config(page_title=ui.t("app.title"), page_icon=str(ICON),
                       layout="wide")
    # The menu at the top of the sidebar; filled after the page (`ui.run_page`).
    menu = st.sidebar.container(key=ui.MENU_KEY)
    ui.language_switch()
    viewer = ui.session_viewer()
    try:
        info = data.build_info()
    except data.DatabaseMissing as exc:
        st.title(ui.t("app.title"))
        st.error(f"**{ui.t('app.db_missing_title')}**  \n{exc}", icon=":material/error:")
        ui.footer(None)
        return
    icons = {stem: icon for stem, icon, _roles, _section in PAGES}
    landing = DEFAULT_PAGE[viewer.role]
    inbox = austausch.open_incoming_count(viewer)  # open contact requests: count in the menu
    allowed = pages_for(viewer.role)
    visible = {
        stem: st.Page(PAGES_DIR / f"{stem}.py", icon=icons[stem], url_path=stem,
                      title=ui.t(f"nav.{stem}") + (f" ({inbox})" if stem == "vernetzung" and inbox
                                                   else ""))
        for stem in allowed
    }
    # Streamlit serves the default page only at `/` (its own URL path does not resolve), so the
    # landing page is registered twice: as the default at `/`, and under its name, so that a link
    # such as `/kommune?kommune=…` opens it instead of "Page not found". Every page the role may
    # not open is registered as `ui.locked_page`.
    start = st.Page(PAGES_DIR / f"{landing}.py", title=ui.t(f"nav.{landing}"),
                    icon=icons[landing], url_path="start", default=True)
    locked = [st.Page(functools.partial(ui.locked_page, stem), title=ui.t(f"nav.{stem}"),
                      icon=icon, url_path=stem)
              for stem, icon, _roles, _section in PAGES if stem not in allowed]
    # Our own menu (`ui.page_menu`), not Streamlit's: its sections put the headers inside the
    # menu's <ul>, which axe reports as a serious WCAG violation.
    nav = st.navigation([start, *visible.values(), *locked], position="hidden")
    ui.account_box(viewer)
    st.session_state["filters"] = ui.shared_filters()
    if nav.url_path == start.url_path:  # at `/`: the landing entry leads there (and is marked)
        visible[landing] = start
    sections = {ui.t(f"nav.section_{section}"): [visible[stem] for stem in stems]
                for section, stems in navigation_sections(viewer.role).items()}
    ui.demo_banner(info)
    # the menu keeps its place at the top of the sidebar but is sent after the page's content
    ui.run_page(nav, lambda: ui.page_menu(menu, sections, nav))
    ui.footer(info)


main()
