"""Do two builds hold the same data? Every table of both databases, compared row for row.

    .venv/bin/python bench/etl_same.py OLD.duckdb NEW.duckdb

For checking that a faster ETL writes exactly what the old one wrote (issue #16): each table
must exist in both files with the same columns and types, and `EXCEPT ALL` both ways must be
empty (so duplicates count). The columns that name one build (its id, time and input folder)
are left out. Exit status 1 and one line per difference otherwise.
"""

from __future__ import annotations

import sys
from pathlib import Path

import duckdb

# columns that differ between any two builds of the same input
PER_BUILD = {"meta_build": ("build_id", "erstellt_am", "eingabe")}


def _columns(con: duckdb.DuckDBPyConnection, db: str, table: str) -> list[tuple[str, str]]:
    return con.execute(
        "select column_name, data_type from duckdb_columns() "
        "where database_name = ? and table_name = ? order by column_index",
        [db, table],
    ).fetchall()


def differences(old: Path, new: Path) -> list[str]:
    """Every difference between the tables of two database files (empty when they agree)."""
    con = duckdb.connect()
    try:
        con.execute(f"attach '{old}' as a (read_only)")
        con.execute(f"attach '{new}' as b (read_only)")
        tables = {
            db: {t for (t,) in con.execute(
                "select table_name from duckdb_tables() where database_name = ?", [db]
            ).fetchall()}
            for db in ("a", "b")
        }
        found = [f"only in {old}: {t}" for t in sorted(tables["a"] - tables["b"])]
        found += [f"only in {new}: {t}" for t in sorted(tables["b"] - tables["a"])]
        for table in sorted(tables["a"] & tables["b"]):
            cols_a, cols_b = _columns(con, "a", table), _columns(con, "b", table)
            if cols_a != cols_b:
                found.append(f"{table}: columns differ: {cols_a} ≠ {cols_b}")
                continue
            keep = ", ".join(
                f'"{c}"' for c, _ in cols_a if c not in PER_BUILD.get(table, ())
            )
            for left, right, label in (("a", "b", old), ("b", "a", new)):
                (extra,) = con.execute(
                    f"select count(*) from (select {keep} from {left}.{table} "
                    f"except all select {keep} from {right}.{table})"
                ).fetchone()
                if extra:
                    found.append(f"{table}: {extra} rows only in {label}")
        return found
    finally:
        con.close()


def main() -> None:
    old, new = (Path(p) for p in sys.argv[1:3])
    found = differences(old, new)
    for line in found:
        print(line)
    print("gleich" if not found else f"{len(found)} Unterschiede")
    sys.exit(1 if found else 0)


if __name__ == "__main__":
    main()
