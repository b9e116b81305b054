"""The exchange on the Vernetzung page: contact requests, inbox, offers and needs, practice cards,
exchange log and the staff network views.

Pure builders first (tables and the network figure: data in, frame or figure out), then the
`render_*` sections that lay out with Streamlit. Every read and write goes through
`dashboard.store.austausch` (role checks, audit) or `dashboard.data` (registry, contacts); this
module decides nothing about who may see what.
"""

from __future__ import annotations

import datetime as dt
import functools

import plotly.graph_objects as go
import polars as pl
import streamlit as st

from dashboard import data, fmt, notify, peer_cards, peers, ui
from dashboard.i18n import translate, translate_values, value
from dashboard.store import austausch
from dashboard.store.db import StoreError

ALL = ""  # "all topics" option
EDGE_LOGGED = "#009E73"  # Okabe–Ito bluish green
EDGE_OPEN = "#E69F00"  # Okabe–Ito orange
NODE = "#0072B2"


def _user() -> str:
    return st.session_state.get("user") or ui.viewer().role


def _date_format(lang: str) -> str:
    """The date widgets' format in the UI language (as on the other pages)."""
    return "DD.MM.YYYY" if lang == "de" else "YYYY-MM-DD"


def _date(iso: str | None, lang: str) -> str:
    return fmt.date(dt.date.fromisoformat(iso[:10]), lang=lang) if iso else ""


def _field(name: str, lang: str) -> str:
    """A Handlungsfeld in quotes, in `lang`."""
    return translate(lang, "vernetzung.quote", name=value(lang, "handlungsfeld", name))


def _fields() -> tuple[str, ...]:
    """The Handlungsfelder of the shown build (its `ref_handlungsfeld`)."""
    return data.programme_rules().handlungsfelder


def topic_label():
    """A `format_func` for a topic choice with "all topics" (ALL) first, in the language of this
    run (bound now, like `ui.value_label`)."""
    field, every = ui.value_label("handlungsfeld"), ui.t("vernetzung.topic_all")
    return lambda x: field(x) if x else every


# ---- pure builders -------------------------------------------------------------------------------


def requests_table(requests: pl.DataFrame, names: dict[str, str], today: dt.date,
                   lang: str) -> pl.DataFrame:
    """All requests with state and age in days (staff view), translated headers and values."""
    tr = translate
    frame = translate_values(requests, lang, handlungsfeld="handlungsfeld",
                             zustand="anfrage_zustand").select(
        pl.col("von_kommune_id").replace_strict(names, default=None).alias("von"),
        pl.col("an_kommune_id").replace_strict(names, default=None).alias("an"),
        "handlungsfeld", "zustand",
        pl.col("erstellt_am").str.slice(0, 10).str.to_date().alias("erstellt_am"),
        (pl.lit(today) - pl.col("erstellt_am").str.slice(0, 10).str.to_date())
        .dt.total_days().alias("alter_tage"),
        pl.col("beantwortet_am").str.slice(0, 10).str.to_date().alias("beantwortet_am"),
    )
    return frame.rename({c: tr(lang, f"austausch.col.{c}") for c in frame.columns})


def uncovered_needs(entries: pl.DataFrame, practices: pl.DataFrame, names: dict[str, str],
                    lang: str) -> pl.DataFrame:
    """Needs in fields where no other commune offers anything or has a practice card."""
    givers = pl.concat([
        entries.filter(pl.col("art") == "angebot").select("kommune_id", "handlungsfeld"),
        practices.select("kommune_id", "handlungsfeld"),
    ])
    needs = entries.filter(pl.col("art") == "gesuch")
    covered = needs.join(givers, on="handlungsfeld", suffix="_geber").filter(
        pl.col("kommune_id") != pl.col("kommune_id_geber")).select("id").unique()
    frame = (needs.join(covered, on="id", how="anti")
             .select("handlungsfeld",
                     pl.col("kommune_id").replace_strict(names, default=None).alias("kommune"),
                     "beschreibung", "stichworte")
             .sort("handlungsfeld", "kommune"))
    frame = translate_values(frame, lang, handlungsfeld="handlungsfeld")
    return frame.rename({c: translate(lang, f"austausch.col.{c}") for c in frame.columns})


