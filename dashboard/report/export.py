"""All files of a report at once (command line, scheduled runs)."""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from pathlib import Path

from dashboard.report.charts import Progress, chart_files
from dashboard.report.csv import csv_files, csv_zip
from dashboard.report.definitions import Report
from dashboard.report.pdf import pdf_bytes
from dashboard.report.xlsx import xlsx_bytes

# ---- everything at once --------------------------------------------------------------------------


@dataclass
class ExportResult:
    """Files written and seconds per step (`xlsx`, `csv`, `charts`, `pdf`, `total`)."""

    files: list[Path]
    seconds: dict[str, float]


def _write(path: Path, content: bytes) -> Path:
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_bytes(content)
    os.replace(tmp, path)  # a scheduled run never leaves a half-written file behind
    return path


def export_all(report: Report, out_dir: Path, progress: Progress = lambda _m: None,
               lang: str = "de") -> ExportResult:
    """Write XLSX, CSV files and ZIP, PNG/SVG charts and the PDF brief, all in `lang`, into
    `out_dir`."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    files: list[Path] = []
    seconds: dict[str, float] = {}
    started = time.perf_counter()

    t = time.perf_counter()
    name = report.file_name("kennzahlen", "xlsx", lang)
    files.append(_write(out_dir / name, xlsx_bytes(report, lang)))
    seconds["xlsx"] = time.perf_counter() - t
    progress(f"XLSX: {name} ({seconds['xlsx']:.1f} s)")

    t = time.perf_counter()
    csvs = csv_files(report, lang)
    files += [_write(out_dir / n, content) for n, content in csvs.items()]
    name = report.file_name("kennzahlen_csv", "zip", lang)
    files.append(_write(out_dir / name, csv_zip(report, csvs, lang)))
    seconds["csv"] = time.perf_counter() - t
    progress(f"CSV: {len(csvs)} Tabellen und {name} ({seconds['csv']:.1f} s)")

    t = time.perf_counter()
    rendered = chart_files(report, progress=lambda m: progress(f"  {m}"), lang=lang)
    files += [_write(out_dir / n, content) for n, content in rendered.files.items()]
    seconds["charts"] = time.perf_counter() - t
    progress(f"Diagramme: {len(rendered.files)} Dateien PNG/SVG ({seconds['charts']:.1f} s)")

    t = time.perf_counter()
    name = report.file_name("kurzbericht", "pdf", lang)
    files.append(_write(out_dir / name, pdf_bytes(report, rendered.png, lang)))
    seconds["pdf"] = time.perf_counter() - t
    progress(f"PDF: {name} ({seconds['pdf']:.1f} s)")

    seconds["total"] = time.perf_counter() - started
    return ExportResult(files, seconds)
