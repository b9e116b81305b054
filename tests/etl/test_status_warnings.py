"""Issue #10: a register status that no reached milestone proves by the Datenstand is reported as a
warning (row kept) with file, row, column, value and a German message saying what to enter; the
report macros count such a commune with the status its dates prove."""

from __future__ import annotations

from pathlib import Path

import duckdb
import polars as pl

from etl.__main__ import main as etl_main
from etl.build import build
from tests.cohort import KOMMUNEN, MEILENSTEINE, write_cohort

# Flensburg (row 2) is abgeschlossen with Abschluss reached: proved.
# Lemgo (row 3) says abgeschlossen, but its Abschluss is only planned (31.03.2022).
# München (row 4) says aufgenommen without any Aufnahme milestone (only later steps reached).
# Row 6 is a new commune: beworben, with a Ratsbeschluss reached: proved.
# Row 7 is a new commune: beworben, its Bewerbung reached only after the Datenstand would be
#   rejected, so it is left planned: not proved.
# Row 8 is interessiert without milestones: needs no proof.
EXTRA = (
    "05766008;Detmold;Stadt;Nordrhein-Westfalen;Lippe;75.000;51,93;8,87;beworben;;;;;nein;;;;;\n"
    "05766040;Horn;Stadt;Nordrhein-Westfalen;Lippe;12.000;51,87;8,94;beworben;;;;;nein;;;;;\n"
    "05766044;Kalletal;Gemeinde;Nordrhein-Westfalen;Lippe;13.000;52,12;8,95;interessiert;;;;;"
    "nein;;;;;\n"
)
KOMMUNEN_W = (
    KOMMUNEN.replace("8,90061;aktiv;", "8,90061;abgeschlossen;")
    .replace("11,57549;aktiv;", "11,57549;aufgenommen;")
    + EXTRA
)
MEILENSTEINE_W = (
    MEILENSTEINE
    + "05766008;Ratsbeschluss;01.11.2021;03.11.2021;\n"
    + "05766040;Bewerbung;01.01.2022;;\n"
)


def _build(tmp_path: Path):
    src = write_cohort(tmp_path / "in", kommunen=KOMMUNEN_W, meilensteine=MEILENSTEINE_W)
    db = tmp_path / "db.duckdb"
    return src, db, build(src, db)


def test_unproved_statuses_are_warnings_and_the_rows_are_kept(tmp_path: Path):
    _, db, report = _build(tmp_path)
    kommunen = report.results["kommunen"]
    assert kommunen.rejects.is_empty()
    assert kommunen.loaded_rows == 7
    warnings = kommunen.warnings
    assert warnings.select("datei", "zeile", "spalte", "wert", "art").rows() == [
        ("kommunen.csv", 3, "status", "abgeschlossen", "Hinweis"),
        ("kommunen.csv", 4, "status", "aufgenommen", "Hinweis"),
        ("kommunen.csv", 7, "status", "beworben", "Hinweis"),
    ]
    lemgo, muenchen, horn = warnings.get_column("meldung").to_list()
    assert lemgo.startswith(
        "Der Status „abgeschlossen“ ist durch kein Datum belegt: in „meilensteine“ fehlt für "
        "diese Kommune ein erreichtes Datum (erreicht_am) für „Abschluss“ bis zum Datenstand "
        "15.12.2021. Bitte tragen Sie dort das Datum ein")
    assert "für „Aufnahme“ bis zum Datenstand" in muenchen
    assert "für „Bewerbung“ oder „Ratsbeschluss“ bis zum Datenstand" in horn
    con = duckdb.connect(str(db), read_only=True)
    try:
        stored = con.execute(
            "select zeile, art from meta_ablehnungen order by zeile").fetchall()
        assert stored == [(3, "Hinweis"), (4, "Hinweis"), (7, "Hinweis")]
        # kept: the register keeps the status as entered ...
        assert con.execute("select status from kommune where kommune_id = '05766020'"
                           ).fetchone() == ("abgeschlossen",)
        # ... and the report macros count what the dates prove (the same rule)
        counted = dict(con.execute(
            "select kommune_id, status from kz_kommune((select datenstand from meta_build))"
        ).fetchall())
        assert counted["05766020"] == "aktiv"  # Erstgespräch reached, Abschluss only planned
        assert counted["09162000"] == "aktiv"  # no Aufnahme, but Selbstcheck steps reached
        assert counted["05766040"] is None  # not yet in the programme
        assert counted["05766008"] == "beworben"
        assert counted["05766044"] == "interessiert"
        rejected = con.execute("select sum(zeilen_abgelehnt) from meta_dateien").fetchone()
        assert rejected == (0,)  # warnings reject nothing
    finally:
        con.close()


def test_warned_communes_are_exactly_those_counted_differently(tmp_path: Path):
    _, db, report = _build(tmp_path)
    con = duckdb.connect(str(db), read_only=True)
    try:
        differ = {r[0] for r in con.execute(
            "select kommune_id from kz_kommune((select datenstand from meta_build)) "
            "where status is distinct from status_register").fetchall()}
        rows = dict(con.execute("select kommune_id, null from kommune").fetchall())
    finally:
        con.close()
    kommunen = pl.read_csv(
        (tmp_path / "in" / "kommunen.csv"), separator=";", infer_schema=False)
    by_row = {i + 2: k for i, k in enumerate(kommunen.get_column("kommune_id"))}
    warned = {by_row[z] for z in report.results["kommunen"].warnings.get_column("zeile")}
    assert warned == differ
    assert warned < rows.keys()


def test_cli_lists_warnings_apart_from_rejects(tmp_path: Path, capsys):
    src, db, _ = _build(tmp_path)
    assert etl_main(["build", "--input", str(src), "--output", str(db)]) == 0
    out = capsys.readouterr().out
    assert "0 Zeilen abgelehnt (0 Fehler), 3 Hinweise zu übernommenen Zeilen" in out
    assert "  Hinweis: kommunen.csv Zeile 3, Spalte status: Der Status „abgeschlossen“" in out
    text = (tmp_path / "db.ablehnungen.csv").read_bytes().decode("utf-8-sig")
    assert text.splitlines()[0] == "datei;zeile;spalte;wert;meldung;art"
    assert any(line.startswith("kommunen.csv;3;status;abgeschlossen;Der Status")
               and line.endswith(";Hinweis") for line in text.splitlines())
