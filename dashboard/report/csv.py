"""CSV files of a report in the German Excel dialect (`etl.excel_csv`: `;`, decimal comma, UTF-8
with BOM), one per table, zipped with the notes."""

from __future__ import annotations

import io
import zipfile
from collections.abc import Mapping

from dashboard.report.definitions import (
    Report,
    ReportTable,
)
from dashboard.report.notes import (
    hinweise_text,
)
from etl.excel_csv import to_excel_csv_bytes

# ---- CSV -----------------------------------------------------------------------------------------


def csv_bytes(rt: ReportTable) -> bytes:
    """One report table as German Excel CSV (labels as header; hidden cells as `x`)."""
    labels = {c.name: c.label_de for c in rt.table.columns}
    markers = rt.markers()
    hidden = markers.rename(labels, strict=False) if markers is not None else None
    return to_excel_csv_bytes(rt.labelled("de"), hidden)



def csv_files(report: Report) -> dict[str, bytes]:
    """File name → CSV bytes, one per report table."""
    return {report.file_name(key, "csv"): csv_bytes(rt)
            for key, rt in report.tables.items()}


def csv_zip(report: Report, files: Mapping[str, bytes] | None = None) -> bytes:
    """All CSV files plus `hinweise.txt` in one ZIP archive."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, content in (files or csv_files(report)).items():
            zf.writestr(name, content)
        zf.writestr("hinweise.txt", "\ufeff" + hinweise_text(report))
    return buffer.getvalue()
