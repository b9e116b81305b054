"""The exchange's central promise, tested as the attacker: a commune that knows its own
Selbstcheck. For every demo commune, only the *other* communes' Selbstcheck levels, priorities
and unpublished (programme-team-only) offers and needs are changed; everything the commune can
see must stay byte-identical: suggestions with order and reasons under every setting, the CSV and
XLSX exports (every demo commune), and the Vernetzung and Kommune pages (every element of the
AppTest tree; six communes of different kinds, as a page pair takes seconds).

The variants are copies of the demo database whose core `selbstcheck` table is rewritten and whose
`mart_peer_merkmale` is rebuilt with the ETL's own SQL file (etl/sql/marts/mart_peer_merkmale.sql),
with a new build id so no cache can answer from the original; the store variant is a copy of the
demo store with the other communes' unpublished entries rewritten and new ones added. A control
test shows that the same variation does change what staff see, so the comparison can fail.
"""

from __future__ import annotations

import io
import random
import re
import shutil
import zipfile
from pathlib import Path

import duckdb
import polars as pl
import pytest
from streamlit.testing.v1 import AppTest

from dashboard import data, peer_cards, peers
from dashboard.report import xlsx as report_xlsx
from dashboard.store import austausch, db, demo
from etl.excel_csv import to_excel_csv_bytes
from etl.schema import HANDLUNGSFELDER
from tests.dashboard.pagetest import APP, open_tables

ROOT = Path(__file__).resolve().parent.parent.parent
MART_SQL = ROOT / "etl" / "sql" / "marts" / "mart_peer_merkmale.sql"
SETTINGS = [{}, {"preferences": peers.Preferences(ignore_distance=True)},
            {"preferences": peers.Preferences(same_size_class=True)},
            {"max_km": 200}, *({"topic": h} for h in HANDLUNGSFELDER)]


def _communes(db: Path) -> list[str]:
    with duckdb.connect(str(db), read_only=True) as con:
        return [r[0] for r in con.execute("select kommune_id from kommune order by 1").fetchall()]


def _vary_database(base: Path, out: Path, attacker: str, seed: int) -> Path:
    """A copy where every other commune has new random levels and priorities in all fields."""
    shutil.copy(base, out)
    rng = random.Random(seed)
    with duckdb.connect(str(out)) as con:
        others = [k for k in _communes(base) if k != attacker]
        rows = [(k, h, rng.randint(1, 4), rng.random() < 0.5) for k in others
                for h in HANDLUNGSFELDER]
        con.execute("delete from selbstcheck where kommune_id <> ?", [attacker])
        con.executemany("insert into selbstcheck values (?, ?, ?, ?, date '2021-06-01')", rows)
        con.execute("drop table mart_peer_merkmale")
        con.execute(MART_SQL.read_text(encoding="utf-8"))
        # a new build id of the same length: no cache answers from the original, and the
        # footer (which shows the id) keeps its length for the page comparison
        con.execute("update meta_build set build_id = left(build_id, -6) || ?",
                    [f"v{seed:05d}"])
    return out


def _vary_store(base: Path, out: Path, attacker: str, seed: int) -> Path:
    """A copy of the store where the others' team-only entries change and new ones appear."""
    for suffix in ("", "-wal", "-shm"):
        if Path(f"{base}{suffix}").exists():
            shutil.copy(f"{base}{suffix}", f"{out}{suffix}")
    rng = random.Random(seed)
    previous = _use_store(out)
    try:
        entries = austausch.all_entries_unchecked()
        published = set(entries.filter(pl.col("sichtbarkeit") == "modellkommunen").select(
            "kommune_id", "art", "handlungsfeld").rows())
        # one transaction for all changes (one fsync instead of one per entry)
        with db.write("variante", "test_variante") as tx:
            for k in sorted({k for k in entries["kommune_id"] if k != attacker}):
                for art in austausch.ARTEN:
                    field = rng.choice(HANDLUNGSFELDER)
                    if (k, art, field) in published:  # never touch what a commune published
                        continue
                    tx.run("austausch.upsert_entry", {
                        "id": db.new_id(), "kommune_id": k, "art": art, "handlungsfeld": field,
                        "beschreibung": f"geheim {rng.random()}", "stichworte": "",
                        "sichtbarkeit": "programmteam", "jetzt": db.now()})
            tx.bump("austausch")
    finally:
        _use_store(previous)
    return out


