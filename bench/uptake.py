"""Module uptake queries over the view `mart_nutzung_monat` against the stored table it replaced.

    .venv/bin/python bench/uptake.py [--db data/bench/national.duckdb] [--runs 7]

The mart was a table grouped per commune, month, module, format and topic (781,465 groups from
1,000,000 rows nationally); it is a view of the core rows now (issue #16: the build saves the
grouping). This times the page's own query (`data.uptake_sql` over `data._uptake_source`, the
same SQL `uptake_by` runs) for every grouping the pages make, without and with a Land filter,
once over the view and once over a temp table holding the mart as it was stored
(`NUTZUNG_MONAT_REFERENZ`; in memory and uncompressed, which if anything favours the table),
alternating, and checks that both give the same rows. Prints the
median milliseconds per query and the 1-min load average (2 cores).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

import duckdb

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from dashboard.data import _uptake_source, uptake_sql  # noqa: E402
from dashboard.model import NO_FILTERS, Filters  # noqa: E402
from tests.etl.test_marts_same import GROUPINGS, NUTZUNG_MONAT_REFERENZ  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", default=str(ROOT / "data" / "bench" / "national.duckdb"))
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    con = duckdb.connect(args.db, read_only=True)
    con.execute(f"create temp table gespeichert as {NUTZUNG_MONAT_REFERENZ}")
    land = con.execute("select bundesland from mart_kommune group by all order by count(*) desc "
                       "limit 1").fetchone()[0]
    loads = [os.getloadavg()[0]]
    print(f"{args.db}: {con.execute('select count(*) from modulnutzung').fetchone()[0]:,} rows, "
          f"stored form {con.execute('select count(*) from gespeichert').fetchone()[0]:,} rows\n")
    print("| grouping | filter | view (ms) | stored table (ms) | view / table | same rows |")
    print("|---|---|---:|---:|---:|---|")
    ratios = []
    for dims in GROUPINGS:
        for label, filters in (("none", NO_FILTERS), (land, Filters(bundesland=(land,)))):
            source, params = _uptake_source(filters)
            forms = {"view": source, "table": source.replace("mart_nutzung_monat", "gespeichert")}
            times: dict[str, list[float]] = {name: [] for name in forms}
            rows = {}
            for _ in range(args.runs):
                for name, src in forms.items():
                    started = time.perf_counter()
                    rows[name] = con.execute(uptake_sql(src, dims), params).fetchall()
                    times[name].append(time.perf_counter() - started)
            view, table = (statistics.median(times[n]) * 1000 for n in forms)
            ratios.append(view / table)
            print(f"| {', '.join(dims)} | {label} | {view:.0f} | {table:.0f} | "
                  f"{view / table:.2f} | {'yes' if rows['view'] == rows['table'] else 'NO'} |")
    loads.append(os.getloadavg()[0])
    print(f"\nmedian view / table over {len(ratios)} queries: {statistics.median(ratios):.2f} "
          f"(range {min(ratios):.2f}–{max(ratios):.2f}); load {min(loads):.1f}–{max(loads):.1f}")


if __name__ == "__main__":
    main()
