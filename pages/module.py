"""Module: uptake by module, format, topic, month and sector; who used what; shared events."""

import polars as pl
import streamlit as st

from dashboard import charts, data, fmt, ui

lang, viewer, filters = ui.page("module.title")

monthly = data.uptake_by(viewer, filters, "monat", "modul")
if monthly.is_empty():
    ui.empty_state()
    st.stop()

measure = st.radio(
    ui.t("module.measure"),
    ["teilnahmen", "teilnehmende"],
    horizontal=True,
    format_func=lambda v: ui.t(f"module.{v}"),
    key="modules_measure",
)
st.caption(ui.t("module.hint"))
if viewer.role == "public":
    st.caption(ui.t("auth.suppressed"))
label = ui.t(f"module.{measure}")
module_names = {m: f"{m} {ui.value('modul', name)}"
                for m, name in data.programme_rules().module.items()}

st.subheader(ui.t("module.by_month"))
ui.chart_and_table(
    charts.monthly_by_module(monthly, measure, lang, module_names, label, ui.t("module.monat")),
    ui.labelled(monthly, "module", "monat", "modul", "teilnahmen", "teilnehmende"),
    "nutzung_je_monat",
    key="monthly",
)

left, right = st.columns(2)
for column, dim, title in (
    (left, "format", "module.by_format"),
    (right, "thema", "module.by_topic"),
):
    with column:
        st.subheader(ui.t(title))
        frame = ui.values(data.uptake_by(viewer, filters, dim), **{dim: dim})
        ui.chart_and_table(
            charts.hbars(frame, dim, measure, lang),
            frame.select(
                pl.col(dim).alias(ui.t(f"module.{dim}")),
                pl.col("teilnahmen").alias(ui.t("module.teilnahmen")),
                pl.col("teilnehmende").alias(ui.t("module.teilnehmende")),
            ),
            f"nutzung_nach_{dim}",
            key=f"by_{dim}",
        )

st.subheader(ui.t("module.by_sector"))
by_module = data.uptake_by(viewer, filters, "modul")
sectors = (
    by_module.select(
        *(pl.col(s).sum().alias(s) for s in data.SECTOR_COLUMNS),
        (
            pl.col("teilnehmende").sum()
            - pl.sum_horizontal(pl.col(s).sum() for s in data.SECTOR_COLUMNS)
        ).alias("ohne_angabe"),
    )
    .unpivot(variable_name="sektor", value_name="teilnehmende")
    .pipe(lambda frame: frame.with_columns(fmt.texts(frame["sektor"],
                                                     lambda s: ui.t(f"module.{s}"))))
)
ui.chart_and_table(
    charts.hbars(sectors, "sektor", "teilnehmende", lang, charts.OKABE_ITO[2]),
    sectors.rename(
        {"sektor": ui.t("module.sector"), "teilnehmende": ui.t("module.teilnehmende")}
    ),
    "teilnehmende_nach_sektor",
    key="sectors",
)

used = ui.values(data.uptake_by_kommune(viewer, filters), format="format")
if not used.is_empty():  # per-commune rows: staff see all, a commune its own, the public none
    st.subheader(ui.t("module.by_kommune"))
    st.caption(ui.t("module.by_kommune_hint"))
    matrix = (
        used.pivot(
            on="format",
            index=["kommune_id", "name"],
            values="teilnahmen",
            aggregate_function="sum",
            sort_columns=True,
        )
        .fill_null(0)
        .sort("name")
    )
    ui.table_with_download(
        matrix.select(
            pl.col("name").alias(ui.t("module.name")),
            pl.col("kommune_id").alias("AGS"),
            pl.exclude("kommune_id", "name"),
        ),
        "nutzung_je_kommune",
        key="dl_by_kommune",
        link_profiles=True,
    )

shared = data.shared_events(viewer, filters)
if viewer.role != "public":
    st.subheader(ui.t("module.shared"))
    if shared.is_empty():
        st.caption(ui.t("module.shared_empty"))
    else:
        ui.table_with_download(
            ui.labelled(
                ui.values(shared, format="format", thema="thema"),
                "module",
                "datum",
                "veranstaltung_id",
                "modul",
                "format",
                "thema",
                "kommunen_anzahl",
                "teilnehmende",
                "kommunen",
                veranstaltung_id="veranstaltung",
            ),
            "gemeinsame_veranstaltungen",
            key="dl_shared",
        )
