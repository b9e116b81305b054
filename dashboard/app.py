"""Entry point: `streamlit run dashboard/app.py`.

Sets up the page, the language, the shared filters and the navigation; the page scripts in
`pages/` only read filters, call `dashboard.data` and lay out.
"""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from dashboard import data, ui

PAGES_DIR = Path(__file__).resolve().parent.parent / "pages"
# A local icon file: a Material icon as page icon makes the browser fetch it from Google.
ICON = Path(__file__).resolve().parent / "static" / "icon.png"

# (file stem = url path, material icon); the order is the menu order of the design.
PAGES = (
    ("ueberblick", ":material/dashboard:"),
    ("karte", ":material/map:"),
    ("fortschritt", ":material/timeline:"),
    ("module", ":material/event:"),
    ("kommune", ":material/location_city:"),
    ("vernetzung", ":material/hub:"),
    ("bericht", ":material/summarize:"),
    ("daten", ":material/database:"),
)


def main() -> None:
    st.set_page_config(page_title=ui.t("app.title"), page_icon=str(ICON),
                       layout="wide")
    ui.language_switch()
    try:
        info = data.build_info()
    except data.DatabaseMissing as exc:
        st.title(ui.t("app.title"))
        st.error(f"**{ui.t('app.db_missing_title')}**  \n{exc}", icon=":material/error:")
        ui.footer(None)
        return
    pages = [
        st.Page(PAGES_DIR / f"{stem}.py", title=ui.t(f"nav.{stem}"), icon=icon,
                url_path=stem, default=(stem == "ueberblick"))
        for stem, icon in PAGES
    ]
    nav = st.navigation(pages)
    st.session_state["filters"] = ui.shared_filters()
    st.sidebar.caption(ui.t("app.role_hint"))
    ui.demo_banner(info)
    ui.run_page(nav)
    ui.footer(info)


main()
