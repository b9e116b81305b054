"""Vernetzung: suggestions from published data, contact requests (double opt-in), offers and
needs, practice cards; staff also see the exchange network and build exchange groups."""

import polars as pl
import streamlit as st

from dashboard import data, exchange_ui, fmt, peer_cards, peers, ui
from dashboard.store import austausch

MAX_KM_OPTIONS = (0, 25, 50, 100, 200, 300, 500)  # 0 = no limit
MAX_GROUP_CARDS = 12
ALL = ""  # topic option "alle Themen"

lang, viewer, filters = ui.page("vernetzung.title")
felder = data.programme_rules().handlungsfelder
st.caption(ui.t("austausch.intro"))

choices = data.peer_kommune_choices(viewer)
if choices.is_empty():
    st.info(ui.t("vernetzung.no_access"), icon=":material/lock:")
    ui.end_page()
names = data.kommune_names()
ids = choices["kommune_id"].to_list()

# ---- whose view: staff choose, a commune sees its own -----------------------------------------
if viewer.is_staff:
    # a new `?kommune=` (a link from elsewhere) wins; otherwise the selectbox keeps its choice
    wanted = st.query_params.get("kommune")
    if wanted in names and wanted != st.session_state.get("_peers_url_kommune"):
        st.session_state["peers_kommune"] = wanted
    elif st.session_state.get("peers_kommune") not in ids:
        st.session_state["peers_kommune"] = ids[0]
    kommune_id = st.selectbox(ui.t("vernetzung.choose"), ids, key="peers_kommune",
                              format_func=lambda k: f"{names[k]} ({k})")
    st.query_params["kommune"] = st.session_state["_peers_url_kommune"] = kommune_id
else:
    kommune_id = viewer.kommune_id
    st.markdown(ui.t("vernetzung.own", name=ui.md_escape(names[kommune_id])))
exchange_ui.flash()

inbox = austausch.open_incoming_count(viewer)
labels = [ui.t("austausch.tab_suggestions"),
          ui.t("austausch.tab_inbox_count", n=inbox) if inbox else ui.t("austausch.tab_inbox"),
          ui.t("austausch.tab_profile"), ui.t("austausch.tab_practice")]
if viewer.is_staff:
    labels += [ui.t("austausch.tab_network"), ui.t("austausch.tab_groups")]
tabs = st.tabs(labels)

# ---- suggestions --------------------------------------------------------------------------------
with tabs[0]:
    st.caption(ui.t("austausch.suggestions_basis_staff" if viewer.is_staff
                    else "austausch.suggestions_basis"))
    own = choices.filter(pl.col("kommune_id") == kommune_id).row(0, named=True)
    published = austausch.entries(viewer).filter(pl.col("kommune_id") == kommune_id)
    if published.is_empty() and not viewer.is_staff:
        st.info(ui.t("austausch.nothing_published"), icon=":material/edit_note:")

    c_topic, c_km, c_n = st.columns([3, 2, 1])
    topic = c_topic.selectbox(ui.t("vernetzung.topic"), [ALL, *felder], key="peers_topic",
                              format_func=exchange_ui.topic_label()) or None
    max_km = c_km.select_slider(
        ui.t("vernetzung.max_km"), MAX_KM_OPTIONS, value=0, key="peers_max_km",
        format_func=lambda km: ui.t("vernetzung.max_km_none") if km == 0
        else ui.t("vernetzung.max_km_value", km=km))
    n = c_n.number_input(ui.t("vernetzung.n"), min_value=1, max_value=20, value=6, step=1,
                         key="peers_n")
    st.markdown(f"**{ui.t('austausch.pref_header')}**")
    c_dist, c_size = st.columns(2)
    preferences = peers.Preferences(
        ignore_distance=c_dist.toggle(ui.t("austausch.pref_distance"), key="peers_pref_distance"),
        same_size_class=c_size.toggle(ui.t("austausch.pref_size"), key="peers_pref_size"))
    st.caption(ui.t("austausch.weights_help"))

    query = {"n": int(n), "topic": topic, "max_km": max_km or None, "lang": lang}
    suggestions = data.peer_suggestions(viewer, kommune_id, preferences=preferences, **query)
    if preferences != peers.DEFAULT_PREFERENCES:
        default = data.peer_suggestions(viewer, kommune_id, **query)
        st.info(exchange_ui.preference_diff(default, suggestions), icon=":material/tune:")

    st.subheader(ui.t("vernetzung.suggestions_header", name=ui.md_escape(names[kommune_id])))
    if suggestions.is_empty():
        st.info(f"**{ui.t('vernetzung.empty_title')}**  \n{ui.t('vernetzung.empty_text')}",
                icon=":material/group_off:")
    else:
        st.caption(ui.t("vernetzung.suggestions_caption"))
        on_card = (exchange_ui.request_form(viewer, kommune_id, topic)
                   if viewer.role == "kommune" else None)
        peer_cards.render_suggestion_cards(suggestions, viewer, on_card=on_card)

        st.subheader(ui.t("vernetzung.map_header"))
        st.caption(ui.t("vernetzung.map_caption"))
        ui.chart_and_table(peer_cards.peer_map_figure(own, suggestions, lang, ui.geo_url()),
                           peer_cards.map_table(own, suggestions, lang),
                           "vernetzung_karte", key="peers_map")

        st.subheader(ui.t("vernetzung.export"))
        listing = peer_cards.suggestion_table(suggestions, lang)
        info = data.build_info()
        notes = pl.DataFrame({
            ui.t("vernetzung.info_field"): [
                ui.t("vernetzung.info_kommune"), ui.t("vernetzung.info_topic"),
                ui.t("vernetzung.info_max_km"), ui.t("vernetzung.info_datenstand"),
                ui.t("vernetzung.info_hinweis")],
            ui.t("vernetzung.info_value"): [
                names[kommune_id], exchange_ui.topic_label()(topic or ALL),
                str(max_km) if max_km else ui.t("vernetzung.max_km_none"),
                fmt.date(info.datenstand, lang=lang), ui.t("vernetzung.info_note")],
        })
        ui.table_with_download(listing, f"vernetzung_{kommune_id}", key="peers_export_csv")
        peer_cards.xlsx_button({ui.t("vernetzung.sheet_list"): listing,
                                ui.t("vernetzung.sheet_info"): notes},
                               f"vernetzung_{kommune_id}", key="peers_export_xlsx")