def communes_without_exchange(kommunen: pl.DataFrame, requests: pl.DataFrame, lang: str
                              ) -> pl.DataFrame:
    """Communes (kommune_id, name, bundesland) without an accepted request, with how many
    requests of theirs are open."""
    accepted = requests.filter(pl.col("zustand") == "angenommen")
    partners = set(accepted["von_kommune_id"]) | set(accepted["an_kommune_id"])
    open_ = requests.filter(pl.col("zustand") == "offen")
    counts = (pl.concat([open_.select(pl.col("von_kommune_id").alias("kommune_id")),
                         open_.select(pl.col("an_kommune_id").alias("kommune_id"))])
              .group_by("kommune_id").len("offene_anfragen"))
    frame = (kommunen.filter(~pl.col("kommune_id").is_in(sorted(partners)))
             .join(counts, on="kommune_id", how="left")
             .select(pl.col("name").alias("kommune"), "bundesland",
                     pl.col("offene_anfragen").fill_null(0).cast(pl.Int64))
             .sort("kommune"))
    frame = translate_values(frame, lang, bundesland="bundesland")
    return frame.rename({c: translate(lang, f"austausch.col.{c}") for c in frame.columns})


def network_edges(requests: pl.DataFrame, exchanges: pl.DataFrame, topic: str | None,
                  since: dt.date | None) -> pl.DataFrame:
    """Accepted requests (von, an, handlungsfeld, erstellt_am, eingetragen) in the selection."""
    logged = set(exchanges["anfrage_id"])
    frame = requests.filter(pl.col("zustand") == "angenommen")
    if topic:
        frame = frame.filter(pl.col("handlungsfeld") == topic)
    if since:
        frame = frame.filter(pl.col("erstellt_am").str.slice(0, 10) >= since.isoformat())
    return frame.select("von_kommune_id", "an_kommune_id", "handlungsfeld", "erstellt_am",
                        pl.col("id").is_in(sorted(logged)).alias("eingetragen"))


def network_figure(edges: pl.DataFrame, places: pl.DataFrame, lang: str) -> go.Figure:
    """Communes at their coordinates (plain x/y, no map tiles: fully offline) and one line per
    accepted request; solid green once an exchange was recorded, dotted orange before."""
    tr = translate
    pos = {k: (lon, lat) for k, lon, lat in places.select("kommune_id", "lon", "lat").rows()}
    fig = go.Figure()
    for logged, colour, dash, label in ((True, EDGE_LOGGED, "solid", "network_logged"),
                                        (False, EDGE_OPEN, "dot", "network_open")):
        part = edges.filter(pl.col("eingetragen") == logged)
        xs: list[float | None] = []
        ys: list[float | None] = []
        for a, b in part.select("von_kommune_id", "an_kommune_id").rows():
            if a in pos and b in pos:
                xs += [pos[a][0], pos[b][0], None]
                ys += [pos[a][1], pos[b][1], None]
        fig.add_trace(go.Scatter(x=xs, y=ys, mode="lines", hoverinfo="skip",
                                 name=tr(lang, f"austausch.{label}"),
                                 line={"color": colour, "width": 2, "dash": dash}))
    fig.add_trace(go.Scatter(
        x=places["lon"].to_list(), y=places["lat"].to_list(), mode="markers",
        name=tr(lang, "austausch.network_nodes"),
        customdata=[[n] for n in places["name"].to_list()],
        hovertemplate="%{customdata[0]}<extra></extra>",
        marker={"size": 9, "color": NODE, "line": {"width": 1, "color": "#ffffff"}}))
    fig.update_layout(
        height=520, margin={"l": 0, "r": 0, "t": 10, "b": 0},
        xaxis={"visible": False}, yaxis={"visible": False, "scaleanchor": "x",
                                         "scaleratio": 1.55},
        legend={"orientation": "h", "yanchor": "bottom", "y": 1.0},
        plot_bgcolor="#ffffff")
    return fig


