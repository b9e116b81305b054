"""Page sections of "from diagnosis to action" (issue #15): Handlungsplan, the path priority →
measure → module use → state, staff cohort view, timeline notes, calendar feed, council brief,
deadline watch, digest and report delivery.

Thin Streamlit helpers: the role checks live in the store modules and `dashboard.data`; pages call
these functions (the profile only `profile_sections`). Data reach Markdown only through
`ui.md_escape`; everything else goes into tables.
"""

from __future__ import annotations

import datetime as dt
import html

import plotly.graph_objects as go
import polars as pl
import streamlit as st

from dashboard import data, fmt, notify, sessions, ui
from dashboard import watch as w
from dashboard.store import handlungsplan, notizen
from dashboard.store import watch as wstore
from dashboard.store.db import StoreError

OUTBOX = data.ROOT / "data" / "outbox"


def _user() -> str:
    return st.session_state.get("user") or ui.viewer().role


def _fields() -> tuple[str, ...]:
    """The Handlungsfelder of the shown build (its `ref_handlungsfeld`)."""
    return data.programme_rules().handlungsfelder


def _shown(measures: pl.DataFrame) -> pl.DataFrame:
    """Measures with Handlungsfeld and state (geplant, begonnen, …) in the UI language."""
    return ui.values(measures, handlungsfeld="handlungsfeld", zustand="massnahme_stand")


# ---- pure builders (tested without Streamlit) ----------------------------------------------------


def path_table(measures: pl.DataFrame, priorities: list[str], uptake: pl.DataFrame,
               labels: dict[str, str], fields: tuple[str, ...]) -> pl.DataFrame:
    """One row per Handlungsfeld (in the order of `fields`) and measure: priority → measure →
    modules used → state (German values). A priority without a measure shows as a row of its
    own ("noch keine Maßnahme")."""
    modules = {e: labels["module_event"].format(modul=m, thema=t) for e, m, t in
               uptake.select("veranstaltung_id", "modul", "thema").unique("veranstaltung_id")
               .rows()}
    rows = []
    for field in fields:
        own = measures.filter(pl.col("handlungsfeld") == field)
        prio = labels["yes"] if field in priorities else ""
        if own.is_empty():
            if prio:
                rows.append((field, prio, labels["none_yet"], "", None))
            continue
        for m in own.iter_rows(named=True):
            used = [modules.get(e, e) for e in m["veranstaltungen"].split("; ") if e]
            rows.append((field, prio, m["titel"], "; ".join(used) or labels["no_events"],
                         m["zustand"]))
    return pl.DataFrame(rows, schema=dict.fromkeys(
        ("handlungsfeld", "prioritaet", "titel", "module", "zustand"), pl.String), orient="row")


def cohort_counts(measures: pl.DataFrame, fields: tuple[str, ...]) -> pl.DataFrame:
    """Per Handlungsfeld (in the order of `fields`): measures planned/started, implemented,
    dropped and how many communes have any (counts over the cohort; no commune is named or
    ranked)."""
    base = pl.DataFrame({"handlungsfeld": list(fields)})
    counts = measures.group_by("handlungsfeld").agg(
        geplant=pl.col("zustand").is_in(["geplant", "begonnen"]).sum(),
        umgesetzt=(pl.col("zustand") == "umgesetzt").sum(),
        verworfen=(pl.col("zustand") == "verworfen").sum(),
        kommunen=pl.col("kommune_id").n_unique())
    return base.join(counts, on="handlungsfeld", how="left").fill_null(0)


def priorities_without_measure(prios: pl.DataFrame, measures: pl.DataFrame) -> pl.DataFrame:
    """(name, kommune_id, handlungsfeld) of Selbstcheck priorities with no measure (any state)."""
    return (prios.join(measures.select("kommune_id", "handlungsfeld").unique(),
                       on=["kommune_id", "handlungsfeld"], how="anti")
            .select("name", "kommune_id", "handlungsfeld"))


# ---- Handlungsplan -------------------------------------------------------------------------------


