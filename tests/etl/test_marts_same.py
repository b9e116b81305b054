"""Marts rewritten for speed (issue #16) give exactly what their plain form gave (or, for a mart
that became a view, the pages' figures from it).

Each reference below is the mart as it was first written (ordered aggregates), kept here as the
specification; the mart in etl/sql/marts/ must equal it row for row on the demo data and on
generated communes and events with awkward names (case, umlauts, shared names, prefixes).
"""

from __future__ import annotations

import itertools
import string
from pathlib import Path

import duckdb
from hypothesis import given, settings
from hypothesis import strategies as st

from dashboard.data import UPTAKE_DIMENSIONS, shared_events_sql, uptake_sql
from etl.build import SQL_DIR

# mart_veranstaltung as first written: lists ordered inside the aggregate (any_value columns
# left out: any of an event's rows may give them, in either form). The mart keeps the counts;
# `data.shared_events_sql` builds the names for the shared events a page shows.
VERANSTALTUNG_REFERENZ = """
select
    m.veranstaltung_id,
    min(m.datum) as datum,
    count(*) as kommunen_anzahl,
    sum(m.teilnehmende) as teilnehmende,
    string_agg(k.name, ', ' order by k.name) as kommunen
from modulnutzung as m
join kommune as k using (kommune_id)
group by m.veranstaltung_id
"""
ZAHLEN = "veranstaltung_id, datum, kommunen_anzahl, teilnehmende"
NAMEN = f"{ZAHLEN}, kommunen"


def _differences(con: duckdb.DuckDBPyConnection, table: str, reference: str,
                 columns: str) -> tuple[int, int]:
    """(rows only in `table`, rows only in `reference`), duplicates counted."""
    only_mart, only_ref = (
        con.execute(
            f"select count(*) from (select {columns} from {a} except all "
            f"select {columns} from {b})"
        ).fetchone()[0]
        for a, b in ((table, reference), (reference, table))
    )
    return only_mart, only_ref


def _check_events(con: duckdb.DuckDBPyConnection) -> None:
    """The mart equals the reference's counts for every event; the shared events with their
    names equal the reference's shared events."""
    con.execute(f"create temp view _referenz as {VERANSTALTUNG_REFERENZ}")
    con.execute("create temp view _referenz_geteilt as "
                "select * from _referenz where kommunen_anzahl > 1")
    con.execute(f"create temp table _geteilt as {shared_events_sql('true')}")
    assert _differences(con, "mart_veranstaltung", "_referenz", ZAHLEN) == (0, 0)
    assert _differences(con, "_geteilt", "_referenz_geteilt", NAMEN) == (0, 0)


def test_mart_veranstaltung_equals_its_reference_on_the_demo(demo_db: Path):
    con = duckdb.connect(str(demo_db), read_only=True)
    try:
        assert con.execute("select count(*) from mart_veranstaltung").fetchone()[0] > 100
        # shared events exist, so the lists' order is really tested
        assert con.execute(
            "select max(kommunen_anzahl) from mart_veranstaltung").fetchone()[0] > 1
        _check_events(con)
    finally:
        con.close()


NAMES = st.text(alphabet=string.ascii_letters + "ÄÖÜäöüß -.()'é", min_size=0, max_size=6)


@settings(max_examples=60, deadline=None)
@given(
    names=st.lists(NAMES, min_size=1, max_size=8),
    rows=st.lists(
        st.tuples(st.integers(0, 7), st.integers(0, 4), st.integers(0, 9), st.integers(0, 99)),
        min_size=1,
        max_size=40,
        unique_by=lambda r: (r[0], r[1]),
    ),
)
def test_mart_veranstaltung_equals_its_reference_on_generated_events(names, rows):
    con = duckdb.connect()
    try:
        con.execute("create table kommune (kommune_id varchar not null, name varchar not null)")
        con.executemany("insert into kommune values (?, ?)",
                        [(f"{i:08d}", name) for i, name in enumerate(names)])
        con.execute("create view mart_kommune as select * from kommune")
        con.execute("create table modulnutzung (kommune_id varchar, veranstaltung_id varchar, "
                    "modul tinyint, format varchar, thema varchar, datum date, teilnehmende int)")
        con.executemany(
            "insert into modulnutzung values (?, ?, 1, 'Workshop', 't', "
            "date '2021-01-01' + ?::int, ?)",
            [(f"{k % len(names):08d}", f"V{v}", day, people) for k, v, day, people in rows],
        )
        con.execute((SQL_DIR / "marts" / "mart_veranstaltung.sql").read_text(encoding="utf-8"))
        _check_events(con)
    finally:
        con.close()