def network_table(edges: pl.DataFrame, names: dict[str, str], lang: str) -> pl.DataFrame:
    """Exactly the lines of the network figure."""
    frame = translate_values(edges, lang, handlungsfeld="handlungsfeld").select(
        pl.col("von_kommune_id").replace_strict(names, default=None).alias("von"),
        pl.col("an_kommune_id").replace_strict(names, default=None).alias("an"),
        "handlungsfeld",
        pl.col("erstellt_am").str.slice(0, 10).str.to_date().alias("erstellt_am"),
        pl.col("eingetragen").replace_strict(
            {True: translate(lang, "austausch.network_logged"),
             False: translate(lang, "austausch.network_open")}).alias("zustand"))
    return frame.rename({c: translate(lang, f"austausch.col.{c}") for c in frame.columns})


def practice_matches(practices: pl.DataFrame, names: dict[str, str], search: str,
                     field: str | None, lang: str = "de") -> pl.DataFrame:
    """Practice cards matching a free-text search (title, texts, commune name, the field in
    German and in `lang`) and a field; newest first. No ranking: the order is the date."""
    frame = practices.with_columns(
        pl.col("kommune_id").replace_strict(names, default="").alias("kommune"))
    if field:
        frame = frame.filter(pl.col("handlungsfeld") == field)
    shown_field = translate_values(frame.select("handlungsfeld"), lang,
                                   handlungsfeld="handlungsfeld")["handlungsfeld"]
    frame = frame.with_columns(pl.concat_str(
        ["titel", "was", "mit_wem", "ergebnis", "kommune", "handlungsfeld",
         shown_field.alias("_feld")], separator=" ").str.to_lowercase().alias("_suche"))
    for word in search.lower().split():
        frame = frame.filter(pl.col("_suche").str.contains(word, literal=True))
    return frame.drop("_suche")


# ---- suggestions: contact request on a card ------------------------------------------------------


def _send_request(viewer: data.Viewer, peer_id: str, peer_name: str) -> None:
    key = f"ask_{peer_id}"
    try:
        request_id = austausch.request_contact(viewer, _user(), peer_id,
                                               st.session_state[f"{key}_topic"],
                                               st.session_state[f"{key}_message"])
    except StoreError as exc:
        st.session_state["exchange_flash"] = ("error", ui.t("austausch.error_prefix",
                                                            message=ui.md_escape(str(exc))))
        return
    notify.request_sent(request_id)
    st.session_state["exchange_flash"] = ("success", ui.t("austausch.ask_sent",
                                                          name=ui.md_escape(peer_name)))


def request_form(viewer: data.Viewer, kommune_id: str, topic: str | None):
    """A card extension (`on_card`) with the state of an existing request or a request form."""
    mine = austausch.requests(viewer)
    lang = ui.lang()
    own_needs = austausch.entries(viewer).filter(
        (pl.col("kommune_id") == kommune_id) & (pl.col("art") == "gesuch"))["handlungsfeld"]

    def extend(row: dict) -> None:
        peer = row["kommune_id"]
        existing = mine.filter(
            ((pl.col("von_kommune_id") == peer) | (pl.col("an_kommune_id") == peer))
            & pl.col("zustand").is_in(["offen", "angenommen"]))
        if existing.height:
            req = existing.row(0, named=True)
            if req["zustand"] == "angenommen":
                st.caption(ui.t("austausch.ask_accepted"))
            else:
                st.caption(ui.t("austausch.ask_pending", datum=_date(req["erstellt_am"], lang)))
            return
        fields = _fields()
        default = topic or (own_needs[0] if own_needs.len() else fields[0])
        with st.expander(ui.t("austausch.ask"), icon=":material/forum:"):
            key = f"ask_{peer}"
            st.selectbox(ui.t("austausch.ask_topic"), fields, key=f"{key}_topic",
                         index=fields.index(default) if default in fields else 0,
                         format_func=ui.value_label("handlungsfeld"))
            st.text_area(ui.t("austausch.ask_message"), ui.t("austausch.ask_message_default"),
                         key=f"{key}_message", max_chars=austausch.MAX_TEXT)
            st.button(ui.t("austausch.ask_send"), key=f"{key}_send", icon=":material/send:",
                      on_click=_send_request, args=(viewer, peer, row["name"]))

    return extend


def flash() -> None:
    """Show (once) the outcome of the last button callback."""
    kind, text = st.session_state.pop("exchange_flash", (None, None))
    if kind == "error":
        st.error(text, icon=":material/error:")
    elif kind:
        st.success(text, icon=":material/check_circle:")


