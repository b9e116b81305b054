"""CSV files of a report, one per table, zipped with the notes: German in the German Excel
dialect (`etl.excel_csv`: `;`, decimal comma, UTF-8 with BOM), English with `,` and a decimal
point (UTF-8 with BOM); text cells are neutralised against formulas in both."""

from __future__ import annotations

import io
import zipfile
from collections.abc import Mapping

import polars as pl

from dashboard.report.definitions import (
    Report,
    ReportTable,
)
from dashboard.report.notes import (
    hinweise_text,
)
from etl.excel_csv import neutralise_expr, to_excel_csv_bytes

# ---- CSV -----------------------------------------------------------------------------------------


def csv_bytes(rt: ReportTable, lang: str = "de") -> bytes:
    """One report table as CSV in `lang` (labels as header; hidden cells as `x`)."""
    labels = {c.name: c.label(lang) for c in rt.table.columns}
    markers = rt.markers()
    hidden = markers.rename(labels, strict=False) if markers is not None else None
    if lang == "de":
        return to_excel_csv_bytes(rt.labelled("de"), hidden)
    frame = rt.labelled(lang)
    text = frame.select(
        (pl.col(n).round(4).cast(pl.String) if t.is_float()
         else pl.col(n).cast(pl.String) if t.is_numeric()
         else neutralise_expr(pl.col(n).cast(pl.String))).alias(n)
        for n, t in frame.schema.items())
    if hidden is not None:
        text = text.with_columns(
            pl.when(pl.lit(hidden.get_column(c)).is_not_null())
            .then(pl.lit(hidden.get_column(c))).otherwise(pl.col(c)).alias(c)
            for c in hidden.columns if c in text.columns)
    return "\ufeff".encode() + text.write_csv(quote_style="necessary").encode("utf-8")


def csv_files(report: Report, lang: str = "de") -> dict[str, bytes]:
    """File name → CSV bytes, one per report table."""
    return {report.file_name(key, "csv", lang): csv_bytes(rt, lang)
            for key, rt in report.tables.items()}


def notes_name(lang: str = "de") -> str:
    return "hinweise.txt" if lang == "de" else "notes.txt"


def csv_zip(report: Report, files: Mapping[str, bytes] | None = None, lang: str = "de") -> bytes:
    """All CSV files plus `hinweise.txt` (`notes.txt`) in one ZIP archive."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, content in (files or csv_files(report, lang)).items():
            zf.writestr(name, content)
        zf.writestr(notes_name(lang), "\ufeff" + hinweise_text(report, lang))
    return buffer.getvalue()
