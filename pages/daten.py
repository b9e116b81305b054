"""Daten (staff): upload input files → checks and preview → apply as a new version; version
history with rollback, the quality report of the current build and the audit log.

All work happens in `dashboard.imports` (checks, preview, build, switch) and `dashboard.audit`;
this page lays it out. Both refuse viewers other than programme staff, whatever the navigation
shows.
"""

import datetime as dt
from zoneinfo import ZoneInfo

import polars as pl
import streamlit as st

from dashboard import audit, auth, data, fmt, imports, ui
from etl.validate import ART_FEHLER, ART_HINWEIS

BERLIN = ZoneInfo("Europe/Berlin")  # the programme's time zone for every time shown

lang, viewer, _filters = ui.page("daten.title")
try:
    data.require_staff(viewer, "die Datenverwaltung öffnen")
except PermissionError:
    st.error(ui.t("daten.no_access"), icon=":material/lock:")
    ui.end_page()
user = st.session_state.get("user", "unbekannt")
st.caption(ui.t("daten.intro"))


def local_time(value: dt.datetime) -> str:
    local = value.astimezone(BERLIN)
    return local.strftime("%d.%m.%Y %H:%M") if lang == "de" else local.strftime("%Y-%m-%d %H:%M")


def labelled(frame: pl.DataFrame) -> pl.DataFrame:
    """UTC times as local text, every column headed from `daten.col` (ui.labelled)."""
    frame = frame.with_columns(
        pl.col(n).dt.convert_time_zone(str(BERLIN)).dt.strftime(
            "%d.%m.%Y %H:%M:%S" if lang == "de" else "%Y-%m-%d %H:%M:%S")
        for n, d in frame.schema.items() if isinstance(d, pl.Datetime)
    )
    return ui.labelled(frame, "daten.col", *frame.columns)


def report_table(frame: pl.DataFrame) -> pl.DataFrame:
    """Reject lines and warnings (rows kept), the kind first and translated (a build from
    before the column `art` has reject lines only)."""
    if "art" not in frame.columns:
        frame = frame.with_columns(pl.lit(ART_FEHLER).alias("art"))
    kinds = {ART_FEHLER: ui.t("etlsql.art_fehler"), ART_HINWEIS: ui.t("etlsql.art_hinweis")}
    return labelled(frame.select("art", pl.exclude("art")).with_columns(
        pl.col("art").replace_strict(kinds, default=pl.col("art"))))


def warnings_caption(frame: pl.DataFrame) -> None:
    if "art" in frame.columns and frame.get_column("art").eq(ART_HINWEIS).any():
        st.caption(ui.t("etlsql.warnings_hint"))


try:
    current = imports.current_version(viewer)  # registers a database built outside the page
except imports.ImportFailed as exc:
    st.warning(ui.md_escape(str(exc)), icon=":material/hourglass_top:")
    ui.end_page()
tab_import, tab_versions, tab_quality, tab_log = st.tabs([
    ui.t("daten.tab_import"), ui.t("daten.tab_versions"),
    ui.t("daten.tab_quality"), ui.t("daten.tab_log"),
])