def preference_diff(default: pl.DataFrame, adjusted: pl.DataFrame) -> str:
    """One sentence: which communes the adjusted weights add and drop."""
    before, after = default["name"].to_list(), adjusted["name"].to_list()
    added = ", ".join(ui.md_escape(n) for n in after if n not in before)
    removed = ", ".join(ui.md_escape(n) for n in before if n not in after)
    if added and removed:
        return ui.t("austausch.pref_changed", added=added, removed=removed)
    if added:
        return ui.t("austausch.pref_added_only", added=added)
    if removed:
        return ui.t("austausch.pref_removed_only", removed=removed)
    return ui.t("austausch.pref_same")


# ---- inbox ---------------------------------------------------------------------------------------


def _answer(viewer: data.Viewer, request_id: str, zustand: str, name: str) -> None:
    try:
        austausch.answer_request(viewer, _user(), request_id, zustand)
    except StoreError as exc:
        st.session_state["exchange_flash"] = ("error", ui.t("austausch.error_prefix",
                                                            message=ui.md_escape(str(exc))))
        return
    if zustand == "angenommen":
        notify.request_accepted(request_id)
    message = {"angenommen": ui.t("austausch.accepted_msg", name=ui.md_escape(name)),
               "abgelehnt": ui.t("austausch.declined_msg"),
               "zurueckgezogen": ui.t("austausch.withdrawn_msg")}[zustand]
    st.session_state["exchange_flash"] = ("success", message)


def render_inbox(viewer: data.Viewer, names: dict[str, str]) -> None:
    """A commune's requests: incoming open ones to answer, sent ones, accepted partners with
    contacts and the exchange log. Staff: every request with state and age, every exchange."""
    lang = ui.lang()
    requests = austausch.requests(viewer)
    if viewer.is_staff:
        st.subheader(ui.t("austausch.requests_header"))
        ui.table_with_download(requests_table(requests, names, dt.date.today(), lang),
                               "kontaktanfragen", key="exchange_requests_csv")
        st.subheader(ui.t("austausch.exchanges_header"))
        ui.table_with_download(_exchange_table(austausch.exchanges(viewer), names, lang),
                               "austausche", key="exchange_log_csv")
        return
    me = viewer.kommune_id
    st.subheader(ui.t("austausch.inbox_incoming"))
    incoming = requests.filter((pl.col("an_kommune_id") == me) & (pl.col("zustand") == "offen"))
    if incoming.is_empty():
        st.caption(ui.t("austausch.inbox_empty"))
    for req in incoming.iter_rows(named=True):
        name = names.get(req["von_kommune_id"], req["von_kommune_id"])
        with st.container(border=True):
            st.markdown(ui.t("austausch.inbox_from", name=ui.md_escape(name),
                             field=ui.md_escape(_field(req["handlungsfeld"], lang)),
                             datum=_date(req["erstellt_am"], lang)))
            st.caption(ui.md_escape(req["nachricht"]))
            c1, c2 = st.columns(2)
            c1.button(ui.t("austausch.accept"), key=f"accept_{req['id']}", type="primary",
                      icon=":material/check:", on_click=_answer,
                      args=(viewer, req["id"], "angenommen", name))
            c2.button(ui.t("austausch.decline"), key=f"decline_{req['id']}",
                      icon=":material/close:", on_click=_answer,
                      args=(viewer, req["id"], "abgelehnt", name))

    st.subheader(ui.t("austausch.contacts_header"))
    accepted = requests.filter(pl.col("zustand") == "angenommen")
    if accepted.is_empty():
        st.caption(ui.t("austausch.contacts_none"))
    else:
        exchanges = austausch.exchanges(viewer)
        partner_ids = [r["an_kommune_id"] if r["von_kommune_id"] == me else r["von_kommune_id"]
                       for r in accepted.iter_rows(named=True)]
        contacts = {r["kommune_id"]: r
                    for r in data.peer_contacts(viewer, partner_ids).iter_rows(named=True)}
        for req, partner in zip(accepted.iter_rows(named=True), partner_ids, strict=True):
            with st.container(border=True):
                st.markdown(f"**{ui.md_escape(names.get(partner, partner))}** · "
                            f"{ui.md_escape(_field(req['handlungsfeld'], lang))}")
                peer_cards.render_contact(contacts.get(partner, {}))
                _exchange_log_form(viewer, req, exchanges, lang)

    st.subheader(ui.t("austausch.inbox_outgoing"))
    outgoing = requests.filter(pl.col("von_kommune_id") == me)
    if outgoing.is_empty():
        st.caption(ui.t("austausch.inbox_empty"))
    for req in outgoing.iter_rows(named=True):
        name = names.get(req["an_kommune_id"], req["an_kommune_id"])
        c1, c2 = st.columns([4, 1])
        c1.markdown(ui.t("austausch.inbox_to", name=ui.md_escape(name),
                         field=ui.md_escape(_field(req["handlungsfeld"], lang)),
                         datum=_date(req["erstellt_am"], lang),
                         zustand=ui.value("anfrage_zustand", req["zustand"])))
        if req["zustand"] == "offen":
            c2.button(ui.t("austausch.withdraw"), key=f"withdraw_{req['id']}",
                      on_click=_answer, args=(viewer, req["id"], "zurueckgezogen", name))


