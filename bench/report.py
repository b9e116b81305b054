"""Report exports (issue #6) at demo and national scale, against writing the same tables as CSV.

    uv run python bench/report.py [--runs 3] [--skip-national]

Each run is a fresh process (so the Chromium start of kaleido is included, as in a scheduled
`python -m dashboard.report`) that reads all report tables through the data layer for the whole
programme (Stichtag = data date) and writes the full internal export set: XLSX, CSV files and
ZIP, PNG and SVG of every chart, PDF. The baseline is the least any export costs: the same
query plus writing the tables with polars' `write_csv`. The national input (11,000 communes,
1 million uptake rows) is generated once into data/bench/national/ and built into
data/bench/national.duckdb; both are reused when present.
Goal from issue #6: the full set at national scale < 30 s, of which XLSX < 10 s.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
NATIONAL = ROOT / "data" / "bench" / "national"
NATIONAL_DB = ROOT / "data" / "bench" / "national.duckdb"
STEPS = ("query", "xlsx", "csv", "charts", "pdf", "total", "baseline")


def _child(db: Path, out: Path) -> dict[str, float]:
    """One measured run (in a fresh process): query, exports, baseline."""
    os.environ["WK_DB"] = str(db)
    from dashboard import data
    from dashboard.report import export as report_export
    from dashboard.report.definitions import PROGRAMMSTART

    started = time.perf_counter()
    info = data.build_info()
    report = data.load_report(data.STAFF, PROGRAMMSTART, info.datenstand, info.datenstand)
    seconds = {"query": time.perf_counter() - started}
    result = report_export.export_all(report, out / "export")
    seconds.update(result.seconds)
    seconds["total"] += seconds["query"]
    baseline = out / "baseline"
    baseline.mkdir()
    t = time.perf_counter()
    for key, table in report.tables.items():
        table.frame.write_csv(baseline / f"{key}.csv", separator=";")
    seconds["baseline"] = seconds["query"] + time.perf_counter() - t
    seconds["rows"] = sum(t.frame.height for t in report.tables.values())
    return seconds


def ensure_national_db() -> Path:
    """Generate the national input and build it, unless a build with the report macros exists."""
    if not (NATIONAL / "modulnutzung.csv").exists():
        print("Erzeuge nationale Testdaten (11.000 Kommunen, 1 Mio. Zeilen) …", flush=True)
        subprocess.run([sys.executable, "-m", "tools.demo", "--kommunen", "11000", "--events",
                        "1000000", "--out", str(NATIONAL)], check=True, cwd=ROOT)
    if not _has_report_macros(NATIONAL_DB) or _older_than_inputs(NATIONAL_DB):
        print(f"Baue {NATIONAL_DB.relative_to(ROOT)} …", flush=True)
        subprocess.run([sys.executable, "-m", "etl", "build", "--input", str(NATIONAL),
                        "--output", str(NATIONAL_DB), "--max-mb", "2048"], check=True, cwd=ROOT,
                       stdout=subprocess.DEVNULL)
    return NATIONAL_DB


def _has_report_macros(db: Path) -> bool:
    if not db.exists():
        return False
    import duckdb

    con = duckdb.connect(str(db), read_only=True)
    try:
        return con.execute("select count(*) from duckdb_functions() "
                           "where function_name = 'kennzahl_ueberblick'").fetchone()[0] > 0
    finally:
        con.close()


def _older_than_inputs(db: Path) -> bool:
    sql = max(p.stat().st_mtime for p in (ROOT / "etl" / "sql").rglob("*.sql"))
    inputs = max(p.stat().st_mtime for p in NATIONAL.glob("*.csv"))
    return db.stat().st_mtime < max(sql, inputs)


def measure(db: Path, runs: int) -> dict[str, float]:
    """Median seconds per step over `runs` fresh processes."""
    results = []
    for _ in range(runs):
        with tempfile.TemporaryDirectory() as tmp:
            proc = subprocess.run([sys.executable, __file__, "--child", str(db), tmp],
                                  check=True, cwd=ROOT, capture_output=True, text=True)
            results.append(json.loads(proc.stdout.strip().splitlines()[-1]))
    return {k: statistics.median(r[k] for r in results) for k in results[0]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--skip-national", action="store_true")
    parser.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        sys.path.insert(0, str(ROOT))
        print(json.dumps(_child(Path(args.child[0]), Path(args.child[1]))))
        return
    with tempfile.TemporaryDirectory() as tmp:
        demo_db = Path(tmp) / "demo.duckdb"
        subprocess.run([sys.executable, "-m", "etl", "build", "--input", "data/demo", "--output",
                        str(demo_db)], check=True, cwd=ROOT, stdout=subprocess.DEVNULL)
        scales = [("Demo (40 Kommunen, 294 Nutzungen)", demo_db)]
        if not args.skip_national:
            scales.append(("National (11.000 Kommunen, 1 Mio. Nutzungen)", ensure_national_db()))
        rows = [(label, measure(db, args.runs)) for label, db in scales]
    print(f"\nMedian of {args.runs} runs, each in a fresh process (seconds; total = query + "
          "all exports, incl. the Chromium start)\n")
    print("| scale | report rows | query | XLSX | CSV + ZIP | charts PNG+SVG | PDF | total "
          "| baseline: query + write_csv | total / baseline |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for label, s in rows:
        print(f"| {label} | {s['rows']:.0f} | {s['query']:.2f} | {s['xlsx']:.2f} | "
              f"{s['csv']:.2f} | {s['charts']:.2f} | {s['pdf']:.2f} | **{s['total']:.2f}** | "
              f"{s['baseline']:.2f} | {s['total'] / s['baseline']:,.1f}× |")
    print("\nGoal (national): total < 30 s, XLSX < 10 s.")


if __name__ == "__main__":
    main()
