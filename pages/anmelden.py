"""Anmelden: local account (user name + password) or, if configured, the organisation's OIDC.

`?next=/seite?filter=…` (set by a link to a page that needs a sign-in) is where the browser
continues after a password login; `?hinweis=ticket` explains a sign-in that did not complete.
"""

import streamlit as st

from dashboard import ui

st.title(ui.t("auth.title"))
st.write(ui.t("auth.intro"))
if st.query_params.get("hinweis") == "ticket":
    st.warning(ui.t("sessions.ticket_failed"), icon=":material/cookie:")

if ui.oidc_enabled():
    st.caption(ui.t("auth.oidc_hint"))
    if st.button(ui.t("auth.oidc"), icon=":material/badge:", type="primary"):
        st.login()
    st.divider()

ui.login_form(st.query_params.get("next"))