def _exchange_table(exchanges: pl.DataFrame, names: dict[str, str], lang: str) -> pl.DataFrame:
    exchanges = translate_values(exchanges, lang, handlungsfeld="handlungsfeld",
                                 format="austausch_format", geholfen="geholfen")
    frame = exchanges.select(
        pl.col("kommune_id").replace_strict(names, default=None).alias("kommune"),
        pl.when(pl.col("kommune_id") == pl.col("von_kommune_id"))
        .then(pl.col("an_kommune_id")).otherwise(pl.col("von_kommune_id"))
        .replace_strict(names, default=None).alias("partner"),
        "handlungsfeld", pl.col("datum").str.to_date(), "format", "geholfen", "notiz")
    return frame.rename({c: translate(lang, f"austausch.col.{c}") for c in frame.columns})


def _save_log(viewer: data.Viewer, request_id: str) -> None:
    key = f"log_{request_id}"
    try:
        austausch.log_exchange(viewer, _user(), request_id, st.session_state[f"{key}_date"],
                               st.session_state[f"{key}_format"],
                               st.session_state[f"{key}_helped"],
                               st.session_state.get(f"{key}_note", ""))
    except StoreError as exc:
        st.session_state["exchange_flash"] = ("error", ui.t("austausch.error_prefix",
                                                            message=ui.md_escape(str(exc))))
        return
    st.session_state["exchange_flash"] = ("success", ui.t("austausch.log_saved"))


def _exchange_log_form(viewer: data.Viewer, req: dict, exchanges: pl.DataFrame,
                       lang: str) -> None:
    mine = exchanges.filter((pl.col("anfrage_id") == req["id"])
                            & (pl.col("kommune_id") == viewer.kommune_id))
    if mine.height:
        row = mine.row(0, named=True)
        st.caption(ui.t("austausch.log_done", datum=_date(row["datum"], lang),
                        format=ui.md_escape(ui.value("austausch_format", row["format"])),
                        geholfen=ui.value("geholfen", row["geholfen"])))
        return
    key = f"log_{req['id']}"
    with st.expander(ui.t("austausch.log_header"), icon=":material/edit_note:"):
        st.date_input(ui.t("austausch.log_date"), dt.date.today(), key=f"{key}_date",
                      max_value=dt.date.today(), format=_date_format(lang))
        st.selectbox(ui.t("austausch.log_format"), austausch.FORMATE, key=f"{key}_format",
                     format_func=ui.value_label("austausch_format"))
        st.radio(ui.t("austausch.log_helped"), austausch.GEHOLFEN, key=f"{key}_helped",
                 horizontal=True, format_func=ui.value_label("geholfen"))
        st.text_input(ui.t("austausch.log_note"), key=f"{key}_note",
                      max_chars=austausch.MAX_TEXT)
        st.button(ui.t("austausch.log_save"), key=f"{key}_save", on_click=_save_log,
                  args=(viewer, req["id"]))


# ---- offers and needs ----------------------------------------------------------------------------


