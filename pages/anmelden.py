"""Anmelden: local account (user name + password) or, if configured, the organisation's OIDC."""

import streamlit as st

from dashboard import audit, auth, data, ui

st.title(ui.t("auth.title"))
st.write(ui.t("auth.intro"))

if ui.oidc_enabled():
    st.caption(ui.t("auth.oidc_hint"))
    if st.button(ui.t("auth.oidc"), icon=":material/badge:", type="primary"):
        st.login()
    st.divider()

with st.form("login", enter_to_submit=True):
    username = st.text_input(ui.t("auth.username"), autocomplete="username")
    password = st.text_input(ui.t("auth.password"), type="password",
                             autocomplete="current-password")
    submitted = st.form_submit_button(ui.t("auth.submit"), icon=":material/login:")

if submitted:
    name = username.strip().lower()
    try:
        account = auth.authenticate(name, password)
        if auth.is_demo_account(account) and not data.build_info().beispieldaten:
            raise auth.AuthError(ui.t("auth.demo_refused"))
    except auth.AuthError as exc:
        # Only a known account name is logged: an unknown "name" may be a password typed into
        # the wrong field.
        known = name in auth.load_accounts()
        audit.log_event(name if known else "(unbekannt)", "login_failed",
                        {"grund": str(exc)[:120]})
        st.error(str(exc), icon=":material/lock:")
    else:
        ui.sign_in(account.viewer, account.username, "passwort")
        st.rerun()
