"""Peer engine speed and group quality at demo (40) and national scale (11,000 communes).

    uv run python bench/peers.py [--runs 30] [--skip-national] [--national-db PATH]

Demo: `data/demo` built into a temporary database. National: the 11,000-commune input in
data/bench/national/ (made once by `python -m etl.demo --kommunen 11000 --events 1000000`, shared
with bench/etl.py), built once into data/bench/national.duckdb (or an existing national build
given with `--national-db`). The features come from the real mart `mart_peer_merkmale` plus an
app store (temporary file) holding published offers and needs for every commune: the demo plan
of dashboard/store/demo.py (needs from the priorities, one or two offers, practice cards), about
three entries per commune, so the bench measures what the page gets.

Timings (in-process, median over several communes/runs, interleaved with the baseline):
- one commune's own suggestions (`for_kommune` view + `peers.suggest`, top 5 with reasons, from
  published data only) against a baseline that does the least any vectorised matcher must do: a
  plain numpy haversine from one commune to all others plus a top-5 `argpartition`;
- the staff view (Selbstcheck included) on the full features;
- the commune's suggestions through the data layer (`data.peer_suggestions` as a commune:
  cached features, store revision check, contacts, policy);
- a full group split (sizes 4–6, all topics and one topic) against a naive split of the communes
  in key order into the same sizes; quality figures for both (shared-priority pairs per group,
  distinct Länder and experience levels per group).
Goals: one commune's suggestions < 50 ms at 11,000 communes with published offers and needs
(issue #14), groups for 11,000 < 10 s (issue #5).
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
from dashboard.store import austausch, demo  # noqa: E402

NATIONAL = ROOT / "data" / "bench" / "national"
NATIONAL_DB = ROOT / "data" / "bench" / "national.duckdb"
TOPIC = "Kommunikation und Konfliktmanagement"


def _build(input_dir: Path, output: Path) -> Path:
    subprocess.run([sys.executable, "-m", "etl", "build", "--input", str(input_dir), "--output",
                    str(output), "--max-mb", "2048"], check=True, cwd=ROOT,
                   stdout=subprocess.DEVNULL)
    return output


def national_db() -> Path:
    if not (NATIONAL / "selbstcheck.csv").exists():
        print("Erzeuge nationale Testdaten (11.000 Kommunen, 1 Mio. Zeilen) …", flush=True)
        subprocess.run([sys.executable, "-m", "etl.demo", "--kommunen", "11000", "--events",
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


def _interleaved(pairs: list[tuple], runs: int = 1) -> tuple[float, float]:
    """Median ms of `fn` and of `base` called alternately (load changes hit both alike)."""
    a, b = [], []
    for _ in range(runs):
        for fn, base in pairs:
            a.append(_ms(fn))
            b.append(_ms(base))
    return statistics.median(a), statistics.median(b)


def bench_scale(label: str, db: Path, runs: int, store: Path) -> dict:
    os.environ["WK_DB"] = str(db)
    os.environ["WK_STORE"] = str(store)
    os.environ.setdefault("WK_AUDIT", str(store.with_suffix(".audit.jsonl")))
    with duckdb.connect(str(db), read_only=True) as con:
        frame = con.sql("select p.*, k.groessenklasse from mart_peer_merkmale p join mart_kommune"
                        " k using (kommune_id) order by kommune_id").pl()
    demo.seed(frame)
    entries, practices = austausch.all_entries_unchecked(), austausch.all_practices_unchecked()
    encode = statistics.median(_ms(peers.PeerFeatures.from_frame, frame, entries, practices)
                               for _ in range(3))
    f = peers.PeerFeatures.from_frame(frame, entries, practices)
    rng = np.random.default_rng(5)
    sample = rng.choice(f.size, size=min(runs, f.size), replace=False)
    ids = [f.ids[i] for i in sample]

    def own(k: str, **kw):
        return lambda: peers.suggest(f.for_kommune(k), k, n=5, **kw)

    def base(i: int):
        return lambda: baseline_nearest(f, int(i))

    suggest, base_ms = _interleaved([(own(k), base(i)) for k, i in zip(ids, sample, strict=True)])
    topic, _ = _interleaved([(own(k, topic=TOPIC, max_km=100), base(i))
                             for k, i in zip(ids, sample, strict=True)])
    staff, _ = _interleaved([(lambda k=k: peers.suggest(f, k, n=5, staff=True), base(i))
                             for k, i in zip(ids, sample, strict=True)])
    data.peer_suggestions(data.STAFF, ids[0])  # warm the per-build feature cache
    layer, _ = _interleaved([
        (lambda k=k: data.peer_suggestions(data.Viewer("kommune", k), k, n=5), base(i))
        for k, i in zip(ids, sample, strict=True)])

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
        "entries": entries.height, "practices": practices.height, "staff": staff,
        "suggest": suggest, "topic": topic, "base": base_ms, "layer": layer,
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
    parser.add_argument("--national-db", type=Path, help="an existing national build to use")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        scales = [("Demo", _build(ROOT / "data" / "demo", Path(tmp) / "demo.duckdb"))]
        if not args.skip_national:
            scales.append(("National", args.national_db or national_db()))
        results = [bench_scale(label, db, args.runs, Path(tmp) / f"{label}.sqlite")
                   for label, db in scales]

    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    print(f"\nSuggestions: median over {args.runs} sampled communes (top 5), in-process, "
          f"interleaved with the baseline; load average {load}\n")
    print("| scale | communes | published entries + practice cards | a commune's own "
          "(published data only) | baseline: numpy haversine + top 5 | ratio | with topic + "
          "100 km | staff view (with Selbstcheck) | via `data.peer_suggestions` as the commune |"
          " encode features (once per build and store change) |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for r in results:
        print(f"| {r['label']} | {r['n']:,} | {r['entries']:,} + {r['practices']:,} | "
              f"{r['suggest']:.2f} ms | {r['base']:.3f} ms | {r['suggest'] / r['base']:.0f}× | "
              f"{r['topic']:.2f} ms | {r['staff']:.2f} ms | {r['layer']:.2f} ms | "
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
