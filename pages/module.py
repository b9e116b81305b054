"""Module: uptake by module, format, topic, month and sector; who used what; shared events.

First the report's headline figures of the uptake (events, participants, networking formats,
dialogue events), the same numbers as on the Überblick and in the Bericht.

Everyone but staff sees the audited public edition of the report instead (`data.load_report`,
the same rule as the Überblick; a commune also its own uptake and shared events): totals
from the programme start to the data date by module, format and sector, the same cells and the
same "x" as the Überblick and the Bericht; months and topics are not published (mostly 1 or 2
communes per cell, see `definitions.Table.public_rows`).
"""

import polars as pl
import streamlit as st

from dashboard import charts, data, fmt, ui
from dashboard.report import definitions as rd

lang, viewer, filters = ui.page("module.title")
day = data.build_info().datenstand
# the report's headline figures of the uptake, first on the page: text, on screen before the
# charts (and Plotly's script) have loaded
FIGURES = ("veranstaltungen", "teilnehmende", "vernetzungsformate", "dialogveranstaltungen")


def key_figures(report: rd.Report) -> None:
    # two to a row: the labels are the report's, too long for four columns
    ui.figure_metrics(report, FIGURES, [*st.columns(2), *st.columns(2)])
    ui.report_stand(report)
    ui.key_figures_sent()


def measure_choice() -> str:
    return st.radio(
        ui.t("module.measure"),
        ["teilnahmen", "teilnehmende"],
        horizontal=True,
        format_func=lambda v: ui.t(f"module.{v}"),
        key="modules_measure",
    )


def public_bars(frame: pl.DataFrame, hidden: bool, category: str, measure: str, columns: dict,
                file_stem: str, key: str, colour: str = charts.OKABE_ITO[4]) -> None:
    """A chart of the report's cells and its table; hidden cells are null ("x"). A view whose
    cells are all hidden is not drawn: it would list the categories a few communes used."""
    if frame.is_empty():
        st.caption(ui.t("public.no_events"))
    elif hidden:
        st.caption(ui.t("public.all_hidden"))
    else:
        # the table as text with "x" for every viewer of this edition (a commune's tables
        # would show a hidden cell as empty), numbers formatted as on the Überblick
        table, _config = ui.table_view(
            frame.select(pl.col(c).alias(label) for c, label in columns.items()),
            rd.SMALL_CELL_TEXT)
        ui.chart_and_table(charts.hbars(frame, category, measure, lang, colour), table,
                           file_stem, key=key)


def public_page() -> None:
    report = data.load_report(viewer, rd.PROGRAMMSTART, day, day, filters)
    if data.public_selection_small(report):  # 0, 1 or 2 communes: one message, no figure
        ui.small_selection()
        return
    ui.whole_programme_note(filters)
    key_figures(report)
    measure = measure_choice()
    st.caption(ui.t("module.hint"))
    st.caption(ui.t("public.module_scope"))
    st.caption(report.protection.text(lang))
    events = report["veranstaltungen"]
    period = pl.col("quartal") == "Zeitraum"
    names = {f"{m} {name}": f"{m} {ui.value('modul', name)}"
             for m, name in data.programme_rules().module.items()}
    figures = ("teilnahmen", "teilnehmende")
    columns = {"auspraegung": None, **{f: ui.t(f"module.{f}") for f in figures}}
    for column, (merkmal, title, label) in zip(
            st.columns(2), (("Modul", "public.by_module", "module.modul"),
                            ("Format", "module.by_format", "module.format")), strict=True):
        part = events.subset(["auspraegung", *figures], period & (pl.col("merkmal") == merkmal))
        frame = part.frame.with_columns(
            pl.col("auspraegung").replace_strict(names, default=pl.col("auspraegung"))
            if merkmal == "Modul" else pl.col("auspraegung"))
        if merkmal == "Format":
            frame = ui.values(frame, auspraegung="format")
        with column:
            st.subheader(ui.t(title))
            public_bars(frame, all(part.is_hidden(f).all() for f in figures), "auspraegung",
                        measure, columns | {"auspraegung": ui.t(label)},
                        f"nutzung_nach_{merkmal.lower()}", key=f"public_{merkmal}")

    st.subheader(ui.t("module.by_sector"))
    total = events.subset(list(rd.SEKTOREN), period & (pl.col("merkmal") == "Insgesamt"))
    sectors = pl.DataFrame({
        "sektor": [ui.t(f"module.{'ohne_angabe' if s == 'ohne_sektor' else s}")
                   for s in rd.SEKTOREN] if total.frame.height else [],
        "teilnehmende": [total.frame[s][0] for s in rd.SEKTOREN] if total.frame.height else [],
    }, schema={"sektor": pl.String, "teilnehmende": pl.Int64})
    public_bars(sectors, all(total.is_hidden(s).all() for s in rd.SEKTOREN), "sektor",
                "teilnehmende", {"sektor": ui.t("module.sector"),
                                 "teilnehmende": ui.t("module.teilnehmende")},
                "teilnehmende_nach_sektor", key="public_sectors", colour=charts.OKABE_ITO[2])


def staff_aggregates() -> None:
    """The programme team's view: uptake per month, format, topic and sector, unprotected."""
    monthly = data.uptake_by(viewer, filters, "monat", "modul")
    if monthly.is_empty():
        ui.empty_state()
        ui.end_page()
    key_figures(data.load_report(viewer, rd.PROGRAMMSTART, day, day, filters))

    measure = measure_choice()
    st.caption(ui.t("module.hint"))
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
        ui.labelled(sectors, "module", "sektor", "teilnehmende", sektor="sector"),
        "teilnehmende_nach_sektor",
        key="sectors",
    )


# Everyone but staff gets the public edition of the aggregates (as `data.load_report`): a
# commune knows its own part, so unprotected totals would give away the others' by subtraction.
if viewer.is_staff:
    staff_aggregates()
else:
    public_page()
if viewer.role == "public":
    ui.end_page()

used = ui.values(data.uptake_by_kommune(viewer, filters), format="format")
if not used.is_empty():  # per-commune rows: staff see all, a commune its own rows
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
    # one row per commune (11,000 nationally): built and sent only while its box is open
    box = ui.table_box("by_kommune")
    if box:
        with box:
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
st.subheader(ui.t("module.shared"))
if shared.is_empty():
    st.caption(ui.t("module.shared_empty"))
else:
    if not viewer.is_staff:
        st.caption(ui.t("module.shared_own"))
    box = ui.table_box("shared")
    if box:
        with box:
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
                    "teilnehmende" if viewer.is_staff else "eigene_teilnehmende",
                    "kommunen",
                    veranstaltung_id="veranstaltung",
                ),
                "gemeinsame_veranstaltungen",
                key="dl_shared",
            )
