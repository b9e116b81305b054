"""Kommune: one commune's profile, reachable from every list and map point via `?kommune=<AGS>`."""

import polars as pl
import streamlit as st

from dashboard import action_views, charts, data, fmt, ui
from dashboard.peer_cards import render_peer_cards

lang, viewer, _filters = ui.page("kommune.title")
ziel_monate = data.programme_rules().ziel_monate

choices = data.kommune_choices(viewer)
if choices.is_empty():
    ui.empty_state()
    ui.end_page()
ids = choices["kommune_id"].to_list()
names = dict(choices.select("kommune_id", "name").rows())
wanted = st.query_params.get("kommune")
if wanted and wanted not in names:
    st.warning(ui.t("kommune.unknown", id=ui.md_escape(wanted)), icon=":material/search_off:")
own = viewer.kommune_id if viewer.kommune_id in names else None
# A `?kommune=` link wins once; after that the selectbox is the source of truth (the URL then
# follows it), so a new choice is not reset to the old URL value on the next rerun.
if wanted in names and wanted != st.session_state.get("_profile_url_applied"):
    st.session_state["profile_kommune"] = wanted
    st.session_state["_profile_url_applied"] = wanted
else:
    # written back every run: a widget's value does not carry over to another page using the
    # same script (the landing page is registered twice, see dashboard/app.py), a value set
    # here does
    current = st.session_state.get("profile_kommune")
    st.session_state["profile_kommune"] = current if current in names else (own or ids[0])
# The choice stands above the profile but is sent after the key figures are drawn (a select box
# loads a large script part of its own first, and nationally carries 11,000 names; Bericht's
# period and edition do the same): its value is in the session state already.
choice = st.container()
kommune_id = st.session_state["profile_kommune"]
st.query_params["kommune"] = kommune_id
st.session_state["_profile_url_applied"] = kommune_id

profile = data.load_kommune_profile(viewer, kommune_id)
f = profile.facts
st.header(ui.md_escape(f["name"]))

st.subheader(ui.t("kommune.facts"))
st.markdown(
    f"**{ui.t('kommune.typ')}:** {ui.md_escape(ui.value('typ', f['typ']))} · "
    f"**{ui.t('kommune.bundesland')}:** {ui.md_escape(ui.value('bundesland', f['bundesland']))} · "
    f"**{ui.t('kommune.kreis')}:** {ui.md_escape(f['kreis'] or '–')} · "
    f"**AGS:** {ui.md_escape(kommune_id)}",
)
c = st.columns(4)
c[0].metric(ui.t("kommune.einwohner"), fmt.number(f["einwohner"], lang=lang))
c[1].metric(ui.t("kommune.status"), ui.value("status", f["status"]))
c[2].metric(ui.t("kommune.phase"), ui.value("phase", f["aktuelle_phase"]))
dauer = (
    ui.t("kommune.dauer_value", value=fmt.number(f["dauer_monate"], 1, lang))
    if f["dauer_monate"] is not None
    else "–"
)
c[3].metric(
    ui.t("kommune.dauer_gesamt" if f["status"] == "abgeschlossen" else "kommune.dauer"),
    dauer,
    help=ui.t("ueberblick.ziel_hint", min=ziel_monate[0], max=ziel_monate[1]),
)
ui.key_figures_sent()
choice.selectbox(ui.t("kommune.choose"), ids, key="profile_kommune",
                 format_func=lambda k: f"{names[k]} ({k})")
next_text = (
    ui.t(
        "kommune.next_value",
        meilenstein=ui.value("meilenstein", f["naechster_meilenstein"]),
        datum=fmt.date(f["naechster_geplant_am"], lang),
    )
    if f["naechster_meilenstein"]
    else "–"
)
st.markdown(
    f"**{ui.t('kommune.start')}:** {fmt.date(f['start_ist'], lang)} · "
    f"**{ui.t('kommune.next')}:** {next_text}"
)