def plan_path(viewer: data.Viewer, kommune_id: str, profile: data.KommuneProfile) -> None:
    """Profile section: the path per Handlungsfeld (commune itself and staff)."""
    st.subheader(ui.t("handlungsplan.path"))
    st.caption(ui.t("handlungsplan.path_hint"))
    measures = handlungsplan.measures(viewer, kommune_id)
    prios = data.priorities(viewer, kommune_id)["handlungsfeld"].to_list()
    labels = {"yes": ui.t("kommune.yes"), "none_yet": ui.t("handlungsplan.none_yet"),
              "no_events": ui.t("handlungsplan.no_events"),
              "module_event": ui.t("en2.module_event")}
    uptake = ui.values(profile.uptake, thema="thema")
    table = path_table(measures, prios, uptake, labels, _fields())
    if table.is_empty():
        st.caption(ui.t("handlungsplan.empty"))
        return
    ui.table_with_download(
        ui.labelled(_shown(table), "handlungsplan", "handlungsfeld", "prioritaet", "titel",
                    "module", "zustand", module="module_use"),
        f"handlungsplan_{kommune_id}", key="dl_plan_path")


def _measure_form(viewer: data.Viewer, kommune_id: str, events: dict[str, str],
                  current: dict | None) -> None:
    key = f"measure_{current['id'] if current else 'neu'}"
    fields = _fields()
    if current and current["handlungsfeld"] not in fields:  # saved under other rules: kept
        fields = (*fields, current["handlungsfeld"])
    with st.form(key, clear_on_submit=current is None):
        field = st.selectbox(ui.t("handlungsplan.handlungsfeld"), fields,
                             index=fields.index(current["handlungsfeld"]) if current else 0,
                             format_func=ui.value_label("handlungsfeld"))
        titel = st.text_input(ui.t("handlungsplan.titel"),
                              value=current["titel"] if current else "",
                              max_chars=handlungsplan.MAX_TITLE)
        c = st.columns(2)
        unit = c[0].text_input(ui.t("handlungsplan.zustaendig"),
                               value=current["zustaendig"] if current else "")
        partners = c[1].text_input(ui.t("handlungsplan.partner"),
                                   value=current["partner"] if current else "")
        c = st.columns(3)
        fmt_date = "DD.MM.YYYY" if ui.lang() == "de" else "YYYY-MM-DD"
        start = c[0].date_input(ui.t("handlungsplan.beginn"),
                                value=current["beginn"] if current else None, format=fmt_date)
        due = c[1].date_input(ui.t("handlungsplan.faellig"),
                              value=current["faellig"] if current else None, format=fmt_date)
        state = c[2].selectbox(ui.t("handlungsplan.zustand"), handlungsplan.ZUSTAENDE,
                               format_func=ui.value_label("massnahme_stand"),
                               index=handlungsplan.ZUSTAENDE.index(current["zustand"])
                               if current else 0)
        chosen = [e for e in (current["veranstaltungen"].split("; ") if current else []) if e]
        used = st.multiselect(ui.t("handlungsplan.veranstaltungen"),
                              sorted(set(events) | set(chosen)),
                              default=chosen, format_func=lambda e: events.get(e, e))
        if st.form_submit_button(ui.t("handlungsplan.save"), type="primary"):
            try:
                handlungsplan.save_measure(viewer, _user(), kommune_id, field, titel, unit,
                                           partners, start, due, state, used,
                                           measure_id=current["id"] if current else None)
            except StoreError as exc:
                st.error(str(exc), icon=":material/error:")
            else:
                st.success(ui.t("handlungsplan.saved"), icon=":material/check_circle:")


