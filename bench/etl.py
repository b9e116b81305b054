"""ETL build time against DuckDB only reading the same input files, at demo and national scale.

    .venv/bin/python bench/etl.py [--runs 3] [--skip-national] [--large] [--before DIR]

The national-scale input (11,000 communes, 1 million uptake rows) is generated once into
data/bench/national/ by the demo generator; `--large` adds a 4.5 million row case
(data/bench/national45/). Each measurement runs in a fresh process, ETL and plain read
interleaved (ETL, plain, ETL, plain, …) so a load change on the shared machine hits both; the
load average is printed with every scale, and CPU seconds (user + sys), steadier than wall time
when others share the machine. The baseline is DuckDB's own CSV reader loading the
same four files into tables (German dialect).
`--before DIR` also times another version of the ETL in the same rounds (before, after, plain
read), so an improvement shows regardless of the machine's load; DIR holds that version's `etl`
package, e.g. `mkdir /tmp/before && git archive main etl | tar -x -C /tmp/before`.
Goals (issue #16): ETL ≤ 2.5× the plain read; peak memory ≤ 1 GiB at 1 M rows, ≤ 2 GiB at 4.5 M.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _measure import measure  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "data" / "bench"
ENTITIES = ("kommunen", "meilensteine", "modulnutzung", "selbstcheck")

PLAIN_READ = f"""
import duckdb, sys
con = duckdb.connect(sys.argv[2])
for name in {ENTITIES!r}:
    con.execute(
        f"create or replace table {{name}} as select * "
        f"from read_csv('{{sys.argv[1]}}/{{name}}.csv', delim=';', "
        " header=true, decimal_separator=',', dateformat='%d.%m.%Y', "
        "types={{'kommune_id': 'VARCHAR'}})"
    )
con.close()
"""


def ensure_input(folder: str, events: int) -> Path:
    path = BENCH / folder
    if not (path / "modulnutzung.csv").exists():
        print(f"Erzeuge Testdaten (11.000 Kommunen, {events:,} Zeilen) …", flush=True)
        subprocess.run(
            [sys.executable, "-m", "tools.demo", "--kommunen", "11000", "--events",
             str(events), "--out", str(path)],
            check=True,
            cwd=ROOT,
        )
    return path


def _data_rows(path: Path) -> int:
    with path.open(encoding="utf-8-sig") as f:
        return sum(1 for _ in f) - 1


def bench_scale(label: str, input_dir: Path, runs: int, before: Path | None = None) -> dict:
    rows = sum(_data_rows(input_dir / f"{e}.csv") for e in ENTITIES)
    etl, plain, old, loads = [], [], [], []
    with tempfile.TemporaryDirectory() as tmp:
        etl_cmd = [sys.executable, "-m", "etl", "build", "--input", str(input_dir),
                   "--output", f"{tmp}/etl.duckdb", "--max-mb", "2048"]
        plain_cmd = [sys.executable, "-c", PLAIN_READ, str(input_dir), f"{tmp}/plain.duckdb"]
        for _ in range(runs):
            loads.append(os.getloadavg()[0])
            if before is not None:
                # the other version's package instead of this one (-P: not the working
                # directory's); same interpreter and input
                old.append(measure([sys.executable, "-P", *etl_cmd[1:]],
                                   env={"PYTHONPATH": str(before)}))
            etl.append(measure(etl_cmd))
            plain.append(measure(plain_cmd))
    ratios = [e.seconds / p.seconds for e, p in zip(etl, plain, strict=True)]
    if before is not None:
        old_ratios = [o.seconds / p.seconds for o, p in zip(old, plain, strict=True)]
        per_round = [e.seconds / o.seconds for e, o in zip(etl, old, strict=True)]
        print(f"{label}: before {statistics.median(m.seconds for m in old):.2f} s "
              f"({statistics.median(old_ratios):.2f}×, peak {max(m.peak_mib for m in old):,.0f} "
              f"MiB), after {statistics.median(m.seconds for m in etl):.2f} s "
              f"({statistics.median(ratios):.2f}×), after/before per round "
              f"{statistics.median(per_round):.2f}",
              flush=True)
        print(f"{label}: CPU s (user + sys) per run: before "
              f"{', '.join(f'{m.cpu_seconds:.2f}' for m in old)}; after "
              f"{', '.join(f'{m.cpu_seconds:.2f}' for m in etl)}; plain read "
              f"{', '.join(f'{m.cpu_seconds:.2f}' for m in plain)}", flush=True)
    return {
        "scale": label,
        "rows": rows,
        "etl": statistics.median(m.seconds for m in etl),
        "plain": statistics.median(m.seconds for m in plain),
        "ratio": statistics.median(ratios),
        "peak": max(m.peak_mib for m in etl),
        "cpu": statistics.median(m.cpu_seconds for m in etl),
        "plain_cpu": statistics.median(m.cpu_seconds for m in plain),
        "plain_peak": max(m.peak_mib for m in plain),
        "load": f"{min(loads):.1f}–{max(loads):.1f}",
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--skip-national", action="store_true")
    parser.add_argument("--large", action="store_true", help="also 4.5 million uptake rows")
    parser.add_argument("--skip-demo", action="store_true")
    parser.add_argument("--before", type=Path, help="folder with another version's etl package")
    args = parser.parse_args()
    scales = [] if args.skip_demo else [("Demo (40 Kommunen)", ROOT / "data" / "demo")]
    if not args.skip_national:
        scales.append(("National (11.000 Kommunen, 1 Mio. Nutzungen)",
                       ensure_input("national", 1_000_000)))
    if args.large:
        scales.append(("National (11.000 Kommunen, 4,5 Mio. Nutzungen)",
                       ensure_input("national45", 4_500_000)))
    results = [bench_scale(label, path, args.runs, args.before) for label, path in scales]
    print(f"\n{args.runs} interleaved runs per scale, each in a fresh process; median wall time, "
          "median of the per-pair ratios, largest peak RSS; 1-min load average at each pair "
          f"({os.cpu_count()} cores)\n")
    print("| scale | input rows | ETL build | DuckDB plain read | ratio | CPU s ETL / plain "
          "| ETL peak memory | plain peak | load |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---|")
    for r in results:
        print(
            f"| {r['scale']} | {r['rows']:,} | {r['etl']:.2f} s | {r['plain']:.2f} s | "
            f"{r['ratio']:.2f}× | {r['cpu']:.2f} / {r['plain_cpu']:.2f} "
            f"({r['cpu'] / r['plain_cpu']:.2f}×) | {r['peak']:,.0f} MiB | "
            f"{r['plain_peak']:,.0f} MiB | {r['load']} |"
        )


if __name__ == "__main__":
    main()