# ---- import: upload → preview → apply ----
with tab_import:
    if done := st.session_state.pop("daten_done", None):
        st.success(ui.t("daten.applied", build_id=done), icon=":material/check_circle:")
    if current is None:
        st.info(ui.t("daten.no_database"))
    else:
        st.markdown(ui.t("daten.current", build_id=current.build_id,
                         datenstand=fmt.date(current.datenstand, lang),
                         erstellt_am=local_time(current.erstellt_am)))
    generation = st.session_state.setdefault("daten_upload_n", 0)
    files = st.file_uploader(
        ui.t("daten.upload_label"), type=["csv", "xlsx"], accept_multiple_files=True,
        key=f"daten_upload_{generation}", max_upload_size=imports.MAX_UPLOAD_BYTES // imports.MB,
        help=ui.t("daten.upload_help", max_mb=imports.MAX_UPLOAD_BYTES // imports.MB))
    c_date, c_flag = st.columns(2, vertical_alignment="bottom")
    demo_base = current is not None and current.beispieldaten and current.datenstand
    datenstand = c_date.date_input(
        ui.t("daten.datenstand"), value=current.datenstand if demo_base else dt.date.today(),
        format="DD.MM.YYYY" if lang == "de" else "YYYY-MM-DD", key="daten_datenstand",
        help=ui.t("daten.datenstand_help"))
    beispieldaten = c_flag.checkbox(ui.t("daten.beispieldaten"),
                                    value=bool(current and current.beispieldaten),
                                    key="daten_beispiel", help=ui.t("daten.beispieldaten_help"))
    if not files:
        st.info(ui.t("daten.upload_hint"), icon=":material/upload_file:")
    else:
        signature = (tuple((f.file_id, f.name, f.size) for f in files), datenstand, beispieldaten,
                     current.build_id if current else None)
        cached = st.session_state.get("daten_preview")
        if cached is None or cached[0] != signature:
            with st.spinner(ui.t("daten.checking")):
                cached = (signature, imports.preview(viewer, files, datenstand, beispieldaten))
            st.session_state["daten_preview"] = cached
        preview: imports.Preview = cached[1]

        if preview.problems:
            st.error("**" + ui.t("daten.problems_header") + "**\n\n" + "\n".join(
                f"- {ui.md_escape(p.meldung)}" for p in preview.problems), icon=":material/block:")
        st.subheader(ui.t("daten.preview_header"))
        if preview.notes:
            st.info("\n".join(f"- {ui.md_escape(n)}" for n in preview.notes),
                    icon=":material/info:")
        if not preview.files.is_empty():
            st.caption(ui.t("daten.metrics_hint"))
            for col, row in zip(st.columns(len(preview.files)),
                                preview.files.iter_rows(named=True), strict=True):
                col.metric(
                    row["datei"], fmt.number(row["zeilen_geladen"], lang=lang),
                    delta=ui.t("daten.file_rejected",
                               n=fmt.number(row["zeilen_abgelehnt"], lang=lang)),
                    delta_color="inverse" if row["zeilen_abgelehnt"] else "off",
                    delta_arrow="off", border=True,
                    delta_description=ui.t(f"daten.source_{row['quelle']}"),
                    help=ui.t("daten.file_help", kodierung=row["kodierung"],
                              gelesen=fmt.number(row["zeilen_gelesen"], lang=lang)))
            st.markdown(f"**{ui.t('daten.rejects_header')}**")
            if preview.rejects.is_empty():
                st.caption(ui.t("daten.rejects_none"))
            else:
                st.caption(ui.t("daten.rejects_hint"))
                warnings_caption(preview.rejects)
                ui.table_with_download(report_table(preview.rejects), "ablehnungen_vorschau",
                                       key="dl_preview_rejects")
        if preview.diff is not None:
            st.markdown(f"**{ui.t('daten.diff_header')}**")
            counts = preview.diff.counts()
            cols = [*st.columns(3), *st.columns(3)]
            for col, (name, n) in zip(cols, counts.items(), strict=True):
                col.metric(ui.t(f"daten.diff.{name}"), fmt.number(n, lang=lang))
            if not any(counts.values()):
                st.caption(ui.t("daten.diff_none"))
            for name, n in counts.items():
                if n:
                    with st.expander(ui.t("daten.diff_list",
                                          label=ui.t(f"daten.diff.{name}"), n=n)):
                        st.dataframe(labelled(getattr(preview.diff, name)), hide_index=True)

        switched_off = auth.demo_accounts_affected(bool(current and current.beispieldaten),
                                                   beispieldaten)
        if switched_off:  # staff signed in with a demo account would lock themselves out
            st.warning(ui.t("sessions.demo_switch_off", accounts=", ".join(switched_off)),
                       icon=":material/person_off:")
        if not preview.can_apply:
            st.caption(ui.t("daten.apply_blocked"))
        confirmed = True
        if preview.drastic and preview.can_apply:
            st.warning("**" + ui.t("data_safety.drastic_title") + "**\n\n" + "\n".join(
                "- " + ui.t("data_safety.drastic_line", table=ui.t(f"daten.col.{name}"),
                            old=fmt.number(old, lang=lang), new=fmt.number(new, lang=lang))
                for name, old, new in preview.drastic), icon=":material/warning:")
            confirmed = st.checkbox(ui.t("data_safety.drastic_confirm"), key="daten_drastic")
        if st.button(ui.t("daten.apply"), type="primary",
                     disabled=not (preview.can_apply and confirmed),
                     icon=":material/published_with_changes:", help=ui.t("daten.apply_help"),
                     key="daten_apply"):
            with st.status(ui.t("daten.building"), expanded=True) as status:
                try:
                    version = imports.apply(viewer, user, preview, progress=status.write,
                                            confirmed=confirmed)
                except imports.ImportFailed as exc:
                    status.update(label=ui.t("daten.failed"), state="error")
                    st.error(ui.md_escape(str(exc)), icon=":material/error:")
                else:
                    status.update(label=ui.t("daten.built", build_id=version.build_id),
                                  state="complete")
                    st.session_state["daten_done"] = version.build_id
                    st.session_state["daten_upload_n"] = generation + 1  # empties the uploader
                    st.session_state.pop("daten_preview", None)
                    st.rerun()

# ---- versions: history, rejects report per version, rollback ----
with tab_versions:
    if rolled := st.session_state.pop("daten_rolled", None):
        st.success(ui.t("daten.rolled_back", build_id=rolled), icon=":material/history:")
    versions = imports.list_versions(viewer, imports.KEEP_VERSIONS)
    live_id = current.build_id if current else None
    st.subheader(ui.t("daten.versions_header", n=imports.KEEP_VERSIONS))
    if not versions:
        st.info(ui.t("daten.versions_empty"))
    else:
        table = imports.versions_frame(versions, live_id).with_columns(
            pl.col("art").replace_strict(
                {a: ui.t(f"daten.art.{a}") for a in ("import", "bestand")}, default="–"),
            pl.col("benutzer").replace("", ui.t("daten.unknown_user")))
        st.dataframe(labelled(table), hide_index=True,
                     column_config=ui.column_config(labelled(table)))
        by_id = {v.build_id: v for v in versions}

        def version_label(build_id: str) -> str:
            v = by_id[build_id]
            mark = f" · {ui.t('daten.version_current')}" if build_id == live_id else ""
            who = f" · {v.benutzer}" if v.benutzer else ""
            return f"{build_id} · {local_time(v.erstellt_am)}{who}{mark}"

        chosen = st.selectbox(ui.t("daten.version_pick"), list(by_id),
                              format_func=version_label, key=f"daten_version_{live_id}")
        c_download, c_rollback = st.columns(2)
        file_name = f"ablehnungen_{chosen}.csv"
        ui.download_on_click(
            c_download, ui.t("daten.download_rejects"),
            lambda: imports.rejects_csv(viewer, chosen), file_name, mime="text/csv",
            icon=":material/download:", key="daten_version_rejects")
        if c_rollback.button(ui.t("daten.rollback"), icon=":material/history:",
                             disabled=chosen == live_id, key="daten_rollback_ask",
                             help=ui.t("daten.rollback_disabled") if chosen == live_id
                             else None):
            st.session_state["daten_rollback"] = chosen
        if st.session_state.get("daten_rollback") == chosen and chosen != live_id:
            st.warning(ui.t("daten.rollback_confirm", build_id=chosen,
                            erstellt_am=local_time(by_id[chosen].erstellt_am)),
                       icon=":material/warning:")
            c_yes, c_no = st.columns(2)
            if c_yes.button(ui.t("daten.rollback_yes"), type="primary",
                            key="daten_rollback_yes"):
                try:
                    imports.rollback(viewer, user, chosen)
                except imports.ImportFailed as exc:
                    st.error(ui.md_escape(str(exc)), icon=":material/error:")
                else:
                    st.session_state.pop("daten_rollback", None)
                    st.session_state["daten_rolled"] = chosen
                    st.rerun()
            if c_no.button(ui.t("daten.cancel"), key="daten_rollback_no"):
                st.session_state.pop("daten_rollback", None)
                st.rerun()

# ---- quality report of the current build ----
with tab_quality:
    st.subheader(ui.t("daten.quality_header"))
    if current is not None:
        info = data.build_info()
        st.markdown(f"**{ui.t('daten.quality_files')}**")
        st.dataframe(labelled(info.dateien), hide_index=True,
                     column_config=ui.column_config(labelled(info.dateien)))
        quality = data.rejects(viewer)
        st.markdown(f"**{ui.t('daten.rejects_header')}**")
        if quality.is_empty():
            st.caption(ui.t("daten.quality_none"))
        else:
            warnings_caption(quality)
            ui.table_with_download(report_table(quality), f"ablehnungen_{info.build_id}",
                                   key="dl_quality")

# ---- audit log ----
with tab_log:
    st.subheader(ui.t("daten.log_header"))
    st.caption(ui.t("daten.log_hint"))
    events = data.audit_events(viewer, limit=500)
    if events.is_empty():
        st.caption(ui.t("daten.log_empty"))
    else:
        known = set(audit.ACTIONS)
        events = events.with_columns(fmt.texts(
            events["aktion"], lambda a: ui.t(f"daten.action.{a}") if a in known else a))
        st.dataframe(labelled(events), hide_index=True)