def plan_editor(viewer: data.Viewer, kommune_id: str) -> None:
    """The commune's measures as a table, a form for a new one and one to change or delete."""
    profile = data.load_kommune_profile(viewer, kommune_id)
    events = {} if profile is None or profile.uptake is None else {
        r["veranstaltung_id"]: f"{fmt.date(r['datum'], ui.lang())} · "
                               f"{ui.value('format', r['format'])}: {ui.value('thema', r['thema'])}"
        for r in profile.uptake.iter_rows(named=True)}
    measures = handlungsplan.measures(viewer, kommune_id)
    if measures.is_empty():
        st.caption(ui.t("handlungsplan.empty"))
    else:
        ui.table_with_download(
            ui.labelled(_shown(measures), "handlungsplan", "handlungsfeld", "titel",
                        "zustaendig", "partner", "beginn", "faellig", "zustand",
                        "veranstaltungen"),
            f"massnahmen_{kommune_id}", key="dl_plan")
    with st.expander(ui.t("handlungsplan.new"), icon=":material/add:"):
        _measure_form(viewer, kommune_id, events, None)
    if not measures.is_empty():
        with st.expander(ui.t("handlungsplan.edit"), icon=":material/edit:"):
            rows = {r["id"]: r for r in measures.iter_rows(named=True)}
            field = ui.value_label("handlungsfeld")
            chosen = st.selectbox(ui.t("handlungsplan.titel"), list(rows), key="plan_edit_choice",
                                  format_func=lambda i: f"{field(rows[i]['handlungsfeld'])}: "
                                                        f"{rows[i]['titel']}")
            _measure_form(viewer, kommune_id, events, rows[chosen])
            c = st.columns([1, 2, 2], vertical_alignment="center")
            if c[0].button(ui.t("handlungsplan.delete"), key="plan_delete",
                           icon=":material/delete:"):
                handlungsplan.delete_measure(viewer, _user(), chosen)
                st.rerun()
            public = c[2].checkbox(ui.t("handlungsplan.share_public"), key="plan_share_public")
            if c[1].button(ui.t("handlungsplan.share"), key="plan_share", icon=":material/share:"):
                try:
                    handlungsplan.share_as_practice(viewer, _user(), chosen, public)
                except StoreError as exc:
                    st.error(str(exc), icon=":material/error:")
                else:
                    st.success(ui.t("handlungsplan.shared"), icon=":material/check_circle:")


def cohort_view(viewer: data.Viewer) -> None:
    """Staff: counts per Handlungsfeld, priorities without a measure, measures past due."""
    measures = handlungsplan.all_measures(viewer)
    info = data.build_info()
    st.subheader(ui.t("handlungsplan.cohort"))
    st.caption(ui.t("handlungsplan.cohort_hint"))
    counts = ui.values(cohort_counts(measures, _fields()), handlungsfeld="handlungsfeld")
    ui.table_with_download(
        ui.labelled(counts, "handlungsplan", "handlungsfeld", "geplant", "umgesetzt",
                    "verworfen", "kommunen", geplant="cohort_geplant",
                    umgesetzt="cohort_umgesetzt", verworfen="cohort_verworfen",
                    kommunen="cohort_kommunen"),
        "handlungsplan_kohorte", key="dl_plan_cohort")
    left, right = st.columns(2)
    with left:
        st.subheader(ui.t("handlungsplan.without_measure"))
        missing = priorities_without_measure(data.priorities(viewer), measures)
        if missing.is_empty():
            st.caption(ui.t("handlungsplan.without_measure_empty"))
        else:
            missing = ui.values(missing, handlungsfeld="handlungsfeld")
            ui.table_with_download(
                missing.select(pl.col("name").alias(ui.t("handlungsplan.kommune")),
                               pl.col("kommune_id").alias("AGS"),
                               pl.col("handlungsfeld").alias(ui.t("handlungsplan.handlungsfeld"))),
                "prioritaeten_ohne_massnahme", key="dl_plan_missing", link_profiles=True)
    with right:
        st.subheader(ui.t("handlungsplan.past_due"))
        st.caption(ui.t("handlungsplan.past_due_hint", datenstand=fmt.date(info.datenstand,
                                                                           ui.lang())))
        late = handlungsplan.past_due(measures, data.kommune_names(), info.datenstand)
        if late.is_empty():
            st.caption(ui.t("handlungsplan.past_due_empty"))
        else:
            late = _shown(late)
            ui.table_with_download(
                late.select(pl.col("name").alias(ui.t("handlungsplan.kommune")),
                            pl.col("kommune_id").alias("AGS"),
                            pl.col("handlungsfeld").alias(ui.t("handlungsplan.handlungsfeld")),
                            pl.col("titel").alias(ui.t("handlungsplan.titel")),
                            pl.col("faellig").alias(ui.t("handlungsplan.faellig")),
                            pl.col("zustand").alias(ui.t("handlungsplan.zustand")),
                            pl.col("tage").alias(ui.t("handlungsplan.tage"))),
                "massnahmen_ueberfaellig", key="dl_plan_late", link_profiles=True)


# ---- timeline notes ------------------------------------------------------------------------------


