"""The synthetic demo generator: deterministic, committed files up to date, valid ETL input."""

from __future__ import annotations

import datetime as dt
import tomllib
from pathlib import Path

import duckdb
import polars as pl
import pytest

from etl.build import build
from etl.schema import ENTITIES, HANDLUNGSFELDER, KOMMUNE_TYPEN, SOURCE_FILE
from etl.validate import parse_ags
from tests.conftest import DEMO_DIR
from tools.demo import (
    DEFAULT_HEUTE,
    DEFAULT_SEED,
    choose_national_communes,
    generate,
    load_candidates,
    synthetic_copies,
)

FILES = tuple(f"{e.name}.csv" for e in ENTITIES) + (SOURCE_FILE,)


def _bytes(directory: Path) -> dict[str, bytes]:
    return {name: (directory / name).read_bytes() for name in FILES}


def _query(db: Path, sql: str) -> list[tuple]:
    con = duckdb.connect(str(db), read_only=True)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


def test_same_arguments_give_byte_identical_files(tmp_path: Path):
    generate(tmp_path / "a", kommunen=12, seed=7)
    generate(tmp_path / "b", kommunen=12, seed=7)
    generate(tmp_path / "c", kommunen=12, seed=8)
    assert _bytes(tmp_path / "a") == _bytes(tmp_path / "b")
    assert _bytes(tmp_path / "a")["kommunen.csv"] != _bytes(tmp_path / "c")["kommunen.csv"]


def test_small_generated_cohort_builds_without_rejects(tmp_path: Path):
    generate(tmp_path / "in", kommunen=12, seed=7, events=500)
    report = build(tmp_path / "in", tmp_path / "db.duckdb")
    assert report.rejects.height == 0
    rows = _query(tmp_path / "db.duckdb", "select count(*) from modulnutzung")[0][0]
    assert rows == 500


def test_committed_demo_equals_a_fresh_generation(tmp_path: Path):
    generate(tmp_path / "demo")
    fresh, committed = _bytes(tmp_path / "demo"), _bytes(DEMO_DIR)
    drifted = [name for name in FILES if fresh[name] != committed[name]]
    assert not drifted, (
        f"data/demo is out of date ({', '.join(drifted)}); "
        "run `uv run python -m tools.demo --out data/demo`"
    )


def test_demo_files_use_the_german_excel_dialect():
    for entity in ENTITIES:
        data = (DEMO_DIR / f"{entity.name}.csv").read_bytes()
        assert data.startswith(b"\xef\xbb\xbf"), entity.name
        header = data[3:].decode("utf-8").split("\n", 1)[0]
        assert header.split(";") == entity.column_names
    kommunen = pl.read_csv(DEMO_DIR / "kommunen.csv", separator=";", infer_schema=False)
    assert kommunen.get_column("lat").str.contains(r"^\d{2},\d{5}$").all()
    assert kommunen.get_column("start_geplant").drop_nulls().str.contains(
        r"^\d{2}\.\d{2}\.\d{4}$").all()
    assert set(kommunen.get_column("vernetzung_zustimmung").unique()) == {"ja", "nein"}
    settings = tomllib.loads((DEMO_DIR / SOURCE_FILE).read_text(encoding="utf-8"))
    assert settings == {
        "datenstand": DEFAULT_HEUTE.isoformat(),
        "beispieldaten": True,
        "bezeichnung": f"Synthetische Beispieldaten (Seed {DEFAULT_SEED})",
    }


def test_demo_builds_without_rejects(demo_db: Path):
    assert _query(demo_db, "select count(*) from meta_ablehnungen")[0][0] == 0
    assert _query(demo_db, "select sum(zeilen_abgelehnt) from meta_dateien")[0][0] == 0
    assert _query(demo_db, "select beispieldaten, datenstand from meta_build")[0] == (
        True, DEFAULT_HEUTE)


def test_demo_covers_lands_types_sizes_and_statuses(demo_db: Path):
    assert _query(demo_db, "select count(distinct bundesland) from kommune")[0][0] >= 13
    types = {r[0] for r in _query(demo_db, "select distinct typ from kommune")}
    assert types == set(KOMMUNE_TYPEN)
    sizes = _query(demo_db, "select count(distinct groessenklasse) from mart_kommune")[0][0]
    assert sizes == 5
    status = dict(_query(demo_db, "select status, count(*) from kommune group by 1"))
    assert {"abgeschlossen", "aktiv", "ausgeschieden"} <= set(status)
    assert 20 <= status["abgeschlossen"] <= 25
    assert 8 <= status["aktiv"] <= 12
    overdue = _query(demo_db, "select count(distinct kommune_id) from mart_fortschritt "
                              "where zustand = 'überfällig'")[0][0]
    assert overdue >= 2


