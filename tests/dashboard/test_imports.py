"""The import service behind the Daten page: upload attacks, preview and diff, apply as a new
version, rollback, failures and kills that leave the live database alone, and readers during an
import."""

from __future__ import annotations

import datetime as dt
import errno
import hashlib
import io
import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import zipfile
from pathlib import Path

import duckdb
import polars as pl
import pytest

from dashboard import audit, data, imports
from dashboard.imports import ImportBusy, ImportFailed, UploadLimits
from tests.cohort import DATENSTAND, KOMMUNEN, MEILENSTEINE, write_cohort

ROOT = Path(__file__).resolve().parents[2]
STICHTAG = dt.date.fromisoformat(DATENSTAND)
PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00"


def upload(name: str, content: bytes | str) -> io.BytesIO:
    """An uploaded file as the page gets it: a binary stream with a name."""
    f = io.BytesIO(content.encode("utf-8") if isinstance(content, str) else content)
    f.name = name
    return f


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def figures(db: Path) -> dict:
    """Key figures and rows straight from a database file (independent of the data layer)."""
    con = duckdb.connect(str(db), read_only=True)
    try:
        return {
            "build_id": con.execute("select build_id from meta_build").fetchone()[0],
            "kommunen": con.execute("select kommune_id, name, status, einwohner from kommune "
                                    "order by kommune_id").fetchall(),
            "meilensteine": con.execute("select * from meilenstein order by all").fetchall(),
            "teilnehmende": con.execute("select sum(teilnehmende) from modulnutzung").fetchone(),
            "mart": con.execute("select kommune_id, status, ueberfaellig_anzahl from mart_kommune "
                                "order by kommune_id").fetchall(),
        }
    finally:
        con.close()