def _notes_table(frame: pl.DataFrame, with_kommune: bool = False) -> pl.DataFrame:
    cols = [pl.col("von").alias(ui.t("notes.von")), pl.col("bis").alias(ui.t("notes.bis_col")),
            pl.col("text").alias(ui.t("notes.text")),
            pl.col("sichtbarkeit").alias(ui.t("notes.sichtbarkeit"))]
    frame = ui.values(frame, sichtbarkeit="notiz_sicht")
    if with_kommune:
        names = data.kommune_names()
        cols = [pl.col("kommune_id").replace_strict(names, default=None)
                .alias(ui.t("notes.kommune")), pl.col("kommune_id").alias("AGS"), *cols]
    return frame.select(cols)


def timeline_notes(viewer: data.Viewer, kommune_id: str) -> None:
    """Profile section: the notes on this commune's timeline, a form to add one, deletion."""
    st.subheader(ui.t("notes.title"))
    st.caption(ui.t("notes.hint"))
    frame = notizen.notes(viewer, kommune_id)
    if frame.is_empty():
        st.caption(ui.t("notes.empty"))
    else:
        st.dataframe(_notes_table(frame), hide_index=True,
                     column_config=ui.column_config(_notes_table(frame)))
    fmt_date = "DD.MM.YYYY" if ui.lang() == "de" else "YYYY-MM-DD"
    with st.expander(ui.t("notes.add"), icon=":material/add_comment:"), \
            st.form(f"note_{kommune_id}", clear_on_submit=True):
        c = st.columns(2)
        von = c[0].date_input(ui.t("notes.von"), value=data.build_info().datenstand,
                              format=fmt_date)
        bis = c[1].date_input(ui.t("notes.bis"), value=None, format=fmt_date)
        text = st.text_input(ui.t("notes.text"), max_chars=notizen.MAX_NOTE)
        options = notizen.SICHTBARKEIT if viewer.is_staff else ("kommune",)
        vis = st.radio(ui.t("notes.sichtbarkeit"), options, horizontal=True,
                       format_func=ui.value_label("notiz_sicht"))
        if st.form_submit_button(ui.t("notes.add"), type="primary"):
            try:
                notizen.add_note(viewer, _user(), kommune_id, von, bis, text, vis)
            except StoreError as exc:
                st.error(str(exc), icon=":material/error:")
            else:
                st.success(ui.t("notes.added"), icon=":material/check_circle:")
                st.rerun()
    deletable = frame if viewer.is_staff else frame.filter(pl.col("sichtbarkeit") == "kommune")
    if not deletable.is_empty():
        rows = {r["id"]: r for r in deletable.iter_rows(named=True)}
        c = st.columns([3, 1], vertical_alignment="bottom")
        chosen = c[0].selectbox(ui.t("notes.delete"), list(rows), key=f"note_del_{kommune_id}",
                                format_func=lambda i: f"{fmt.date(rows[i]['von'], ui.lang())}: "
                                                      f"{rows[i]['text']}")
        if c[1].button(ui.t("notes.delete"), key=f"note_del_btn_{kommune_id}",
                       icon=":material/delete:"):
            notizen.delete_note(viewer, _user(), chosen)
            st.rerun()


def with_notes(fig, viewer: data.Viewer, kommune_id: str):
    """The profile timeline with the commune's notes as shaded periods (text HTML-escaped, as
    Plotly renders a few HTML tags in annotations); the notes table is the text alternative.
    The timeline is shared (`figcache`): with notes, they go on a copy."""
    notes = notizen.notes(viewer, kommune_id)
    if not notes.is_empty():
        fig = go.Figure(fig)
    for note in notes.iter_rows(named=True):
        text = note["text"] if len(note["text"]) <= 40 else note["text"][:39] + "…"
        fig.add_vrect(x0=note["von"], x1=note["bis"] + dt.timedelta(days=1),
                      fillcolor="#E69F00", opacity=0.18, line_width=0, layer="below",
                      annotation_text=html.escape(text), annotation_position="top left",
                      annotation_font_size=11)
    return fig


def period_notes(viewer: data.Viewer, von: dt.date, bis: dt.date, kommune_ids: list[str]
                 ) -> None:
    """Fortschritt: notes of the communes shown, overlapping the period (never public)."""
    st.subheader(ui.t("notes.period"))
    frame = notizen.notes_in_period(viewer, von, bis).filter(
        pl.col("kommune_id").is_in(kommune_ids))
    if frame.is_empty():
        st.caption(ui.t("notes.period_empty"))
        return
    table = _notes_table(frame, with_kommune=True)
    ui.table_with_download(table, "notizen_zeitleiste", key="dl_period_notes",
                           link_profiles=True)