left, right = st.columns(2)
with left:
    st.subheader(ui.t("kommune.prerequisites"))
    for key in (
        "voraussetzung_ansprechperson",
        "voraussetzung_leitung",
        "voraussetzung_prozesse",
        "voraussetzung_wissensteilung",
    ):
        value = f.get(key)
        mark = {
            True: (":material/check_circle:", "kommune.yes"),
            False: (":material/cancel:", "kommune.no"),
        }.get(value, (":material/help:", "kommune.unknown_value"))
        st.markdown(f"{mark[0]} {ui.t(f'kommune.{key}')}: **{ui.t(mark[1])}**")
with right:
    st.subheader(ui.t("kommune.contact"))
    if "ansprechperson" not in f or (f.get("ansprechperson") is None and not viewer.is_staff):
        st.caption(ui.t("kommune.contact_hidden"))
    elif f.get("ansprechperson") is None:
        st.caption(ui.t("kommune.contact_none"))
    else:
        st.text(f["ansprechperson"])
        if f.get("email"):
            st.text(f["email"])
        if f.get("telefon"):
            st.text(f["telefon"])
    if "vernetzung_zustimmung" in f:
        st.caption(
            f"{ui.t('kommune.consent')}: "
            f"{ui.t('kommune.yes') if f['vernetzung_zustimmung'] else ui.t('kommune.no')}"
        )


def _details() -> None:
    """Timeline, uptake and Selbstcheck: only for staff and the commune itself."""
    st.subheader(ui.t("kommune.timeline"))
    info = data.build_info()
    lanes = profile.milestones.with_columns(
        pl.lit(kommune_id).alias("kommune_id"),
        pl.lit(f["name"]).alias("name"),
        pl.lit(f["start_ist"], dtype=pl.Date).alias("start_ist"),
    )
    labels = ui.timeline_labels()
    if lanes.is_empty():
        st.caption(ui.t("fortschritt.overdue_empty"))
    else:
        ui.chart_and_table(
            action_views.with_notes(
                charts.timeline(lanes, info.datenstand, labels, lang, ziel_monate), viewer,
                kommune_id),
            ui.labelled(
                ui.values(profile.milestones, meilenstein="meilenstein", zustand="zustand"),
                "kommune", "meilenstein", "geplant_am", "erreicht_am", "zustand"
            ),
            f"zeitplan_{kommune_id}",
            key="profile_timeline",
        )

    st.subheader(ui.t("kommune.uptake"))
    if profile.uptake.is_empty():
        st.caption(ui.t("kommune.uptake_empty"))
    else:
        ui.table_with_download(
            ui.labelled(
                ui.values(profile.uptake, format="format", thema="thema"),
                "kommune",
                "datum",
                "veranstaltung_id",
                "modul",
                "format",
                "thema",
                "teilnehmende",
                "kommunen_anzahl",
                veranstaltung_id="veranstaltung",
            ),
            f"veranstaltungen_{kommune_id}",
            key="dl_profile_uptake",
        )

    st.subheader(ui.t("kommune.selbstcheck"))
    if profile.selbstcheck is None:
        st.info(ui.t("kommune.selbstcheck_hidden"), icon=":material/lock:")
    elif profile.selbstcheck.is_empty():
        st.caption(ui.t("kommune.selbstcheck_empty"))
    else:
        st.caption(ui.t("kommune.selbstcheck_hint"))
        ui.chart_and_table(
            charts.selbstcheck_bars(profile.selbstcheck, lang, {"stand": ui.t("kommune.stand")}),
            ui.labelled(
                ui.values(profile.selbstcheck, handlungsfeld="handlungsfeld"),
                "kommune", "handlungsfeld", "stand", "prioritaet", "erhoben_am"
            ),
            f"selbstcheck_{kommune_id}",
            key="profile_selbstcheck",
        )


if profile.milestones is None:
    st.info(ui.t("kommune.details_hidden"), icon=":material/lock:")
else:
    _details()
    action_views.profile_sections(viewer, kommune_id, profile)

if viewer.role != "public":
    st.subheader(ui.t("kommune.peers"))
    render_peer_cards(viewer, kommune_id, n=3)