@pytest.fixture
def live(tmp_path: Path, cohort_db: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A live database (a copy of the cohort build) in its own folder, with its own audit log."""
    db = tmp_path / "live" / "monitor.duckdb"
    db.parent.mkdir()
    shutil.copyfile(cohort_db, db)
    monkeypatch.setenv("WK_DB", str(db))
    monkeypatch.setenv("WK_AUDIT", str(tmp_path / "live" / "audit.jsonl"))
    return db


# Lemgo changes (inhabitants, status), Göttingen leaves the registry, Kiel is new.
KOMMUNEN_NEU = (
    KOMMUNEN.replace("Lippe;40.696;", "Lippe;41.000;")
    .replace("8,90061;aktiv;", "8,90061;ausgeschieden;")
    .replace("03159;=SUM(1) Göttingen;Landkreis;Niedersachsen;Göttingen;328.074;51,5413;9,9158;"
             "ausgeschieden;01.03.2021;;;;nein;ja;nein;ja;ja;\n", "")
    + "01002000;Kiel;kreisfreie Stadt;Schleswig-Holstein;Kiel;246.601;54,32133;10,13489;aktiv;"
      "01.11.2021;;;;ja;ja;ja;ja;ja;\n"
)
MEILENSTEINE_NEU = (
    MEILENSTEINE.replace("05766020;Fragebogen;01.11.2021;;", "05766020;Fragebogen;01.11.2021;"
                         "20.11.2021;")
    + "01002000;Erstgespräch;01.11.2021;03.11.2021;\n"
)


def changed_cohort() -> list[io.BytesIO]:
    return [upload("kommunen.csv", KOMMUNEN_NEU), upload("meilensteine.csv", MEILENSTEINE_NEU)]


# ---- upload attacks ------------------------------------------------------------------------------


def test_path_in_the_file_name_is_cut_off_and_an_unknown_name_refused(live: Path, tmp_path):
    check = imports.check_uploads([upload("../../x.csv", "a;b\n1;2\n")])
    assert not check.accepted
    (problem,) = check.problems
    assert problem.meldung.startswith("„x.csv“ (hochgeladen als „../../x.csv“) ist kein "
                                      "erlaubter Dateiname.")
    assert "„kommunen“" in problem.meldung and ".csv oder .xlsx" in problem.meldung
    before = sha(live)
    p = imports.preview(data.STAFF, [upload("../../x.csv", "a;b\n1;2\n")], STICHTAG)
    assert not p.can_apply
    with pytest.raises(ImportFailed, match="Vorschau enthält Fehler"):
        imports.apply(data.STAFF, "anna", p)
    assert sha(live) == before
    assert not any(tmp_path.parent.rglob("x.csv"))  # nothing was written anywhere
    # a known name behind a path (also Windows style) is reduced to its base name and taken
    for name in ("../../kommunen.csv", "C:\\Daten\\Kommunen.CSV"):
        ok = imports.check_uploads([upload(name, KOMMUNEN)])
        assert list(ok.accepted) == ["kommunen"] and ok.accepted["kommunen"].name == "kommunen.csv"


def test_renamed_binary_is_refused_by_its_content(live: Path):
    (png_csv,) = imports.check_uploads([upload("kommunen.csv", PNG)]).problems
    assert png_csv.meldung.startswith("„kommunen.csv“ ist keine CSV-Textdatei, auch wenn der "
                                      "Name so endet: der Inhalt ist ein PNG-Bild.")
    (fake_xlsx,) = imports.check_uploads([upload("meilensteine.xlsx", MEILENSTEINE)]).problems
    assert fake_xlsx.meldung.startswith("„meilensteine.xlsx“ ist keine Excel-Datei (.xlsx), "
                                        "auch wenn der Name so endet")
    (png_xlsx,) = imports.check_uploads([upload("selbstcheck.xlsx", PNG)]).problems
    assert "der Inhalt ist ein PNG-Bild" in png_xlsx.meldung
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("hallo.txt", "kein Excel")
    (plain_zip,) = imports.check_uploads([upload("kommunen.xlsx", buf.getvalue())]).problems
    assert "ist ein ZIP-Archiv, aber keine Excel-Arbeitsmappe" in plain_zip.meldung
    (zip_as_csv,) = imports.check_uploads([upload("kommunen.csv", buf.getvalue())]).problems
    assert "Eine Excel-Datei laden Sie bitte als „kommunen.xlsx“ hoch." in zip_as_csv.meldung
    # binary after a harmless text start is still caught (NUL anywhere in the file)
    (late,) = imports.check_uploads([upload("kommunen.csv", b"a;b\n" * 2000 + PNG)]).problems
    assert "ist keine Textdatei (CSV)" in late.meldung


def test_file_over_the_size_limit_is_refused(live: Path):
    limits = UploadLimits(max_bytes=500)
    (problem,) = imports.check_uploads([upload("kommunen.csv", KOMMUNEN)], limits).problems
    assert problem.meldung.startswith("„kommunen.csv“ ist zu groß. Erlaubt sind höchstens "
                                      "500 Byte pro Datei.")
    assert imports.check_uploads([upload("kommunen.csv", KOMMUNEN)],
                                 UploadLimits(max_bytes=10_000)).accepted


class _Endless(io.RawIOBase):
    """A 300 MB upload that is generated while read, counting what was read."""

    def __init__(self, size: int, declared: bool):
        self.name, self.left, self.read_bytes = "modulnutzung.csv", size, 0
        if declared:
            self.size = size

    def readable(self) -> bool:
        return True

    def read(self, n: int = -1) -> bytes:
        n = self.left if n < 0 else min(n, self.left)
        self.left -= n
        self.read_bytes += n
        return b"1" * n


def test_a_300_mb_upload_is_refused_before_it_is_read_whole(live: Path):
    size = 300 * imports.MB
    declared = _Endless(size, declared=True)
    (problem,) = imports.check_uploads([declared]).problems
    assert problem.meldung.startswith("„modulnutzung.csv“ ist zu groß (300,0 MB). Erlaubt sind "
                                      "höchstens 50,0 MB pro Datei.")
    assert declared.read_bytes == 0  # the declared size was enough
    streamed = _Endless(size, declared=False)
    (problem,) = imports.check_uploads([streamed]).problems
    assert "ist zu groß" in problem.meldung
    assert streamed.read_bytes <= imports.MAX_UPLOAD_BYTES + 1


def _workbook(members: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as zf:
        zf.writestr("[Content_Types].xml", "<Types/>")
        zf.writestr("xl/workbook.xml", "<workbook/>")
        for name, content in members.items():
            zf.writestr(name, content)
    return buf.getvalue()


def test_xlsx_zip_bomb_is_refused_before_excel_parsing(live: Path, monkeypatch):
    import fastexcel

    monkeypatch.setattr(fastexcel, "read_excel", lambda *_a, **_k: pytest.fail("parsed a bomb"))
    bomb = _workbook({"xl/worksheets/sheet1.xml": b"\0" * (64 * imports.MB)})
    assert len(bomb) < 200_000  # a small upload …
    (problem,) = imports.check_uploads([upload("kommunen.xlsx", bomb)]).problems
    assert problem.meldung.startswith("„kommunen.xlsx“ wurde abgelehnt: ein Teil ist im "
                                      "Verhältnis")
    assert "(„ZIP-Bombe“)" in problem.meldung
    # … and by total unpacked size, with a ratio that looks harmless
    (big,) = imports.check_uploads([upload("kommunen.xlsx", bomb)],
                                   UploadLimits(max_unzipped=10 * imports.MB,
                                                max_ratio=10_000)).problems
    assert "entpackt wäre sie größer als 10,0 MB" in big.meldung


def test_xlsx_bomb_with_lying_size_headers_is_refused(live: Path, monkeypatch):
    import fastexcel

    monkeypatch.setattr(fastexcel, "read_excel", lambda *_a, **_k: pytest.fail("parsed a bomb"))
    bomb = bytearray(_workbook({"xl/worksheets/sheet1.xml": b"\0" * (32 * imports.MB)}))
    # rewrite the central directory: the sheet claims to unpack to 1,000 bytes
    pos = bomb.find(b"PK\x01\x02")
    while pos != -1:
        name_len = int.from_bytes(bomb[pos + 28:pos + 30], "little")
        if bomb[pos + 46:pos + 46 + name_len] == b"xl/worksheets/sheet1.xml":
            bomb[pos + 24:pos + 28] = (1_000).to_bytes(4, "little")
        pos = bomb.find(b"PK\x01\x02", pos + 4)
    with zipfile.ZipFile(io.BytesIO(bytes(bomb))) as zf:
        assert sum(i.file_size for i in zf.infolist()) < 2_000  # the headers lie
    (problem,) = imports.check_uploads([upload("kommunen.xlsx", bytes(bomb))],
                                       UploadLimits(max_unzipped=8 * imports.MB)).problems
    # the member is inflated rather than trusted: it either overruns the limit or fails the
    # checksum of the size it claims
    assert ("entpackt wäre sie größer als 8,0 MB" in problem.meldung
            or problem.meldung.startswith("„kommunen.xlsx“ ist beschädigt"))


def test_empty_and_duplicate_files_are_refused(live: Path):
    (empty,) = imports.check_uploads([upload("selbstcheck.csv", b"  \n")]).problems
    assert empty.meldung.startswith("„selbstcheck.csv“ ist leer.")
    xlsx = io.BytesIO()
    pl.DataFrame({"kommune_id": ["01001000"]}).write_excel(xlsx)
    check = imports.check_uploads([upload("kommunen.csv", KOMMUNEN),
                                   upload("kommunen.xlsx", xlsx.getvalue())])
    assert not check.accepted
    assert check.problems[0].meldung == (
        "Für „kommunen“ wurden mehrere Dateien hochgeladen („kommunen.csv“, „kommunen.xlsx“). "
        "Bitte laden Sie nur eine davon hoch.")


def test_windows_1252_file_with_umlauts_imports_correctly(live: Path):
    cp1252 = KOMMUNEN.encode("cp1252")
    assert "Göttingen".encode("cp1252") in cp1252
    p = imports.preview(data.STAFF, [upload("kommunen.csv", cp1252)], STICHTAG)
    assert p.can_apply, p.problems
    row = p.files.filter(pl.col("datei_art") == "kommunen").row(0, named=True)
    assert (row["kodierung"], row["quelle"], row["zeilen_abgelehnt"]) == ("cp1252", "hochgeladen",
                                                                          0)
    assert p.diff.counts() == dict.fromkeys(p.diff.counts(), 0)  # same content as before
    version = imports.apply(data.STAFF, "anna", p)
    names = dict((k, n) for k, n, _s, _e in figures(live)["kommunen"])
    assert names["03159"] == "=SUM(1) Göttingen"
    assert names["09162000"] == "München <script>alert(1)</script>"
    stored = version.folder / "eingabe" / "kommunen.csv"
    assert stored.read_bytes() == cp1252  # the input file is kept exactly as uploaded


def test_xlsx_upload_is_read_like_the_csv(live: Path):
    from etl.read import read_csv_text

    frame, _ = read_csv_text(MEILENSTEINE.encode(), "meilensteine.csv")
    xlsx = io.BytesIO()
    frame.write_excel(xlsx, worksheet="meilensteine")
    p = imports.preview(data.STAFF, [upload("meilensteine.xlsx", xlsx.getvalue())], STICHTAG)
    assert p.can_apply, p.problems
    assert p.rejects.is_empty()
    assert p.files.filter(pl.col("datei_art") == "meilensteine").row(0, named=True)[
        "kodierung"] == "xlsx"
    assert p.diff.counts()["meilensteine_geaendert"] == 0


# ---- preview -------------------------------------------------------------------------------------


def test_preview_reports_rows_rejects_and_the_diff(live: Path):
    p = imports.preview(data.STAFF, changed_cohort(), STICHTAG)
    assert p.can_apply and not p.problems
    files = {r["datei_art"]: r for r in p.files.iter_rows(named=True)}
    assert {k: r["quelle"] for k, r in files.items()} == {
        "kommunen": "hochgeladen", "meilensteine": "hochgeladen", "modulnutzung": "bisher",
        "selbstcheck": "bisher"}
    assert (files["kommunen"]["zeilen_gelesen"], files["kommunen"]["zeilen_geladen"]) == (4, 4)
    # Göttingen's two milestones now point to no commune: rejected with the reason
    assert (files["meilensteine"]["zeilen_geladen"],
            files["meilensteine"]["zeilen_abgelehnt"]) == (17, 2)
    assert p.rejects.get_column("zeile").to_list() == [18, 19]
    assert p.rejects.get_column("meldung")[0].startswith("Die Kommune „03159“ steht nicht im "
                                                         "Register")
    d = p.diff
    assert d.kommunen_neu.rows() == [("01002000", "Kiel")]
    assert d.kommunen_entfernt.rows() == [("03159", "=SUM(1) Göttingen")]
    assert d.kommunen_geaendert.rows() == [
        ("05766020", "Lemgo", "status: aktiv → ausgeschieden; einwohner: 40696 → 41000")]
    assert d.meilensteine_neu.rows() == [("01002000", "Kiel", "Erstgespräch")]
    assert d.meilensteine_geaendert.rows() == [
        ("05766020", "Lemgo", "Fragebogen", "erreicht_am: – → 20.11.2021")]
    assert d.meilensteine_entfernt.rows() == [("03159", "=SUM(1) Göttingen", "Erstgespräch"),
                                             ("03159", "=SUM(1) Göttingen", "Fragebogen")]
    assert figures(live)["kommunen"][0][0] == "01001000"  # the preview changed nothing


def test_preview_names_a_structurally_broken_file(live: Path):
    broken = MEILENSTEINE.replace("meilenstein;", "schritt;", 1)
    p = imports.preview(data.STAFF, [upload("meilensteine.csv", broken)], STICHTAG)
    assert not p.can_apply and p.diff is None
    (problem,) = p.problems
    assert problem.datei == "meilensteine.csv"
    assert problem.meldung.startswith("In „meilensteine.csv“ fehlt die Spalte „meilenstein“.")


def test_partial_upload_needs_the_stored_files_of_the_current_version(tmp_path, monkeypatch):
    # a database whose input folder is gone: its files cannot be combined with an upload
    inputs = write_cohort(tmp_path / "weg")
    db = tmp_path / "live" / "monitor.duckdb"
    from etl.build import build

    build(inputs, db)
    shutil.rmtree(inputs)
    monkeypatch.setenv("WK_DB", str(db))
    monkeypatch.setenv("WK_AUDIT", str(tmp_path / "audit.jsonl"))
    version = imports.current_version(data.STAFF)
    assert version.art == "bestand"
    assert not any(f["gespeichert"] for f in version.dateien)
    p = imports.preview(data.STAFF, [upload("kommunen.csv", KOMMUNEN)], STICHTAG)
    assert not p.can_apply
    assert [x.datei for x in p.problems] == ["meilensteine.csv", "modulnutzung.csv",
                                            "selbstcheck.csv"]
    assert p.problems[0].meldung.startswith("Es fehlt die Datei „meilensteine.csv“ (oder .xlsx)")
    # all four files work
    full = [upload(f"{n}.csv", t) for n, t in _cohort_texts().items()]
    assert imports.preview(data.STAFF, full, STICHTAG).can_apply


def _cohort_texts() -> dict[str, str]:
    from tests import cohort

    return {"kommunen": cohort.KOMMUNEN, "meilensteine": cohort.MEILENSTEINE,
            "modulnutzung": cohort.MODULNUTZUNG, "selbstcheck": cohort.SELBSTCHECK}


def test_only_staff_may_use_the_service(live: Path):
    for viewer in (data.PUBLIC, data.Viewer("kommune", "05766020")):
        with pytest.raises(PermissionError):
            imports.preview(viewer, changed_cohort(), STICHTAG)
        with pytest.raises(PermissionError):
            imports.list_versions(viewer)
        with pytest.raises(PermissionError):
            imports.rollback(viewer, "x", "20200101T000000Z-abcdef")
        with pytest.raises(PermissionError):
            imports.rejects_csv(viewer, "20200101T000000Z-abcdef")
    p = imports.preview(data.STAFF, changed_cohort(), STICHTAG)
    with pytest.raises(PermissionError):
        imports.apply(data.PUBLIC, "x", p)


# ---- versions, apply and rollback ----------------------------------------------------------------


def test_existing_database_is_registered_as_first_version(live: Path, cohort_db: Path):
    (version,) = imports.list_versions(data.STAFF)
    assert version.art == "bestand" and version.benutzer == ""
    assert version.build_id == figures(cohort_db)["build_id"]
    assert sha(version.database) == sha(cohort_db) == version.datenbank_sha256
    # the cohort's input folder still holds the files it was built from: kept as its inputs
    assert all(f["gespeichert"] for f in version.dateien)
    assert sorted(p.name for p in (version.folder / "eingabe").iterdir()) == [
        "kommunen.csv", "meilensteine.csv", "modulnutzung.csv", "quelle.toml", "selbstcheck.csv"]


def test_apply_builds_a_version_and_rollback_restores_the_exact_figures(live: Path):
    before = figures(live)
    before_kf = data.key_figures(data.STAFF)
    base = imports.current_version(data.STAFF)
    version = imports.apply(data.STAFF, "anna", imports.preview(data.STAFF, changed_cohort(),
                                                               STICHTAG))
    after = figures(live)
    assert after["build_id"] == version.build_id == data.build_info().build_id
    assert after != before and ("01002000", "Kiel", "aktiv", 246601) in after["kommunen"]
    assert data.key_figures(data.STAFF).kommunen == before_kf.kommunen  # 4 − Göttingen + Kiel
    assert "Kiel" in data.load_kommunen(data.STAFF).get_column("name").to_list()

    meta = json.loads((version.folder / "version.json").read_text(encoding="utf-8"))
    assert meta["benutzer"] == "anna" and meta["basis_build_id"] == base.build_id
    files = {f["datei"]: f for f in meta["dateien"]}
    assert files["kommunen.csv"]["sha256"] == hashlib.sha256(KOMMUNEN_NEU.encode()).hexdigest()
    assert files["kommunen.csv"]["quelle"] == "hochgeladen"
    assert files["selbstcheck.csv"]["quelle"] == "bisher"
    assert files["meilensteine.csv"]["zeilen_abgelehnt"] == 2 == meta["abgelehnte_zeilen"]
    assert meta["datenbank_sha256"] == sha(version.database) == sha(live)
    report = imports.rejects_csv(data.STAFF, version.build_id).decode("utf-8-sig")
    assert report.splitlines()[0] == "datei;zeile;spalte;wert;meldung;art"
    assert "steht nicht im Register" in report

    listed = imports.list_versions(data.STAFF)
    assert [v.build_id for v in listed] == [version.build_id, base.build_id]
    frame = imports.versions_frame(listed, data.build_info().build_id)
    assert frame.get_column("aktuell").to_list() == [True, False]
    assert frame.row(0, named=True)["kommunen"] == 4
    assert frame.row(0, named=True)["meilensteine"] == 17

    imports.rollback(data.STAFF, "ben", base.build_id)
    assert figures(live) == before
    assert sha(live) == sha(base.database)  # byte for byte the previous database
    assert data.build_info().build_id == base.build_id
    restored = data.key_figures(data.STAFF)
    assert restored == before_kf  # the Überblick's report figures are compared by figures()
    imports.rollback(data.STAFF, "ben", version.build_id)  # and forward again
    assert figures(live) == after

    events = audit.read_events()
    assert events.get_column("aktion").to_list() == ["rollback", "rollback", "import"]
    assert events.get_column("benutzer").to_list() == ["ben", "ben", "anna"]
    assert json.loads(events.item(1, "details")) == {"von": version.build_id,
                                                     "nach": base.build_id}


def test_audit_log_of_an_import_holds_no_personal_data(live: Path):
    imports.apply(data.STAFF, "anna", imports.preview(data.STAFF, changed_cohort(), STICHTAG))
    text = Path(os.environ["WK_AUDIT"]).read_text(encoding="utf-8")
    for personal in ("Frida Fiktiv", "frida@example.org", "Lars Erfunden", "lars@example.org",
                     "Mia Muster", "0000 1", "Notiz intern"):
        assert personal not in text


def test_a_stale_preview_cannot_overwrite_a_newer_version(live: Path):
    first = imports.preview(data.STAFF, changed_cohort(), STICHTAG)
    second = imports.preview(data.STAFF, [upload("kommunen.csv", KOMMUNEN)], STICHTAG)
    imports.apply(data.STAFF, "anna", first)
    with pytest.raises(ImportFailed, match="Inzwischen wurde eine andere Version übernommen"):
        imports.apply(data.STAFF, "ben", second)


def test_applies_are_serialised_by_the_lock(live: Path):
    p = imports.preview(data.STAFF, changed_cohort(), STICHTAG)
    before = sha(live)
    with imports.locked(), pytest.raises(ImportBusy, match="Gerade übernimmt jemand anderes"):
        imports.apply(data.STAFF, "ben", p, lock_timeout=0.3)
    assert sha(live) == before
    # two sessions applying the same base at once: one wins, the other is told to re-check
    outcomes: list[str] = []

    def run() -> None:
        try:
            imports.apply(data.STAFF, "anna", p)
            outcomes.append("ok")
        except ImportFailed:
            outcomes.append("stale")

    workers = [threading.Thread(target=run) for _ in range(2)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    assert sorted(outcomes) == ["ok", "stale"]


def test_rollback_refuses_unknown_ids_and_damaged_versions(live: Path):
    with pytest.raises(ImportFailed, match="keine gültige Versionsnummer"):
        imports.rollback(data.STAFF, "anna", "../live")
    with pytest.raises(ImportFailed, match="gibt es nicht"):
        imports.rollback(data.STAFF, "anna", "20200101T000000Z-abcdef")
    base = imports.current_version(data.STAFF)
    imports.apply(data.STAFF, "anna", imports.preview(data.STAFF, changed_cohort(), STICHTAG))
    with base.database.open("r+b") as fh:  # bit rot in the stored version
        fh.seek(5000)
        fh.write(b"\xff\xff")
    before = sha(live)
    with pytest.raises(ImportFailed, match="ist beschädigt"):
        imports.rollback(data.STAFF, "anna", base.build_id)
    assert sha(live) == before


def test_old_versions_are_pruned_but_never_the_live_one(live: Path):
    base = imports.current_version(data.STAFF)
    texts = [KOMMUNEN_NEU, KOMMUNEN, KOMMUNEN_NEU]
    built = []
    for text in texts:
        p = imports.preview(data.STAFF, [upload("kommunen.csv", text)], STICHTAG)
        built.append(imports.apply(data.STAFF, "anna", p, keep=2).build_id)
    assert [v.build_id for v in imports.list_versions(data.STAFF)] == built[::-1][:2]
    assert not base.folder.exists()


# ---- failures leave the live database alone ------------------------------------------------------


def test_failed_build_leaves_the_current_version(live: Path, monkeypatch, tmp_path):
    import etl.build

    broken = tmp_path / "99_kaputt.sql"
    broken.write_text("select * from gibt_es_nicht;", encoding="utf-8")
    real = etl.build.sql_files
    monkeypatch.setattr(etl.build, "sql_files", lambda: [*real(), broken])
    before, versions = sha(live), imports.list_versions(data.STAFF)
    p = imports.preview(data.STAFF, changed_cohort(), STICHTAG)
    with pytest.raises(ImportFailed, match="unerwarteten Fehlers \\(CatalogException\\).*"
                                           "bisherige Version bleibt aktiv"):
        imports.apply(data.STAFF, "anna", p)
    assert sha(live) == before
    assert imports.list_versions(data.STAFF) == versions
    assert sorted(c.name for c in imports.builds_dir().iterdir() if c.is_dir()) == [
        v.build_id for v in versions]  # the half-built folder is gone
    assert audit.read_events().item(0, "aktion") == "import_failed"


def test_failed_switch_leaves_the_current_version(live: Path, monkeypatch):
    real_copy = shutil.copyfile

    def disk_full(src, dst, *args, **kwargs):
        if "wechsel" in str(dst):
            raise OSError(errno.ENOSPC, "No space left on device")
        return real_copy(src, dst, *args, **kwargs)

    before = sha(live)
    p = imports.preview(data.STAFF, changed_cohort(), STICHTAG)
    monkeypatch.setattr(imports.versions.shutil, "copyfile", disk_full)
    with pytest.raises(ImportFailed, match="Speicherplatz auf dem Server ist voll.*bisherige "
                                           "Version bleibt"):
        imports.apply(data.STAFF, "anna", p)
    assert sha(live) == before
    assert len(imports.list_versions(data.STAFF)) == 1
    assert not list(live.parent.glob(".*.tmp"))


_KILLED_IMPORT = """
import datetime as dt, io, os, signal, sys
from dashboard import data, imports
f = io.BytesIO(open(sys.argv[1], "rb").read()); f.name = "kommunen.csv"
p = imports.preview(data.STAFF, [f], dt.date.fromisoformat(sys.argv[2]))
assert p.can_apply, p.problems

def progress(msg):
    if msg.startswith(sys.argv[3]):
        os.kill(os.getpid(), signal.SIGKILL)  # the server dies mid-import

imports.apply(data.STAFF, "anna", p, progress=progress)
"""


@pytest.mark.parametrize("kill_at", ["SQL core/", "Die neue Version wird aktiviert"])
def test_killed_import_leaves_the_current_version(live: Path, tmp_path, kill_at):
    imports.current_version(data.STAFF)
    before, versions = sha(live), imports.list_versions(data.STAFF)
    upload_file = tmp_path / "kommunen.csv"
    upload_file.write_text(KOMMUNEN_NEU, encoding="utf-8")
    proc = subprocess.run([sys.executable, "-c", _KILLED_IMPORT, str(upload_file), DATENSTAND,
                           kill_at], cwd=ROOT, env=os.environ.copy(), capture_output=True,
                          timeout=120)
    assert proc.returncode == -signal.SIGKILL, proc.stderr.decode()[-2000:]
    assert sha(live) == before
    assert data.build_info().build_id == versions[0].build_id
    # killed mid-build: no new version; killed while switching: the new version is complete
    # and listed (one can switch to it later), but the live database is still the old one
    listed = imports.list_versions(data.STAFF)
    assert listed[-len(versions):] == versions and len(listed) <= len(versions) + 1
    if kill_at.startswith("SQL"):
        assert listed == versions
    # the next import cleans up what the killed one left, and works
    version = imports.apply(data.STAFF, "ben", imports.preview(data.STAFF, changed_cohort(),
                                                                 STICHTAG))
    assert figures(live)["build_id"] == version.build_id
    leftovers = [c.name for c in imports.builds_dir().iterdir() if c.is_dir()]
    assert sorted(leftovers) == sorted(v.build_id for v in imports.list_versions(data.STAFF))
    assert not list(live.parent.glob(".*.tmp"))


# ---- readers during an import --------------------------------------------------------------------


def test_import_while_three_readers_query(live: Path):
    old_id = data.build_info().build_id
    p = imports.preview(data.STAFF, changed_cohort(), STICHTAG)
    stop = threading.Event()
    started = threading.Barrier(4)
    seen: list[list[str]] = [[] for _ in range(3)]
    errors: list[BaseException] = []

    def reader(i: int) -> None:
        try:
            first = True
            while not stop.is_set():
                info = data.build_info()
                kf = data.key_figures(data.STAFF)
                assert kf.kommunen == 4
                data.load_kommunen(data.STAFF)
                seen[i].append(info.build_id)
                if first:
                    started.wait(timeout=30)
                    first = False
        except BaseException as exc:  # noqa: BLE001 - reported by the main thread
            errors.append(exc)

    threads = [threading.Thread(target=reader, args=(i,)) for i in range(3)]
    for t in threads:
        t.start()
    started.wait(timeout=30)
    version = imports.apply(data.STAFF, "anna", p)
    deadline = threading.Event()
    for _ in range(200):  # let every reader see the new build a few times
        if all(ids.count(version.build_id) >= 3 for ids in seen) or errors:
            break
        deadline.wait(0.05)
    stop.set()
    for t in threads:
        t.join(timeout=30)
    assert not errors, errors
    for ids in seen:
        assert ids[0] == old_id and ids[-1] == version.build_id
        switched = ids.index(version.build_id)
        assert set(ids[:switched]) == {old_id} and set(ids[switched:]) == {version.build_id}
