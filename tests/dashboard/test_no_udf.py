"""No polars Python UDFs in code the server runs: they can freeze the whole server.

polars runs `map_elements` / `map_batches` / `map_rows` functions on its one process-wide
thread pool, where they wait for the GIL; a second session's script thread that holds the GIL
while it waits for that pool (`DataFrame.to_pandas` in `st.dataframe`) then deadlocks the
process (bench/load.py, 10 sessions: every session and the health check hung). Use
`dashboard.fmt.texts` instead.
"""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
UDF = re.compile(r"\.(map_elements|map_batches|map_rows)\(")


def test_server_code_has_no_polars_udfs():
    found = [f"{path.relative_to(ROOT)}:{number}: {line.strip()}"
             for folder in ("dashboard", "pages", "etl")
             for path in sorted((ROOT / folder).rglob("*.py"))
             for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
             if UDF.search(line)]
    assert found == []