def _entry_key(kommune_id: str, art: str, field: str) -> str:
    return f"entry_{kommune_id}_{art}_{_fields().index(field)}"


def _save_field(viewer: data.Viewer, kommune_id: str, field: str) -> None:
    try:
        for art in austausch.ARTEN:
            key = _entry_key(kommune_id, art, field)
            austausch.save_entry(
                viewer, _user(), kommune_id, art, field, st.session_state.get(key, ""),
                stichworte=st.session_state.get(f"{key}_tags", "").split(","),
                sichtbarkeit=st.session_state.get(f"{key}_vis", "modellkommunen"))
    except StoreError as exc:
        st.session_state["exchange_flash"] = ("error", ui.t("austausch.error_prefix",
                                                            message=ui.md_escape(str(exc))))
        return
    st.session_state["exchange_flash"] = ("success", ui.t("austausch.saved"))


def _prefill(kommune_id: str, fields: list[str], existing: set[str]) -> None:
    """Put a draft need into the empty "Wir suchen" boxes of the priority fields (not saved)."""
    for field in fields:
        key = _entry_key(kommune_id, "gesuch", field)
        if field not in existing and not st.session_state.get(key):
            st.session_state[key] = ui.t("austausch.prefill_draft")


def render_profile_entries(viewer: data.Viewer, kommune_id: str) -> None:
    """The commune's offers and needs per Handlungsfeld with visibility, the Selbstcheck prefill
    for "Wir suchen" (own commune only), and what other communes published."""
    lang = ui.lang()
    st.caption(ui.t("austausch.profile_intro"))
    visible = austausch.entries(viewer)
    own = visible.filter(pl.col("kommune_id") == kommune_id)
    existing = {(r["art"], r["handlungsfeld"]): r for r in own.iter_rows(named=True)}
    if viewer.role == "kommune":
        profile = data.load_kommune_profile(viewer, kommune_id)
        selbstcheck = profile.selbstcheck if profile else None
        prios = ([] if selbstcheck is None else
                 selbstcheck.filter(pl.col("prioritaet"))["handlungsfeld"].to_list())
        with st.container(border=True):
            st.markdown(f"**{ui.t('austausch.prefill')}**")
            if prios:
                st.caption(ui.t("austausch.prefill_text",
                                fields=ui.md_escape(", ".join(_field(p, lang) for p in prios))))
                st.button(ui.t("austausch.prefill_button"), key="exchange_prefill",
                          icon=":material/edit:", on_click=_prefill,
                          args=(kommune_id, prios, {f for a, f in existing if a == "gesuch"}))
            else:
                st.caption(ui.t("austausch.prefill_none"))
    for field in _fields():
        has = any((art, field) in existing for art in austausch.ARTEN)
        with st.expander(ui.md_escape(ui.value("handlungsfeld", field)), expanded=has,
                         icon=":material/check:" if has else None):
            for art in austausch.ARTEN:
                key = _entry_key(kommune_id, art, field)
                row = existing.get((art, field), {})
                st.session_state.setdefault(key, row.get("beschreibung", ""))
                st.session_state.setdefault(f"{key}_tags", row.get("stichworte", "")
                                            .replace("; ", ", "))
                st.session_state.setdefault(f"{key}_vis", row.get("sichtbarkeit",
                                                                  "modellkommunen"))
                c1, c2 = st.columns([3, 2])
                c1.text_area(ui.t(f"austausch.{'offer' if art == 'angebot' else 'need'}"),
                             key=key, max_chars=austausch.MAX_TEXT, height=80)
                c2.text_input(ui.t("austausch.tags"), key=f"{key}_tags")
                c2.radio(ui.t("austausch.visibility"), austausch.SICHTBARKEIT,
                         key=f"{key}_vis", horizontal=True,
                         format_func=ui.value_label("eintrag_sicht"))
            st.button(ui.t("austausch.save"), key=f"save_{kommune_id}_{field}",
                      icon=":material/save:", on_click=_save_field,
                      args=(viewer, kommune_id, field))

    st.subheader(ui.t("austausch.published_header"))
    names = data.kommune_names()
    others = visible.filter((pl.col("kommune_id") != kommune_id)
                            & (pl.col("sichtbarkeit") == "modellkommunen"))
    table = ui.values(others.select(
        pl.col("kommune_id").replace_strict(names, default=None).alias("kommune"), "art",
        "handlungsfeld", pl.col("beschreibung"), "stichworte").sort("handlungsfeld", "kommune"),
        art="eintrag_art", handlungsfeld="handlungsfeld")
    ui.table_with_download(ui.labelled(table, "austausch.col", *table.columns),
                           "angebote_gesuche", key="exchange_entries_csv")


