"""Server-side cost of one Karte rerun: build the points figure and serialise it as Streamlit does.

    python bench/map_rerun.py [TREE] [--db data/bench/national.duckdb]

TREE is a checkout of the project (default: this one), so an older version can be measured with
the same interpreter; run it alternately for both trees. Prints the median of 3 (after one warm-up
call) of `maps.points_map(staff points, "status")` plus
`plotly.tools.return_figure_from_figure_or_data` and `plotly.io.to_json` (what `st.plotly_chart`
does), the spec size and the load average.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("tree", nargs="?", default=str(Path(__file__).resolve().parent.parent))
    parser.add_argument("--db", default="data/bench/national.duckdb")
    args = parser.parse_args()
    os.environ["WK_DB"] = str(Path(args.db).resolve())
    sys.path.insert(0, args.tree)
    import plotly.io as pio
    import plotly.tools

    from dashboard import data, maps

    labels = {k: k for k in ("typ", "bundesland", "status", "phase", "next", "einwohner",
                             "none", "none_started")}
    points = data.load_map_points(data.STAFF)
    times, size = [], 0
    for _ in range(4):
        started = time.perf_counter()
        fig = maps.points_map(points, "status", labels, show_kreise=False)
        fig = getattr(fig, "figure", fig)  # this branch returns a PointsMap
        spec = pio.to_json(plotly.tools.return_figure_from_figure_or_data(fig, True),
                           validate=False)
        times.append(time.perf_counter() - started)
        size = len(spec)
    print(f"{args.tree}: {points.height} points, {statistics.median(times[1:]):.2f} s per rerun, "
          f"spec {size / 1e6:.2f} MB, load {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