with tabs[1]:
    exchange_ui.render_inbox(viewer, names)
with tabs[2]:
    exchange_ui.render_profile_entries(viewer, kommune_id)
with tabs[3]:
    exchange_ui.render_practice(viewer, kommune_id, names)

if not viewer.is_staff:
    ui.end_page()

with tabs[4]:
    exchange_ui.render_network(viewer, names)

# ---- staff: exchange groups from the sidebar selection, on demand ------------------------------
with tabs[5]:
    st.caption(ui.t("vernetzung.groups.intro"))
    c_topic, c_size = st.columns(2)
    group_topic = c_topic.selectbox(
        ui.t("vernetzung.groups.topic"), [ALL, *felder], key="peers_group_topic",
        format_func=exchange_ui.topic_label()) or None
    size_min, size_max = c_size.slider(ui.t("vernetzung.groups.size"), 2, 12, (4, 6),
                                       key="peers_group_size")
    settings = (filters, group_topic, size_min, size_max, lang)
    # a national split takes seconds: computed on the button only, kept for reruns (downloads)
    if st.button(ui.t("austausch.groups_run"), key="peers_groups_run", type="primary",
                 icon=":material/groups:"):
        st.session_state["peers_groups"] = (settings, data.peer_groups(
            viewer, filters, topic=group_topic, size_min=size_min, size_max=size_max,
            lang=lang))
    stored = st.session_state.get("peers_groups")
    split = stored[1] if stored and stored[0] == settings else None
    if split is None:
        st.caption(ui.t("austausch.groups_hint"))
        ui.end_page()
    st.caption(ui.t("vernetzung.groups.selection_excluded", n=split.ausgewaehlt,
                    k=split.ausgelassen)
               if split.ausgelassen else ui.t("vernetzung.groups.selection", n=split.ausgewaehlt))
    if split.groups is None:
        st.warning(split.fehler, icon=":material/group_off:")
        ui.end_page()
    groups, members = split.groups.groups, split.groups.members
    if groups.is_empty():
        st.info(ui.t("vernetzung.groups.empty"), icon=":material/filter_list_off:")
        ui.end_page()
    st.markdown(f"**{ui.t('vernetzung.groups.result', k=groups.height, n=members.height)}**")
    shown = groups.head(MAX_GROUP_CARDS).to_dicts()
    for start in range(0, len(shown), 2):
        for col, g in zip(st.columns(2), shown[start:start + 2], strict=False):
            with col.container(border=True):
                title = ui.t("vernetzung.groups.group_title", nr=g["gruppe"], n=g["groesse"])
                st.markdown(f"**{title}**")
                st.markdown(" · ".join(ui.md_escape(k) for k in g["kommunen"]))
                st.caption(ui.md_escape(g["begruendung"]))
    if groups.height > MAX_GROUP_CARDS:
        st.caption(ui.t("vernetzung.groups.shown_first", shown=MAX_GROUP_CARDS, k=groups.height))

    st.subheader(ui.t("vernetzung.groups.table"))
    col = {c: ui.t(f"vernetzung.col.{c}") for c in (*members.columns, *groups.columns)
           if c not in ("kommune_id",)}
    members = ui.values(members, typ="typ", bundesland="bundesland",
                        schwerpunkte="handlungsfeld")
    groups = ui.values(groups, gemeinsame_schwerpunkte="handlungsfeld", laender="bundesland")
    member_table = (members.drop("kommune_id")
                    .with_columns(pl.col("schwerpunkte").list.join("; "))
                    .rename({c: col[c] for c in members.columns if c in col}))
    group_table = (groups.with_columns(pl.col("kommunen").list.join("; "),
                                       pl.col("gemeinsame_schwerpunkte").list.join("; "),
                                       pl.col("laender").list.join("; "))
                   .rename({c: col[c] for c in groups.columns}))
    ui.table_with_download(member_table, "austauschgruppen", key="peers_groups_csv")
    peer_cards.xlsx_button({ui.t("vernetzung.groups.sheet_groups"): group_table,
                            ui.t("vernetzung.groups.sheet_members"): member_table},
                           "austauschgruppen", key="peers_groups_xlsx",
                           label=ui.t("vernetzung.groups.export_xlsx"))