# ---- practice cards ------------------------------------------------------------------------------


def _save_practice(viewer: data.Viewer, kommune_id: str) -> None:
    key = "practice_new"
    upload = st.session_state.get(f"{key}_file")
    try:
        austausch.save_practice(
            viewer, _user(), kommune_id, st.session_state[f"{key}_field"],
            st.session_state.get(f"{key}_title", ""), st.session_state.get(f"{key}_what", ""),
            st.session_state.get(f"{key}_with", ""), st.session_state.get(f"{key}_result", ""),
            oeffentlich=st.session_state.get(f"{key}_public", False),
            datei=(upload.name, upload.getvalue()) if upload is not None else None)
    except StoreError as exc:
        st.session_state["exchange_flash"] = ("error", ui.t("austausch.error_prefix",
                                                            message=ui.md_escape(str(exc))))
        return
    for suffix in ("title", "what", "with", "result", "public"):
        st.session_state.pop(f"{key}_{suffix}", None)
    st.session_state["exchange_flash"] = ("success", ui.t("austausch.practice_saved"))


def _review(viewer: data.Viewer, practice_id: str, release: bool) -> None:
    austausch.review_practice(viewer, _user(), practice_id, release)


def _practice_file_bytes(viewer: data.Viewer, practice_id: str) -> bytes:
    """The file of a practice card, read when its download is clicked; the store decides again
    whether the viewer may have it (the card may have been withdrawn since the page was shown)."""
    file = austausch.practice_file(viewer, practice_id)
    if file is None:
        raise PermissionError("Diese Datei ist nicht mehr verfügbar.")
    return file.inhalt


def _delete_practice(viewer: data.Viewer, practice_id: str) -> None:
    austausch.delete_practice(viewer, _user(), practice_id)