# ---- calendar ------------------------------------------------------------------------------------


def calendar_section(viewer: data.Viewer, kommune_id: str) -> None:
    """Profile section: the .ics download and the private link (`/kalender/<token>.ics`, served
    by dashboard/server.py): made, renewed or revoked here by the commune or staff; shown once,
    as only its hash is stored."""
    st.subheader(ui.t("fristen.calendar"))
    # made on click: building the .ics is most of a staff member's Kommune page run (national:
    # some 250 events through icalendar's line folding, bench/runcost.py)
    ui.download_on_click(st, ui.t("fristen.ics_download"),
                         lambda: w.calendar_ics(viewer, kommune_id), f"kalender_{kommune_id}.ics",
                         mime="text/calendar", icon=":material/calendar_month:", key="dl_ics")
    if not sessions.ROUTES_SERVED:
        st.caption(ui.t("pdfua.ics_no_server"))
        return
    if flash := st.session_state.pop("ics_flash", None):
        st.success(flash, icon=":material/check_circle:")
    made = wstore.calendar_link(viewer, kommune_id)
    shown = st.session_state.get("ics_link")
    if shown and shown[0] == kommune_id and made:
        st.code(shown[1], language=None)
        st.caption(ui.t("pdfua.ics_once"))
    elif made:
        st.caption(ui.t("pdfua.ics_active", datum=fmt.date(dt.date.fromisoformat(made[:10]),
                                                           ui.lang())))
    else:
        st.caption(ui.t("pdfua.ics_none"))
    c = st.columns(2)
    if c[0].button(ui.t("fristen.ics_renew" if made else "pdfua.ics_make"), key="ics_renew",
                   icon=":material/autorenew:" if made else ":material/link:"):
        token = wstore.new_calendar_token(viewer, _user(), kommune_id)
        st.session_state["ics_link"] = (kommune_id, _calendar_url(token))
        if made:
            st.session_state["ics_flash"] = ui.t("pdfua.ics_renewed")
        st.rerun()
    if made and c[1].button(ui.t("pdfua.ics_revoke"), key="ics_revoke",
                            icon=":material/link_off:"):
        wstore.revoke_calendar_token(viewer, _user(), kommune_id)
        st.session_state.pop("ics_link", None)
        st.session_state["ics_flash"] = ui.t("pdfua.ics_revoked")
        st.rerun()


def _calendar_url(token: str) -> str:
    """The private link: `[kalender] url` from the secrets (the server's public address behind
    a proxy, without the base path) or the address this page was opened at, plus
    `[/<server.baseUrlPath>]/kalender/<token>.ics`."""
    from urllib.parse import urlsplit

    try:
        base = str(st.secrets["kalender"]["url"]) if "kalender" in st.secrets else ""
    except (FileNotFoundError, KeyError):
        base = ""
    if not base:
        parts = urlsplit(st.context.url or "http://localhost:8501")
        base = f"{parts.scheme}://{parts.netloc}"
    return base.rstrip("/") + sessions.url(w.FEED_PATH.replace("{token}", token))


# ---- council brief -------------------------------------------------------------------------------


def council_brief_section(viewer: data.Viewer, kommune_id: str) -> None:
    """Profile section: one click makes the brief as PPTX and PDF (own commune or staff)."""
    from dashboard import ratsbrief

    st.subheader(ui.t("brief.title"))
    st.caption(ui.t("brief.hint"))
    if st.button(ui.t("brief.make"), key="brief_make", icon=":material/slideshow:"):
        brief = ratsbrief.collect(viewer, kommune_id, ui.lang())
        st.session_state["brief_files"] = ((kommune_id, brief.lang), ratsbrief.pptx_bytes(brief),
                                           ratsbrief.pdf_bytes(brief), ratsbrief.file_stem(brief))
    made = st.session_state.get("brief_files")
    if made and made[0] == (kommune_id, ui.lang()):  # made for this commune in this language
        stem = made[3]
        c = st.columns(2)
        pptx, pdf = made[1], made[2]
        ui.download_on_click(c[0], ui.t("brief.pptx"), lambda: pptx, f"{stem}.pptx",
                             mime="application/vnd.openxmlformats-officedocument."
                                  "presentationml.presentation", key="dl_brief_pptx",
                             icon=":material/download:")
        ui.download_on_click(c[1], ui.t("brief.pdf"), lambda: pdf, f"{stem}.pdf",
                             mime="application/pdf", key="dl_brief_pdf",
                             icon=":material/download:")


