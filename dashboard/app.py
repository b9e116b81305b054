"""Entry point: `streamlit run dashboard/app.py`.

Sets up the page, the language, the shared filters and the navigation; the page scripts in
`pages/` only read filters, call `dashboard.data` and lay out.
"""

from __future__ import annotations

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

# (file stem = url path, material icon, roles that see it); the order is the menu order. A page
# missing from a role's navigation cannot be opened by URL either (Streamlit shows the default
# page instead), and the data layer checks the role again for every read.
PAGES = (
    ("ueberblick", ":material/dashboard:", ("staff", "kommune", "public")),
    ("karte", ":material/map:", ("staff", "kommune", "public")),
    ("fortschritt", ":material/timeline:", ("staff",)),
    ("module", ":material/event:", ("staff", "kommune", "public")),
    ("kommune", ":material/location_city:", ("staff", "kommune")),
    ("vernetzung", ":material/hub:", ("staff", "kommune")),
    ("handlungsplan", ":material/checklist:", ("staff", "kommune")),
    ("fristen", ":material/alarm:", ("staff",)),
    ("bericht", ":material/summarize:", ("staff",)),
    ("daten", ":material/database:", ("staff",)),
    ("anmelden", ":material/login:", ("public",)),
)
# The page a role lands on.
DEFAULT_PAGE = {"staff": "ueberblick", "kommune": "kommune", "public": "ueberblick"}


def pages_for(role: str) -> list[str]:
    """The page stems a role may open, in menu order."""
    return [stem for stem, _icon, roles in PAGES if role in roles]


def main() -> None:
    st.set_page_config(page_title=ui.t("app.title"), page_icon=str(ICON),
                       layout="wide")
    ui.language_switch()
    viewer = ui.session_viewer()
    try:
        info = data.build_info()
    except data.DatabaseMissing as exc:
        st.title(ui.t("app.title"))
        st.error(f"**{ui.t('app.db_missing_title')}**  \n{exc}", icon=":material/error:")
        ui.footer(None)
        return
    icons = {stem: icon for stem, icon, _roles in PAGES}
    inbox = austausch.open_incoming_count(viewer)  # open contact requests: count in the menu
    pages = [
        st.Page(PAGES_DIR / f"{stem}.py", icon=icons[stem],
                title=ui.t(f"nav.{stem}") + (f" ({inbox})" if stem == "vernetzung" and inbox
                                             else ""),
                url_path=stem, default=(stem == DEFAULT_PAGE[viewer.role]))
        for stem in pages_for(viewer.role)
    ]
    nav = st.navigation(pages)
    ui.account_box(viewer)
    st.session_state["filters"] = ui.shared_filters()
    ui.demo_banner(info)
    ui.run_page(nav)
    ui.footer(info)


main()
