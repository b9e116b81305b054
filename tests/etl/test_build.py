"""Reading German spreadsheets, building the database, and keeping the old one on failure."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import duckdb
import polars as pl
import pytest

from etl.__main__ import main as etl_main
from etl.build import build
from etl.read import InputError
from tests.cohort import KOMMUNEN, MEILENSTEINE, MODULNUTZUNG, SELBSTCHECK, write_cohort

TEXTS = {
    "kommunen": KOMMUNEN,
    "meilensteine": MEILENSTEINE,
    "modulnutzung": MODULNUTZUNG,
    "selbstcheck": SELBSTCHECK,
}


def _values(db: Path) -> dict:
    con = duckdb.connect(str(db), read_only=True)
    try:
        return {
            "kommunen": con.execute(
                "select kommune_id, name, einwohner, lat, lon, vernetzung_zustimmung "
                "from kommune order by kommune_id"
            ).fetchall(),
            "meilensteine": con.execute("select * from meilenstein order by all").fetchall(),
            "teilnehmende": con.execute("select sum(teilnehmende) from modulnutzung").fetchone(),
            "selbstcheck": con.execute("select * from selbstcheck order by all").fetchall(),
        }
    finally:
        con.close()


def test_csv_round_trip_keeps_values(tmp_path: Path):
    db = tmp_path / "db.duckdb"
    report = build(write_cohort(tmp_path / "in"), db)
    assert report.rejects.is_empty()
    v = _values(db)
    assert v["kommunen"][0] == ("01001000", "Flensburg", 89934, 54.78431, 9.43961, True)
    assert ("03159", "=SUM(1) Göttingen", 328074, 51.5413, 9.9158, False) in v["kommunen"]
    assert any(r[1] == "München <script>alert(1)</script>" for r in v["kommunen"])
    assert v["teilnehmende"] == (62,)
    assert ("01001000", "Workshop", dt.date(2020, 5, 15), dt.date(2020, 6, 2), None) in v[
        "meilensteine"
    ]


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "cp1252"])
@pytest.mark.parametrize("separator", [";", ",", "\t"])
def test_encodings_and_separators_give_the_same_database(tmp_path: Path, encoding, separator):
    reference = tmp_path / "ref.duckdb"
    build(write_cohort(tmp_path / "ref"), reference)
    src = write_cohort(tmp_path / "in")
    for name, text in TEXTS.items():
        if separator != ";":
            # German decimals contain commas: quote every field for comma-separated files
            rows = [line.split(";") for line in text.splitlines()]
            text = "\n".join(separator.join(f'"{c}"' for c in r) for r in rows) + "\n"
        (src / f"{name}.csv").write_bytes(text.encode(encoding))
    db = tmp_path / "db.duckdb"
    report = build(src, db)
    assert report.rejects.is_empty(), report.rejects
    assert _values(db) == _values(reference)
    # kommunen.csv has umlauts, so its encoding is unambiguous
    assert duckdb.connect(str(db), read_only=True).execute(
        "select kodierung from meta_dateien where datei_art = 'kommunen'"
    ).fetchone() == (encoding,)


def test_xlsx_round_trip_gives_the_same_database(tmp_path: Path):
    reference = tmp_path / "ref.duckdb"
    build(write_cohort(tmp_path / "ref"), reference)
    src = write_cohort(tmp_path / "in")
    for name in TEXTS:
        csv = src / f"{name}.csv"
        frame = pl.read_csv(csv, separator=";", infer_schema=False)
        # staff's Excel files hold real numbers and dates in cells, not text
        frame = frame.with_columns(
            pl.col(c).str.to_date("%d.%m.%Y", strict=False)
            for c in frame.columns
            if c in ("geplant_am", "erreicht_am", "datum", "erhoben_am", "start_geplant")
        )
        if "teilnehmende" in frame.columns:
            frame = frame.with_columns(pl.col("teilnehmende").cast(pl.Int64))
        frame.write_excel(src / f"{name}.xlsx", worksheet=name)
        csv.unlink()
    db = tmp_path / "db.duckdb"
    report = build(src, db)
    assert report.rejects.is_empty(), report.rejects
    assert _values(db) == _values(reference)


def _build_ok(tmp_path: Path) -> tuple[Path, str]:
    db = tmp_path / "db.duckdb"
    report = build(write_cohort(tmp_path / "good"), db)
    return db, report.build_id


def _old_build_still_there(db: Path, build_id: str) -> None:
    con = duckdb.connect(str(db), read_only=True)
    assert con.execute("select build_id from meta_build").fetchone()[0] == build_id
    assert con.execute("select count(*) from kommune").fetchone()[0] == 4
    con.close()
    assert [p.name for p in db.parent.iterdir() if p.name.endswith(".tmp")] == []


def test_missing_column_stops_build_and_keeps_old_database(tmp_path: Path, capsys):
    db, build_id = _build_ok(tmp_path)
    broken = KOMMUNEN.replace(";status;", ";zustand;")
    src = write_cohort(tmp_path / "bad", kommunen=broken)
    code = etl_main(["build", "--input", str(src), "--output", str(db)])
    err = capsys.readouterr().err
    assert code == 1
    assert "In „kommunen.csv“ fehlt die Spalte „status“" in err
    assert "bisherige Datenbank bleibt unverändert" in err
    _old_build_still_there(db, build_id)


def test_missing_file_stops_build(tmp_path: Path):
    db, build_id = _build_ok(tmp_path)
    src = write_cohort(tmp_path / "bad")
    (src / "selbstcheck.csv").unlink()
    with pytest.raises(InputError, match="„selbstcheck.csv“ oder „selbstcheck.xlsx“ fehlt"):
        build(src, db)
    _old_build_still_there(db, build_id)


def test_binary_file_and_fake_xlsx_stop_build(tmp_path: Path):
    db, build_id = _build_ok(tmp_path)
    src = write_cohort(tmp_path / "bad")
    (src / "modulnutzung.csv").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00IHDR" * 10)
    with pytest.raises(InputError, match="ist keine Textdatei"):
        build(src, db)
    (src / "modulnutzung.csv").unlink()
    (src / "modulnutzung.xlsx").write_text("kommune_id;modul\n", encoding="utf-8")
    with pytest.raises(InputError, match="ist keine Excel-Datei"):
        build(src, db)
    _old_build_still_there(db, build_id)


def test_unreadable_encoding_stops_build(tmp_path: Path):
    db, build_id = _build_ok(tmp_path)
    src = write_cohort(tmp_path / "bad")
    # 0x81 is undefined in Windows-1252 and invalid as UTF-8
    (src / "kommunen.csv").write_bytes(KOMMUNEN.encode("utf-8") + b"\x81\x8d\x8f\n")
    with pytest.raises(InputError, match="Zeichenkodierung von „kommunen.csv“ ist nicht lesbar"):
        build(src, db)
    _old_build_still_there(db, build_id)


def test_metadata_records_checksums_counts_and_rejects(tmp_path: Path):
    kommunen = KOMMUNEN.replace("aktiv;01.10.2021", "fertig;01.10.2021")
    src = write_cohort(tmp_path / "in", kommunen=kommunen)
    db = tmp_path / "db.duckdb"
    report = build(src, db)
    con = duckdb.connect(str(db), read_only=True)
    files = {
        r[0]: r[1:]
        for r in con.execute(
            "select datei_art, sha256, zeilen_gelesen, zeilen_geladen, zeilen_abgelehnt "
            "from meta_dateien"
        ).fetchall()
    }
    import hashlib

    assert files["kommunen"] == (
        hashlib.sha256((src / "kommunen.csv").read_bytes()).hexdigest(),
        4,
        3,
        1,
    )
    meta = con.execute("select build_id, datenstand from meta_build").fetchone()
    assert meta == (report.build_id, dt.date(2021, 12, 15))
    assert con.execute("select count(*) from meta_ablehnungen").fetchone()[0] >= 1


def test_cli_writes_rejects_report_in_excel_dialect(tmp_path: Path, capsys):
    kommunen = KOMMUNEN.replace("München <script>alert(1)</script>", '=HYPERLINK("x")').replace(
        "1.488.202", "-5"
    )
    src = write_cohort(tmp_path / "in", kommunen=kommunen)
    db = tmp_path / "db.duckdb"
    assert etl_main(["build", "--input", str(src), "--output", str(db)]) == 0
    out = capsys.readouterr().out
    assert "kommunen.csv Zeile 4, Spalte einwohner" in out
    report = (tmp_path / "db.ablehnungen.csv").read_bytes()
    assert report.startswith("\ufeff".encode())
    text = report.decode("utf-8-sig")
    assert text.splitlines()[0] == "datei;zeile;spalte;wert;meldung;art"
    assert ";'-5;" in text  # a text value that looks like a formula is neutralised


def test_duplicate_uptake_rows_are_rejected_and_the_first_is_loaded(tmp_path: Path):
    """core/modulnutzung.sql has no duplicate guard of its own: the checks must reject every row
    of a (kommune_id, veranstaltung_id) but the first, with the German message naming the first
    row, and a row that failed a column rule makes no twin of its corrected copy."""
    extra = (
        "09162000;V2;2;Webinar;Kommunikation und Konfliktmanagement;10.03.2020;11;5;2;2;0;0\n"  # 7
        "01001000;V1;1;Erstgespräch;;15.02.2020;7;4;0;0;0;0\n"  # 8
        "05766020;V9;1;Erstgespräch;;05.10.2021;x;;;;;\n"  # 9: not a number
        "05766020;V9;1;Erstgespräch;;05.10.2021;2;;;;;\n"  # 10: its corrected twin, loaded
    )
    src = write_cohort(tmp_path / "in", modulnutzung=MODULNUTZUNG + extra)
    db = tmp_path / "db.duckdb"
    build(src, db)
    con = duckdb.connect(str(db), read_only=True)
    try:
        lines = con.execute(
            "select zeile, spalte, wert, meldung from meta_ablehnungen "
            "where datei = 'modulnutzung.csv' order by zeile"
        ).fetchall()
        rows = con.execute(
            "select kommune_id, veranstaltung_id, teilnehmende from modulnutzung order by all"
        ).fetchall()
        counts = con.execute(
            "select zeilen_gelesen, zeilen_geladen, zeilen_abgelehnt from meta_dateien "
            "where datei_art = 'modulnutzung'"
        ).fetchone()
    finally:
        con.close()
    twice = ("Doppelter Eintrag: dieselbe Kombination aus „kommune_id“ und „veranstaltung_id“ "
             "steht schon in Zeile {}. Bitte die doppelte Zeile löschen oder zusammenführen.")
    assert lines[0] == (7, "veranstaltung_id", "V2", twice.format(4))
    assert lines[1] == (8, "veranstaltung_id", "V1", twice.format(2))
    assert [(z, s, w) for z, s, w, _ in lines[2:]] == [(9, "teilnehmende", "x")]
    assert rows == [
        ("01001000", "V1", 4), ("01001000", "V2", 6), ("05766020", "V4", 3),
        ("05766020", "V9", 2), ("09162000", "V2", 9), ("09162000", "V3", 40),
    ]
    assert counts == (9, 6, 3)
