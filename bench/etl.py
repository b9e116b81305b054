"""ETL build time against DuckDB only reading the same input files, at demo and national scale.

    uv run python bench/etl.py [--runs 3] [--skip-national]

The national-scale input (11,000 communes, 1 million uptake rows) is generated once into
data/bench/national/ by the demo generator. Each measurement runs in a fresh process; the
baseline is DuckDB's own CSV reader loading the same four files into tables (German dialect).
Goal from issue #3: ETL ≤ 3× the plain read at national scale, peak memory ≤ 2 GiB.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _measure import median_of  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
NATIONAL = ROOT / "data" / "bench" / "national"
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


def ensure_national() -> Path:
    if not (NATIONAL / "modulnutzung.csv").exists():
        print("Erzeuge nationale Testdaten (11.000 Kommunen, 1 Mio. Zeilen) …", flush=True)
        subprocess.run(
            [
                sys.executable,
                "-m",
                "tools.demo",
                "--kommunen",
                "11000",
                "--events",
                "1000000",
                "--out",
                str(NATIONAL),
            ],
            check=True,
            cwd=ROOT,
        )
    return NATIONAL


def _data_rows(path: Path) -> int:
    with path.open(encoding="utf-8-sig") as f:
        return sum(1 for _ in f) - 1


def bench_scale(label: str, input_dir: Path, runs: int) -> dict:
    rows = sum(_data_rows(input_dir / f"{e}.csv") for e in ENTITIES)
    with tempfile.TemporaryDirectory() as tmp:
        etl = median_of(
            runs,
            [
                sys.executable,
                "-m",
                "etl",
                "build",
                "--input",
                str(input_dir),
                "--output",
                f"{tmp}/etl.duckdb",
                "--max-mb",
                "2048",
            ],
        )
        plain = median_of(
            runs, [sys.executable, "-c", PLAIN_READ, str(input_dir), f"{tmp}/plain.duckdb"]
        )
    return {"scale": label, "rows": rows, "etl": etl, "plain": plain}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--skip-national", action="store_true")
    args = parser.parse_args()
    scales = [("Demo (40 Kommunen)", ROOT / "data" / "demo")]
    if not args.skip_national:
        scales.append(("National (11.000 Kommunen, 1 Mio. Nutzungen)", ensure_national()))
    results = [bench_scale(label, path, args.runs) for label, path in scales]
    print(f"\nMedian of {args.runs} runs, each in a fresh process (wall time, peak RSS)\n")
    print("| scale | input rows | ETL build | DuckDB plain read | ratio | ETL peak memory |")
    print("|---|---:|---:|---:|---:|---:|")
    for r in results:
        print(
            f"| {r['scale']} | {r['rows']:,} | {r['etl'].seconds:.2f} s | "
            f"{r['plain'].seconds:.2f} s | {r['etl'].seconds / r['plain'].seconds:.2f}× | "
            f"{r['etl'].peak_mib:,.0f} MiB |"
        )


if __name__ == "__main__":
    main()
