"""Bisect page for bench/first_figure.py: hello-world plus one ingredient of our pages at a time.

`?v=<variant>` picks what is added after (or, for the sidebar, around) the first metric; the
ingredients are the ones Überblick uses (dashboard/ui.py), with data of the demo's size.
"""

import sys
from pathlib import Path

import plotly.graph_objects as go
import polars as pl
import streamlit as st

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from dashboard import ui  # noqa: E402

VARIANT = st.query_params.get("v", "hello")
OPTIONS = {"Bundesland": [f"Land {i}" for i in range(16)], "Art": ["a", "b", "c", "d"],
           "Größe": ["s", "m", "l", "xl", "xxl"], "Status": [f"s{i}" for i in range(6)],
           "Start": [f"202{y}-Q{q}" for y in range(6) for q in range(1, 5)]}
FRAME = pl.DataFrame({"Status": [f"s{i}" for i in range(6)], "Anzahl": list(range(6))})


def chart() -> go.Figure:
    return go.Figure(go.Bar(x=FRAME["Status"].to_list(), y=FRAME["Anzahl"].to_list()))


def table(i: int, deferred: bool = False) -> None:
    st.dataframe(FRAME, hide_index=True, key=f"t{i}")
    csv = (lambda: FRAME.write_csv()) if deferred else FRAME.write_csv()
    st.download_button("CSV", csv, file_name="x.csv", key=f"d{i}")




def pills() -> None:
    for label, values in OPTIONS.items():
        st.sidebar.pills(label, values, selection_mode="multi", key=f"p_{label}")


if VARIANT in ("pills", "full", "lazy"):
    pills()
st.title("Hello")
if VARIANT == "date":  # Überblick's Stichtag date input before the first metric
    st.date_input("Stichtag", key="stichtag")
st.metric("Hello", 1)
if VARIANT in ("full", "lazy", "lazy_late", "lazy_nopills", "eager_ui", "ui", "ui_pause"):
    for i in range(5):
        st.metric(f"Kennzahl {i}", i)
if VARIANT.endswith("_pause"):  # the key figures reach the browser before any chart
    import time
    time.sleep(float(st.query_params.get("pause", "0.15")))
if VARIANT in ("chart", "chart_pause"):
    st.plotly_chart(chart())
elif VARIANT == "tabs":
    a, b = st.tabs(["Diagramm", "Tabelle"])
    a.plotly_chart(chart())
elif VARIANT == "table":
    table(0)
elif VARIANT == "full":
    for i in range(2):
        a, b = st.tabs(["Diagramm", "Tabelle"])
        a.plotly_chart(chart(), key=f"c{i}")
        with b:
            table(i)
elif VARIANT in ("lazy", "lazy_late", "lazy_nopills"):
    for i in range(2):
        a, b = st.tabs(["Diagramm", "Tabelle"], key=f"tabs{i}", on_change="rerun")
        if a.open:
            a.plotly_chart(chart(), key=f"c{i}")
        if b.open:
            with b:
                table(i, deferred=True)
elif VARIANT == "eager_ui":  # the project's helpers as before: every table sent with the page
    for i in range(2):
        a, b = st.tabs([ui.t("common.chart"), ui.t("common.table")])
        a.plotly_chart(chart(), key=f"c{i}")
        with b:
            ui.table_with_download(FRAME, "x", key=f"d{i}")
elif VARIANT in ("ui", "ui_pause"):  # the project's `ui.chart_and_table`: tables on demand
    for i in range(2):
        ui.chart_and_table(chart(), FRAME, "x", key=f"k{i}")
# the sidebar filters sent after the content
if VARIANT in ("lazy_late", "eager_ui", "ui", "ui_pause"):
    pills()