def _use_store(path: Path | str | None) -> str | None:
    import os

    previous = os.environ.get("WK_STORE")
    if path is None:
        os.environ.pop("WK_STORE", None)
    else:
        os.environ["WK_STORE"] = str(path)
    return previous


def _xlsx_parts(listing: pl.DataFrame) -> dict[str, bytes]:
    """The content parts of the XLSX (the document properties carry the creation time)."""
    with zipfile.ZipFile(io.BytesIO(report_xlsx.sheets_bytes({"Vorschläge": listing}))) as z:
        return {n: z.read(n) for n in z.namelist() if not n.startswith("docProps/")}


def _seen_by(kid: str) -> list:
    """Everything the data layer gives commune `kid` for its suggestions, and the exports."""
    viewer = data.Viewer("kommune", kid)
    seen = []
    for setting in SETTINGS:
        frame = data.peer_suggestions(viewer, kid, n=40, **setting)
        listing = peer_cards.suggestion_table(frame, "de")
        seen.append((frame.to_dicts(), to_excel_csv_bytes(listing)))
    seen.append(_xlsx_parts(listing))  # the writer is the same for every setting
    return seen


# Two things differ by construction and carry nothing about other communes: the build id in the
# footer (the variant is another build) and the media URL of the XLSX download, a hash of a file
# whose document properties hold the creation time (its content is compared in the test above).
_NOT_DATA = ((re.compile(rb"Build \d{8}T\d{6}Z-[0-9a-z]{6}"), b"Build " + b"#" * 23),
             (re.compile(rb"/media/[0-9a-f]{32}\.xlsx"), b"/media/" + b"#" * 32 + b".xlsx"),
             # a CSV (ui.table_with_download) or the own calendar feed (action_views) made on
             # click is a deferred download with a fresh id per run; the CSV's content is
             # compared by the engine-level test above, the calendar's in
             # tests/dashboard/test_action.py (only the commune's own items); `X\x01`: its click
             # starts no script run (ui.download_on_click)
             (re.compile(rb"(:material/[a-z_]+:(?:X\x01)?)b [0-9a-f]{32}"), rb"\1b " + b"#" * 32))


def _tree(at: AppTest) -> list[bytes]:
    """Every element of the page as serialised protobuf, in page order."""
    out: list[bytes] = []

    def walk(node) -> None:
        proto = getattr(node, "proto", None)
        if proto is not None and hasattr(proto, "SerializeToString"):
            raw = proto.SerializeToString(deterministic=True)
            for pattern, same_length in _NOT_DATA:
                raw = pattern.sub(same_length, raw)
            out.append(raw)
        for child in getattr(node, "children", {}).values():
            walk(child)

    walk(at._tree)
    return out


def _pages_seen_by(kid: str) -> list[list[bytes]]:
    viewer = data.Viewer("kommune", kid)
    trees = []
    for page in ("vernetzung", "kommune"):
        at = AppTest.from_file(APP, default_timeout=60)
        at.session_state["viewer"] = viewer
        at.session_state["user"] = f"konto-{kid}"
        at.query_params["kommune"] = kid
        at.run()
        at.switch_page(f"../pages/{page}.py").run()
        assert not at.exception, at.exception
        trees.append(_tree(open_tables(at)))  # with every table behind a chart
    return trees


@pytest.fixture(scope="module")
def demo_exchange(tmp_path_factory, demo_db) -> tuple[Path, Path]:
    """The demo database and a store with the demo exchange entries."""
    store = tmp_path_factory.mktemp("privacy") / "store.sqlite"
    previous_db, previous_store = _use_db(demo_db), _use_store(store)
    try:
        demo.seed(data.query("select * from mart_peer_merkmale order by kommune_id"))
    finally:
        _use_db(previous_db)
        _use_store(previous_store)
    return demo_db, store


