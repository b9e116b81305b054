"""Überblick: key figures of the (filtered) cohort, recent changes and overdue milestones."""

import polars as pl
import streamlit as st

from dashboard import charts, data, fmt, ui

lang, viewer, filters = ui.page("ueberblick.title")

kf = data.key_figures(viewer, filters)
if kf.kommunen == 0:
    ui.empty_state()
    st.stop()

lo, hi = data.programme_rules().ziel_monate
cols = [*st.columns(3), *st.columns(3)]
cols[0].metric(ui.t("ueberblick.kommunen"), fmt.number(kf.kommunen, lang=lang))
cols[1].metric(ui.t("ueberblick.gestartet"), fmt.number(kf.gestartet, lang=lang))
cols[2].metric(ui.t("ueberblick.abgeschlossen"), fmt.number(kf.abgeschlossen, lang=lang))
cols[3].metric(ui.t("ueberblick.im_ziel", max=hi), fmt.percent(kf.anteil_im_ziel, lang=lang))
median = (
    ui.t("ueberblick.median_dauer_value", value=fmt.number(kf.median_dauer_monate, 1, lang))
    if kf.median_dauer_monate is not None
    else "–"
)
cols[4].metric(
    ui.t("ueberblick.median_dauer"), median, help=ui.t("ueberblick.ziel_hint", min=lo, max=hi)
)
if kf.ueberfaellige_meilensteine is not None:  # internal monitoring: not for the public
    cols[5].metric(ui.t("ueberblick.ueberfaellig"),
                   fmt.number(kf.ueberfaellige_meilensteine, lang=lang))
if viewer.role == "public":
    st.caption(ui.t("auth.suppressed"))

left, right = st.columns(2)
with left:
    st.subheader(ui.t("ueberblick.status_header"))
    counts = pl.DataFrame(
        {"status": list(kf.nach_status), "anzahl": list(kf.nach_status.values())},
        schema={"status": pl.String, "anzahl": pl.Int64},
    )
    ui.chart_and_table(
        charts.status_bar(counts, lang),
        ui.values(counts, status="status").rename(
            {"status": ui.t("filters.status"), "anzahl": ui.t("ueberblick.anzahl")}
        ),
        "kommunen_nach_status",
        key="status",
    )
with right:
    st.subheader(ui.t("ueberblick.modul_header"))
    uptake = kf.nutzung_nach_modul
    ui.chart_and_table(
        charts.module_bars(
            uptake, lang, ui.t("ueberblick.veranstaltungen"), ui.t("ueberblick.teilnehmende")
        ),
        ui.values(uptake, bezeichnung="modul").rename(
            {
                "modul": ui.t("ueberblick.modul"),
                "bezeichnung": ui.t("ueberblick.bezeichnung"),
                "veranstaltungen": ui.t("ueberblick.veranstaltungen"),
                "teilnehmende": ui.t("ueberblick.teilnehmende"),
            }
        ),
        "nutzung_nach_modul",
        key="module",
    )

if viewer.role != "public":  # names of communes with their milestones: signed-in only
    left, right = st.columns(2)
    with left:
        st.subheader(ui.t("ueberblick.changes_header"))
        changes = data.load_recent_changes(viewer, filters)
        if changes.is_empty():
            st.caption(ui.t("ueberblick.changes_empty"))
        else:
            ui.table_with_download(
                ui.values(changes, meilenstein="meilenstein").rename(
                    {
                        "kommune_id": "AGS",
                        "name": ui.t("ueberblick.name"),
                        "meilenstein": ui.t("ueberblick.meilenstein"),
                        "erreicht_am": ui.t("ueberblick.erreicht_am"),
                    }
                ),
                "erreicht_letzte_30_tage",
                key="dl_changes",
                link_profiles=True,
                hide=("AGS",),  # half a page wide: the name suffices, the CSV keeps the key
            )
    with right:
        st.subheader(ui.t("ueberblick.overdue_header"))
        overdue = data.load_overdue(viewer, filters)
        if overdue.is_empty():
            st.caption(ui.t("ueberblick.overdue_empty"))
        else:
            ui.table_with_download(
                ui.values(overdue.drop("bundesland"), meilenstein="meilenstein").rename(
                    {
                        "kommune_id": "AGS",
                        "name": ui.t("ueberblick.name"),
                        "meilenstein": ui.t("ueberblick.meilenstein"),
                        "geplant_am": ui.t("ueberblick.geplant_am"),
                        "tage_ueberfaellig": ui.t("ueberblick.tage"),
                    }
                ),
                "ueberfaellige_meilensteine",
                key="dl_overdue",
                link_profiles=True,
                hide=("AGS",),
            )
