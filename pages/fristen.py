"""Fristen & Versand (staff): deadline watch with its rule and thresholds, digest, scheduled
report delivery."""

import streamlit as st

from dashboard import action_views, ui

viewer = ui.viewer()
st.title(ui.t("fristen.title"))
action_views.watch_section(viewer)
st.divider()
action_views.digest_section(viewer)
st.divider()
action_views.delivery_section(viewer)