def test_demo_timelines_are_consistent(demo_db: Path):
    after = _query(demo_db, "select count(*) from meilenstein, meta_build "
                            "where erreicht_am > datenstand")[0][0]
    assert after == 0
    unfinished = _query(demo_db, """
        select count(*) from kommune k left join meilenstein m
            on m.kommune_id = k.kommune_id and m.meilenstein = 'Abschluss'
        where k.status = 'abgeschlossen' and m.erreicht_am is null""")[0][0]
    assert unfinished == 0
    early = _query(demo_db, """
        select count(*) from meilenstein m join kommune k using (kommune_id)
        where k.status in ('interessiert', 'beworben') and m.meilenstein <> 'Bewerbung'""")[0][0]
    assert early == 0
    # reached milestones follow the track order
    out_of_order = _query(demo_db, """
        select count(*) from (
            select erreicht_am < lag(erreicht_am) over (partition by kommune_id
                                                       order by reihenfolge) as back
            from mart_fortschritt where erreicht_am is not null) where back""")[0][0]
    assert out_of_order == 0


def test_demo_contacts_are_fictitious(demo_db: Path):
    rows = _query(demo_db, "select email, ansprechperson, telefon from kommune")
    assert all(email.endswith("@example.org") for email, _, _ in rows)
    assert all(person.endswith("(fiktiv)") for _, person, _ in rows)
    assert all(phone.startswith("0000 ") for _, _, phone in rows)


def test_demo_uptake_has_shared_events_only_while_taking_part(demo_db: Path):
    shared = _query(demo_db, "select max(kommunen_anzahl) from mart_veranstaltung")[0][0]
    assert shared >= 2
    modules = {r[0] for r in _query(demo_db, "select distinct modul from modulnutzung")}
    assert modules == {1, 2, 3}
    outside = _query(demo_db, """
        select count(*) from modulnutzung u
        join meilenstein m on m.kommune_id = u.kommune_id and m.meilenstein = 'Erstgespräch'
        cross join meta_build b
        where m.erreicht_am is null or u.datum < m.erreicht_am or u.datum > b.datenstand""")
    assert outside[0][0] == 0
    sectors = _query(demo_db, """
        select count(*) filter (where verwaltung is null),
               count(*) filter (where verwaltung + politik + zivilgesellschaft + wirtschaft
                                      + einwohnerschaft = teilnehmende),
               count(*) filter (where verwaltung + politik + zivilgesellschaft + wirtschaft
                                      + einwohnerschaft < teilnehmende)
        from modulnutzung""")[0]
    assert all(n > 0 for n in sectors)


def test_demo_selbstcheck_has_overlapping_priorities(demo_db: Path):
    per_commune = _query(demo_db, """
        select count(*), count(*) filter (where prioritaet), count(distinct erhoben_am)
        from selbstcheck group by kommune_id""")
    assert per_commune
    assert all(n == len(HANDLUNGSFELDER) and 2 <= p <= 3 and d == 1 for n, p, d in per_commune)
    mismatched = _query(demo_db, """
        select count(*) from selbstcheck s join meilenstein m
            on m.kommune_id = s.kommune_id and m.meilenstein = 'Fragebogen'
        where s.erhoben_am is distinct from m.erreicht_am""")[0][0]
    assert mismatched == 0
    shared = _query(demo_db, """
        select max(n) from (select count(*) as n from selbstcheck where prioritaet
                            group by handlungsfeld)""")[0][0]
    assert shared >= 5


@pytest.mark.parametrize("heute", [dt.date(2020, 6, 1), dt.date(2024, 1, 1)])
def test_other_data_dates_stay_valid(tmp_path: Path, heute: dt.date):
    generate(tmp_path / "in", kommunen=20, heute=heute)
    report = build(tmp_path / "in", tmp_path / "db.duckdb")
    assert report.rejects.height == 0
    assert report.datenstand == heute


def test_stress_scale_grows_beyond_the_real_gemeinden_with_marked_synthetic_copies(tmp_path):
    """More communes than real Gemeinden: the extra ones are synthetic copies, marked in the
    name, with unique 12-digit ARS in their real place's Land and Kreis that the ETL accepts."""
    real = [k for k in load_candidates() if k.typ != "Landkreis"][:3]
    chosen = choose_national_communes(8, real, DEFAULT_SEED)
    assert len(chosen) == 8
    assert len({k.kommune_id for k in chosen}) == 8
    synthetic = [k for k in chosen if "(synthetisch" in k.name]
    assert len(synthetic) == 5
    by_id = {k.kommune_id: k for k in real}
    for k in synthetic:
        assert len(k.kommune_id) == 12 and k.kommune_id.isdigit()
        base = next(b for b in real if b.name == k.name.split(" (synthetisch")[0])
        assert k.kommune_id[:5] == base.kommune_id[:5] and k.kommune_id[-3:] == base.kommune_id[5:]
        assert (k.bundesland, k.kreis_ags, k.typ) == (base.bundesland, base.kreis_ags, base.typ)
        assert abs(k.lat - base.lat) <= 0.02 and abs(k.lon - base.lon) <= 0.02
    assert set(by_id) <= {k.kommune_id for k in chosen}  # every real place before any copy
    ids = pl.Series([k.kommune_id for k in synthetic])
    assert pl.select(parse_ags(pl.lit(ids))).to_series().to_list() == ids.to_list()
    with pytest.raises(ValueError, match="höchstens"):
        synthetic_copies(999 * 3 + 1, real, DEFAULT_SEED)