# mart_nutzung_monat as first written: a stored table grouped per commune, month, module, format
# and topic. It is a view of the core rows now; every grouping the pages make must stay the same.
NUTZUNG_MONAT_REFERENZ = """
select
    kommune_id,
    date_trunc('month', datum)::date as monat,
    modul,
    format,
    thema,
    count(*) as teilnahmen,
    sum(teilnehmende) as teilnehmende,
    sum(verwaltung) as verwaltung,
    sum(politik) as politik,
    sum(zivilgesellschaft) as zivilgesellschaft,
    sum(wirtschaft) as wirtschaft,
    sum(einwohnerschaft) as einwohnerschaft
from modulnutzung
group by all
"""
GROUPINGS = [dims for n in range(1, len(UPTAKE_DIMENSIONS) + 1)
             for dims in itertools.combinations(UPTAKE_DIMENSIONS, n)]


def _uptake_differs(con: duckdb.DuckDBPyConnection) -> list[tuple[str, ...]]:
    """The groupings whose page figures differ between the mart and its first form."""
    con.execute(f"create or replace temp table _referenz as {NUTZUNG_MONAT_REFERENZ}")
    return [dims for dims in GROUPINGS
            if con.sql(uptake_sql("mart_nutzung_monat", dims)).fetchall()
            != con.sql(uptake_sql("_referenz", dims)).fetchall()]


def test_uptake_figures_from_the_view_equal_the_stored_mart_on_the_demo(demo_db: Path):
    con = duckdb.connect(str(demo_db), read_only=True)
    try:
        assert con.execute("select table_type from information_schema.tables "
                           "where table_name = 'mart_nutzung_monat'").fetchone()[0] == "VIEW"
        # (no demo commune has two rows in one group: the generated rows below have many)
        assert _uptake_differs(con) == []
    finally:
        con.close()


SECTOR = st.one_of(st.none(), st.integers(0, 50))


@settings(max_examples=60, deadline=None)
@given(rows=st.lists(
    st.tuples(st.integers(0, 3), st.integers(0, 400), st.integers(1, 3),
              st.sampled_from(["Workshop", "Online"]), st.sampled_from(["a", "b"]),
              st.integers(0, 99), SECTOR, SECTOR, SECTOR, SECTOR, SECTOR),
    min_size=1, max_size=40))
def test_uptake_figures_from_the_view_equal_the_stored_mart_on_generated_rows(rows):
    con = duckdb.connect()
    try:
        con.execute("create table modulnutzung (kommune_id varchar, veranstaltung_id varchar, "
                    "modul tinyint, format varchar, thema varchar, datum date, "
                    "teilnehmende int, verwaltung int, politik int, zivilgesellschaft int, "
                    "wirtschaft int, einwohnerschaft int)")
        con.executemany(
            "insert into modulnutzung values (?, ?, ?, ?, ?, date '2021-01-01' + ?::int, "
            "?, ?, ?, ?, ?, ?)",
            [(f"{k:08d}", f"V{i}", modul, fmt, thema, day, people, *sectors)
             for i, (k, day, modul, fmt, thema, people, *sectors) in enumerate(rows)])
        con.execute((SQL_DIR / "marts" / "mart_nutzung_monat.sql").read_text(encoding="utf-8"))
        assert _uptake_differs(con) == []
    finally:
        con.close()