def render_practice(viewer: data.Viewer, kommune_id: str, names: dict[str, str]) -> None:
    """Searchable practice directory (newest first, no ranking), staff review, a form for a new
    card with an optional file."""
    lang = ui.lang()
    st.caption(ui.t("austausch.practice_intro"))
    c1, c2 = st.columns([3, 2])
    search = c1.text_input(ui.t("austausch.practice_search"), key="practice_search")
    field = c2.selectbox(ui.t("austausch.practice_field"), [ALL, *_fields()],
                         key="practice_field_filter", format_func=topic_label()) or None
    cards = practice_matches(austausch.practices(viewer), names, search, field, lang)
    st.caption(ui.t("austausch.practice_count", n=cards.height))
    if cards.is_empty():
        st.info(ui.t("austausch.practice_none"), icon=":material/search_off:")
    for card in cards.iter_rows(named=True):
        with st.container(border=True):
            st.markdown(f"**{ui.md_escape(card['titel'])}**")
            st.caption(ui.t("austausch.practice_by", name=ui.md_escape(card["kommune"]),
                            field=ui.md_escape(_field(card["handlungsfeld"], lang))))
            st.markdown(ui.md_escape(card["was"]))
            for label, column in (("practice_with", "mit_wem"), ("practice_result", "ergebnis")):
                if card[column]:
                    st.markdown(f"*{ui.t(f'austausch.{label}')}* {ui.md_escape(card[column])}")
            if card["freigabe"] == "freigegeben":
                st.caption(ui.t("austausch.practice_state_public"))
            elif card["oeffentlich_gewuenscht"] and card["freigabe"] == "keine":
                st.caption(ui.t("austausch.practice_state_waiting"))
            if card["dateiname"]:  # read when clicked (a card the viewer sees: its file too)
                ui.download_on_click(
                    st, f"{ui.t('austausch.practice_download')}: {ui.md_escape(card['dateiname'])}",
                    functools.partial(_practice_file_bytes, viewer, card["id"]),
                    card["dateiname"], mime=card["mime"], key=f"practice_file_{card['id']}",
                    icon=":material/attach_file:")
            own = viewer.role == "kommune" and card["kommune_id"] == viewer.kommune_id
            if viewer.is_staff and card["oeffentlich_gewuenscht"] and card["freigabe"] == "keine":
                b1, b2 = st.columns(2)
                b1.button(ui.t("austausch.practice_release"), key=f"release_{card['id']}",
                          on_click=_review, args=(viewer, card["id"], True))
                b2.button(ui.t("austausch.practice_reject"), key=f"reject_{card['id']}",
                          on_click=_review, args=(viewer, card["id"], False))
            if own or viewer.is_staff:
                st.button(ui.t("austausch.practice_delete"), key=f"delete_{card['id']}",
                          icon=":material/delete:", on_click=_delete_practice,
                          args=(viewer, card["id"]))

    st.subheader(ui.t("austausch.practice_new"))
    key = "practice_new"
    st.selectbox(ui.t("austausch.practice_field"), _fields(), key=f"{key}_field",
                 format_func=ui.value_label("handlungsfeld"))
    st.text_input(ui.t("austausch.practice_title"), key=f"{key}_title",
                  max_chars=austausch.MAX_TITLE)
    st.text_area(ui.t("austausch.practice_what"), key=f"{key}_what", max_chars=austausch.MAX_TEXT)
    st.text_input(ui.t("austausch.practice_with"), key=f"{key}_with")
    st.text_area(ui.t("austausch.practice_result"), key=f"{key}_result",
                 max_chars=austausch.MAX_TEXT)
    st.file_uploader(ui.t("austausch.practice_file"), key=f"{key}_file",
                     type=[s.lstrip(".") for s in austausch.FILE_TYPES])
    st.checkbox(ui.t("austausch.practice_public"), key=f"{key}_public")
    st.button(ui.t("austausch.practice_save"), key=f"{key}_save", type="primary",
              icon=":material/publish:", on_click=_save_practice, args=(viewer, kommune_id))


# ---- staff: network ------------------------------------------------------------------------------


def render_network(viewer: data.Viewer, names: dict[str, str]) -> None:
    """Staff: exchange network (topic and period filters), uncovered needs, communes without
    exchange."""
    lang = ui.lang()
    requests = austausch.requests(viewer)
    st.subheader(ui.t("austausch.network_header"))
    st.caption(ui.t("austausch.network_caption"))
    c1, c2 = st.columns(2)
    topic = c1.selectbox(ui.t("austausch.network_topic"), [ALL, *_fields()],
                         key="network_topic", format_func=topic_label()) or None
    since = c2.date_input(ui.t("austausch.network_since"), None, key="network_since",
                          format=_date_format(lang))
    edges = network_edges(requests, austausch.exchanges(viewer), topic, since)
    places = data.load_peer_features(viewer).select("kommune_id", "name", "lat", "lon")
    if edges.is_empty():
        st.info(ui.t("austausch.network_empty"), icon=":material/hub:")
    else:
        ui.chart_and_table(network_figure(edges, places, lang),
                           network_table(edges, names, lang), "austauschnetzwerk",
                           key="exchange_network")

    st.subheader(ui.t("austausch.uncovered_header"))
    st.caption(ui.t("austausch.uncovered_caption"))
    uncovered = uncovered_needs(austausch.entries(viewer), austausch.practices(viewer), names,
                                lang)
    if uncovered.is_empty():
        st.caption(ui.t("austausch.uncovered_none"))
    else:
        ui.table_with_download(uncovered, "offene_gesuche", key="exchange_uncovered_csv")

    st.subheader(ui.t("austausch.without_header"))
    st.caption(ui.t("austausch.without_caption"))
    kommunen = data.load_peer_features(viewer).filter(
        ~pl.col("status").is_in(list(peers.DEFAULT_WEIGHTS.exclude_status))
    ).select("kommune_id", "name", "bundesland")
    without = communes_without_exchange(kommunen, requests, lang)
    if without.is_empty():
        st.caption(ui.t("austausch.without_none"))
    else:
        ui.table_with_download(without, "ohne_austausch", key="exchange_without_csv")