def _use_db(path: Path | None) -> str | None:
    import os

    previous = os.environ.get("WK_DB")
    if path is None:
        os.environ.pop("WK_DB", None)
    else:
        os.environ["WK_DB"] = str(path)
    return previous


def test_nothing_a_commune_sees_depends_on_others_selbstcheck_or_unpublished_entries(
        demo_exchange, tmp_path, monkeypatch):
    base_db, base_store = demo_exchange
    communes = _communes(base_db)
    assert len(communes) >= 40
    for n, kid in enumerate(communes):
        monkeypatch.setenv("WK_DB", str(base_db))
        monkeypatch.setenv("WK_STORE", str(base_store))
        before = _seen_by(kid)
        variant_db = _vary_database(base_db, tmp_path / f"v{n}.duckdb", kid, seed=n)
        variant_store = _vary_store(base_store, tmp_path / f"v{n}.sqlite", kid, seed=n)
        monkeypatch.setenv("WK_DB", str(variant_db))
        monkeypatch.setenv("WK_STORE", str(variant_store))
        assert _seen_by(kid) == before, kid


def _page_attackers(db: Path) -> list[str]:
    """One commune of each kind (a page pair takes seconds; the data-layer test covers all):
    the two demo accounts, one without consent, one without Selbstcheck, one that left, a
    Landkreis."""
    with duckdb.connect(str(db), read_only=True) as con:
        frame = con.sql("select * from mart_peer_merkmale order by kommune_id").pl()
    picks = frame.filter(pl.col("vernetzung_zustimmung")
                         & (pl.col("prioritaeten").list.len() > 0))["kommune_id"].head(2).to_list()
    for condition in (~pl.col("vernetzung_zustimmung"), pl.col("staende").list.len() == 0,
                      pl.col("status") == "ausgeschieden", pl.col("typ") == "Landkreis"):
        picks.append(frame.filter(condition & ~pl.col("kommune_id").is_in(picks))[
            "kommune_id"][0])
    return picks


def test_pages_a_commune_sees_are_byte_identical_under_the_same_variation(
        demo_exchange, tmp_path, monkeypatch):
    """The same attack on the rendered Vernetzung and Kommune pages (every element of the
    AppTest tree, serialised)."""
    base_db, base_store = demo_exchange
    attackers = _page_attackers(base_db)
    assert len(set(attackers)) == 6
    for n, kid in enumerate(attackers):
        monkeypatch.setenv("WK_DB", str(base_db))
        monkeypatch.setenv("WK_STORE", str(base_store))
        before = _pages_seen_by(kid)
        monkeypatch.setenv("WK_DB", str(_vary_database(base_db, tmp_path / f"p{n}.duckdb",
                                                       kid, seed=100 + n)))
        monkeypatch.setenv("WK_STORE", str(_vary_store(base_store, tmp_path / f"p{n}.sqlite",
                                                       kid, seed=100 + n)))
        assert _pages_seen_by(kid) == before, kid


def test_control_the_variation_changes_what_staff_see(demo_exchange, tmp_path, monkeypatch):
    """Without this, a comparison that always passes would go unnoticed."""
    base_db, base_store = demo_exchange
    kid = "01003000"
    monkeypatch.setenv("WK_DB", str(base_db))
    monkeypatch.setenv("WK_STORE", str(base_store))
    before = [data.peer_suggestions(data.STAFF, kid, n=40, **s).to_dicts() for s in SETTINGS]
    monkeypatch.setenv("WK_DB", str(_vary_database(base_db, tmp_path / "c.duckdb", kid, 7)))
    monkeypatch.setenv("WK_STORE", str(_vary_store(base_store, tmp_path / "c.sqlite", kid, 7)))
    after = [data.peer_suggestions(data.STAFF, kid, n=40, **s).to_dicts() for s in SETTINGS]
    assert after != before