def profile_sections(viewer: data.Viewer, kommune_id: str, profile: data.KommuneProfile
                     ) -> None:
    """Everything issue #15 adds to the profile; only for the commune itself and staff."""
    if not data.may_see_details(viewer, kommune_id) or profile.milestones is None:
        return
    plan_path(viewer, kommune_id, profile)
    timeline_notes(viewer, kommune_id)
    calendar_section(viewer, kommune_id)
    council_brief_section(viewer, kommune_id)


# ---- deadline watch, digest, delivery (staff page) -----------------------------------------------


def watch_section(viewer: data.Viewer) -> None:
    data.require_staff(viewer, "die Fristenwache sehen")
    lang = ui.lang()
    info = data.build_info()
    st.subheader(ui.t("fristen.list"))
    st.caption(w.rule_text(lang))
    found = w.items(viewer)
    if found.is_empty():
        st.caption(ui.t("fristen.list_empty"))
    else:
        # days count for milestone and measure rows, months for duration rows; the table shows
        # `–` where a row has none (`ui.table_view`), the CSV an empty cell
        shown = ui.values(found, art="frist_art", meilenstein="meilenstein").with_columns(
            pl.col("meilenstein", "massnahme").fill_null(fmt.NONE))
        ui.table_with_download(
            ui.labelled(shown, "fristen", "art", "name").with_columns(AGS=shown["kommune_id"])
            .hstack(ui.labelled(shown, "fristen", "meilenstein"))
            .hstack(ui.labelled(shown, "pdfua", "massnahme"))
            .hstack(ui.labelled(shown, "fristen", "datum", "tage", "dauer_monate")),
            f"fristenwache_{info.datenstand}", key="dl_watch", link_profiles=True)
    with st.expander(ui.t("fristen.thresholds"), icon=":material/tune:"), st.form("thresholds"):
        t = wstore.thresholds()
        c = st.columns(2)
        days = c[0].number_input(ui.t("fristen.ueberfaellig_ab_tage"), 1, 365,
                                 t.ueberfaellig_ab_tage)
        months = c[1].number_input(ui.t("fristen.dauer_warnung_monate"), 1.0, 24.0,
                                   t.dauer_warnung_monate, step=0.5)
        if st.form_submit_button(ui.t("fristen.save_thresholds")):
            wstore.set_thresholds(viewer, _user(), ueberfaellig_ab_tage=days,
                                  dauer_warnung_monate=months)
            st.rerun()


def digest_section(viewer: data.Viewer) -> None:
    st.subheader(ui.t("fristen.digest"))
    st.caption(ui.t("fristen.digest_hint"))
    if st.button(ui.t("fristen.digest_run"), key="digest_run", icon=":material/notifications:"):
        try:
            result = w.run_digest(_user())
        except OSError as exc:
            st.error(str(exc), icon=":material/error:")
        else:
            if result:
                st.success(ui.t("fristen.digest_done", n=result["anzahl"]),
                           icon=":material/check_circle:")
            else:
                st.info(ui.t("fristen.digest_none"), icon=":material/info:")
    history = wstore.digests(viewer)
    if history.is_empty():
        st.caption(ui.t("fristen.digests_empty"))
    for row in history.head(5).iter_rows(named=True):
        with st.expander(f"{row['erstellt_am'][:16].replace('T', ' ')} · "
                         f"{ui.t('fristen.anzahl')}: {row['anzahl']}"):
            st.text(row["text"])


