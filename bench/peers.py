"""Peer engine speed and group quality at demo (40) and national scale (11,000 communes).

    uv run python bench/peers.py [--runs 30] [--skip-national]

Demo: `data/demo` built into a temporary database. National: the 11,000-commune input in
data/bench/national/ (made once by `python -m tools.demo --kommunen 11000 --events 1000000`, shared
with bench/etl.py), built once into data/bench/national.duckdb. The features come from the real
mart `mart_peer_merkmale`, so the bench measures what the page gets.

Timings (in-process, median over several communes/runs):
- suggestions for one commune (`peers.suggest`, top 5 with reasons) against a baseline that does
  the least any vectorised matcher must do: a plain numpy haversine from one commune to all
  others plus a top-5 `argpartition`;
- the same through the data layer (`data.peer_suggestions`, cached features, contacts, policy);
- a full group split (sizes 4–6, all topics and one topic) against a naive split of the communes
  in key order into the same sizes; quality figures for both (shared-priority pairs per group,
  distinct Länder and experience levels per group).
Goals from issue #5: one commune's suggestions < 50 ms and groups for 11,000 < 10 s at national
scale.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import duckdb
import numpy as np
import polars as pl

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from dashboard import data, peers  # noqa: E402

NATIONAL = ROOT / "data" / "bench" / "national"
NATIONAL_DB = ROOT / "data" / "bench" / "national.duckdb"
TOPIC = "Kommunikation und Konfliktmanagement"


def _build(input_dir: Path, output: Path) -> Path:
    subprocess.run([sys.executable, "-m", "etl", "build", "--input", str(input_dir), "--output",
                    str(output)], check=True, cwd=ROOT, stdout=subprocess.DEVNULL)
    return output


def national_db() -> Path:
    if not (NATIONAL / "selbstcheck.csv").exists():
        print("Erzeuge nationale Testdaten (11.000 Kommunen, 1 Mio. Zeilen) …", flush=True)
        subprocess.run([sys.executable, "-m", "tools.demo", "--kommunen", "11000", "--events",
                        "1000000", "--out", str(NATIONAL)], check=True, cwd=ROOT)
    newest_input = max(p.stat().st_mtime for p in NATIONAL.iterdir())
    if not NATIONAL_DB.exists() or NATIONAL_DB.stat().st_mtime < newest_input:
        print("Baue data/bench/national.duckdb …", flush=True)
        _build(NATIONAL, NATIONAL_DB)
    return NATIONAL_DB


def _ms(fn, *args, **kwargs) -> float:
    started = time.perf_counter()
    fn(*args, **kwargs)
    return (time.perf_counter() - started) * 1000


def baseline_nearest(f: peers.PeerFeatures, i: int, n: int = 5) -> np.ndarray:
    """The least a vectorised matcher does: distances from one commune to all, top n."""
    d = peers.haversine_km(f.lat[i], f.lon[i], f.lat, f.lon)
    d[i] = np.inf
    top = np.argpartition(d, n)[:n]
    return top[np.argsort(d[top])]


def naive_groups(f: peers.PeerFeatures, ids: list[str], size_min: int, size_max: int
                 ) -> peers.PeerGroups:
    """Communes in key order cut into the same sizes: no matching at all."""
    ordered = sorted(ids)
    sizes = peers.group_sizes(len(ordered), size_min, size_max)
    gruppe = np.repeat(np.arange(1, len(sizes) + 1), sizes)
    members = pl.DataFrame({"gruppe": gruppe, "kommune_id": ordered})
    return peers.PeerGroups(members=members, groups=pl.DataFrame())


def bench_scale(label: str, db: Path, runs: int) -> dict:
    os.environ["WK_DB"] = str(db)
    with duckdb.connect(str(db), read_only=True) as con:
        frame = con.sql("select * from mart_peer_merkmale order by kommune_id").pl()
    encode = statistics.median(_ms(peers.PeerFeatures.from_frame, frame) for _ in range(5))
    f = peers.PeerFeatures.from_frame(frame)
    rng = np.random.default_rng(5)
    sample = rng.choice(f.size, size=min(runs, f.size), replace=False)
    ids = [f.ids[i] for i in sample]
    suggest = statistics.median(_ms(peers.suggest, f, k, n=5) for k in ids)
    topic = statistics.median(_ms(peers.suggest, f, k, n=5, topic=TOPIC, max_km=100)
                              for k in ids)
    base = statistics.median(_ms(baseline_nearest, f, int(i)) for i in sample)
    data.peer_suggestions(data.STAFF, ids[0])  # warm the per-build feature cache
    layer = statistics.median(_ms(data.peer_suggestions, data.STAFF, k, n=5) for k in ids)

    eligible = frame.filter(~pl.col("status").is_in(list(peers.DEFAULT_WEIGHTS.exclude_status)))
    selection = eligible["kommune_id"].to_list()
    group_runs = 3 if f.size < 1000 else 1
    started = time.perf_counter()
    for _ in range(group_runs):
        groups = peers.build_groups(f, selection, size_min=4, size_max=6)
    group_s = (time.perf_counter() - started) / group_runs
    started = time.perf_counter()
    topic_groups = peers.build_groups(f, selection, topic=TOPIC, size_min=4, size_max=6)
    topic_group_s = time.perf_counter() - started
    started = time.perf_counter()
    naive = naive_groups(f, selection, 4, 6)
    naive_s = time.perf_counter() - started
    return {
        "label": label, "n": f.size, "selected": len(selection), "encode": encode,
        "suggest": suggest, "topic": topic, "base": base, "layer": layer,
        "groups": group_s, "topic_groups": topic_group_s, "naive": naive_s,
        "k": groups.groups.height,
        "q_engine": peers.group_objective(f, groups),
        "q_naive": peers.group_objective(f, naive),
        "q_topic": peers.group_objective(f, topic_groups, TOPIC),
        "q_topic_naive": peers.group_objective(f, naive, TOPIC),
        "topic_share": _topic_share(f, topic_groups),
        "topic_share_naive": _topic_share(f, naive),
    }


def _topic_share(f: peers.PeerFeatures, groups: peers.PeerGroups) -> float:
    """Of the communes that prioritise the topic, the share in a group where at least half the
    members prioritise it too (how well the split brings the topic's communes together)."""
    t = peers.FIELD_INDEX[TOPIC]
    m = groups.members.select("gruppe", "kommune_id").with_columns(
        pl.col("kommune_id").replace_strict(f.index, return_dtype=pl.Int64).alias("i"))
    m = m.with_columns(pl.Series("topic", f.prio[m["i"].to_numpy(), t]))
    m = m.with_columns(pl.col("topic").cast(pl.Float64).mean().over("gruppe").alias("share"))
    wanting = m.filter(pl.col("topic"))
    return (wanting["share"] >= 0.5).mean() if wanting.height else 0.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=30, help="communes sampled for timings")
    parser.add_argument("--skip-national", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        scales = [("Demo", _build(ROOT / "data" / "demo", Path(tmp) / "demo.duckdb"))]
        if not args.skip_national:
            scales.append(("National", national_db()))
        results = [bench_scale(label, db, args.runs) for label, db in scales]

    print(f"\nSuggestions: median over {args.runs} sampled communes (top 5), in-process\n")
    print("| scale | communes | `suggest` | baseline: numpy haversine + top 5 | ratio | "
          "with topic + 100 km | via `data.peer_suggestions` | encode features (once per "
          "build) |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    for r in results:
        print(f"| {r['label']} | {r['n']:,} | {r['suggest']:.2f} ms | {r['base']:.3f} ms | "
              f"{r['suggest'] / r['base']:.0f}× | {r['topic']:.2f} ms | {r['layer']:.2f} ms | "
              f"{r['encode']:.1f} ms |")
    print("\nGroups of 4–6 for all communes still in the programme; naive = key order cut into "
          "the same sizes\n")
    print("| scale | communes | groups | `build_groups` all topics | by topic | naive split | "
          "shared-priority pairs / group (engine vs naive) | Länder / group | experience levels"
          " / group | topic communes in a group that is ≥ half topic (by topic vs naive) |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for r in results:
        qe, qn = r["q_engine"], r["q_naive"]
        print(f"| {r['label']} | {r['selected']:,} | {r['k']:,} | {r['groups']:.2f} s | "
              f"{r['topic_groups']:.2f} s | {r['naive'] * 1000:.1f} ms | "
              f"{qe['shared_pairs']:.1f} vs {qn['shared_pairs']:.1f} | "
              f"{qe['laender']:.1f} vs {qn['laender']:.1f} | "
              f"{qe['levels']:.1f} vs {qn['levels']:.1f} | "
              f"{r['topic_share']:.0%} vs {r['topic_share_naive']:.0%} |")


if __name__ == "__main__":
    main()
