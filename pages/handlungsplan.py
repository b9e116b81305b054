"""Handlungsplan: the measures a commune derived from its Selbstcheck (commune: its own; staff:
any commune, plus counts over the cohort without any ranking)."""

import streamlit as st

from dashboard import action_views, data, ui

viewer = ui.viewer()
st.title(ui.t("handlungsplan.title"))
st.caption(ui.t("handlungsplan.intro"))

if viewer.is_staff:
    action_views.cohort_view(viewer)
    st.divider()
choices = data.kommune_choices(viewer)
names = dict(choices.select("kommune_id", "name").rows())
if viewer.role == "kommune":
    kommune_id = viewer.kommune_id
else:
    kommune_id = st.selectbox(ui.t("handlungsplan.choose"), list(names), key="plan_kommune",
                              format_func=lambda k: f"{names[k]} ({k})")
st.header(ui.md_escape(names.get(kommune_id, kommune_id)))
action_views.plan_editor(viewer, kommune_id)