def _delivery_form(viewer: data.Viewer, current: dict | None) -> None:
    """The form that creates a delivery (`current` None) or changes one; a German confirmation
    is shown after the rerun."""
    key = f"delivery_{current['id'] if current else 'new'}"
    with st.form(key, clear_on_submit=current is None):
        name = st.text_input(ui.t("fristen.delivery_name"),
                             value=current["name"] if current else "", key=f"{key}_name")
        to = st.text_input(ui.t("fristen.empfaenger"),
                           value=current["empfaenger"] if current else "", key=f"{key}_to")
        c = st.columns(3)
        edition = c[0].radio(ui.t("fristen.ausgabe"), wstore.AUSGABEN,
                             index=wstore.AUSGABEN.index(current["ausgabe"]) if current else 0,
                             format_func=ui.label_for("fristen.ausgabe_"), key=f"{key}_edition")
        rule = c[1].selectbox(ui.t("fristen.stichtag_regel"), wstore.STICHTAG_REGELN,
                              index=wstore.STICHTAG_REGELN.index(current["stichtag_regel"])
                              if current else 0,
                              format_func=ui.label_for("fristen.regel_"), key=f"{key}_rule")
        formats = c[2].multiselect(ui.t("fristen.formate"), wstore.FORMATE,
                                   default=current["formate"].split("; ") if current
                                   else ["xlsx"], key=f"{key}_formats")
        active = st.checkbox(ui.t("fristen.aktiv"), value=bool(current["aktiv"]) if current
                             else True, key=f"{key}_active")
        if st.form_submit_button(ui.t("fristen.delivery_save"), type="primary"):
            try:
                wstore.save_delivery(viewer, _user(), name, to, edition, rule, formats,
                                     aktiv=active,
                                     delivery_id=current["id"] if current else None)
            except StoreError as exc:
                st.error(str(exc), icon=":material/error:")
            else:
                done = "pdfua.delivery_updated" if current else "pdfua.delivery_created"
                st.session_state["delivery_flash"] = ui.t(done, name=ui.md_escape(name.strip()))
                st.rerun()


def delivery_section(viewer: data.Viewer) -> None:
    st.subheader(ui.t("fristen.deliveries"))
    st.caption(ui.t("fristen.deliveries_hint"))
    if flash := st.session_state.pop("delivery_flash", None):
        st.success(flash, icon=":material/check_circle:")
    rows = wstore.deliveries(viewer)
    config = notify.smtp_config()
    if rows.is_empty():
        st.caption(ui.t("fristen.deliveries_empty"))
    for row in rows.iter_rows(named=True):
        with st.container(border=True):
            st.markdown(f"**{ui.md_escape(row['name'])}** · "
                        f"{ui.t('fristen.ausgabe_' + row['ausgabe'])} · "
                        f"{ui.t('fristen.regel_' + row['stichtag_regel'])} · "
                        f"{ui.md_escape(row['formate'])}"
                        + ("" if row["aktiv"] else f" · {ui.t('pdfua.delivery_paused')}"))
            st.caption(ui.md_escape(row["empfaenger"]))
            if row["ausgabe"] == "oeffentlich":  # an edition per Stichtag: they can be subtracted
                st.caption(ui.t("fristen.public_editions_differ"))
            c = st.columns(2)
            if c[0].button(ui.t("fristen.delivery_test"), key=f"test_{row['id']}",
                           icon=":material/send:"):
                try:
                    ziel = w.send_delivery(row, _user(), config, OUTBOX, dt.date.today(),
                                           test=True)
                except (OSError, StoreError) as exc:
                    st.error(str(exc), icon=":material/error:")
                else:
                    st.success(ui.t("fristen.delivery_test_done", ziel=ui.md_escape(ziel)))
            if c[1].button(ui.t("fristen.delivery_delete"), key=f"del_{row['id']}",
                           icon=":material/delete:"):
                wstore.delete_delivery(viewer, _user(), row["id"])
                st.session_state["delivery_flash"] = ui.t("pdfua.delivery_deleted",
                                                          name=ui.md_escape(row["name"]))
                st.rerun()
            with st.expander(ui.t("pdfua.delivery_edit"), icon=":material/edit:"):
                _delivery_form(viewer, row)
    if not config:
        st.caption(ui.t("fristen.no_outbox"))
    with st.expander(ui.t("fristen.delivery_new"), icon=":material/add:"):
        _delivery_form(viewer, None)
    log = wstore.delivery_log(viewer)
    if not log.is_empty():
        st.subheader(ui.t("fristen.delivery_log"))
        st.dataframe(ui.labelled(log, "fristen", "gesendet_am", "name", "stichtag", "ziel", "test",
                                 name="delivery_name"), hide_index=True)
