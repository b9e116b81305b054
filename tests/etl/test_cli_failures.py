"""`python -m etl build` with hostile inputs and real faults: a German message, exit code 1, no
traceback, and the old database untouched, whatever goes wrong."""

from __future__ import annotations

import hashlib
import io
import os
import signal
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from etl.__main__ import main as etl_main
from tests.cohort import KOMMUNEN, write_cohort
from tests.fsfaults import fill_up, read_only, small_filesystem

ROOT = Path(__file__).resolve().parents[2]


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def cli(*args: str | Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "etl", "build", *map(str, args)], cwd=ROOT,
                          capture_output=True, text=True, timeout=120)


@pytest.fixture
def built(tmp_path: Path) -> Path:
    db = tmp_path / "out" / "monitor.duckdb"
    assert etl_main(["build", "--input", str(write_cohort(tmp_path / "ok")), "--output",
                     str(db)]) == 0
    return db


def _zip_bomb() -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("[Content_Types].xml", "<Types/>")
        zf.writestr("xl/workbook.xml", "<workbook/>")
        zf.writestr("xl/worksheets/sheet1.xml", b"\0" * (300 << 20))  # 300 MB of zeros
    return buf.getvalue()


# (what is wrong, how to make it, words the German message must hold)
CASES = {
    "datenstand_kein_datum": (lambda d: (d / "quelle.toml").write_text(
        'datenstand = "Ende 2021"\n', encoding="utf-8"), "Datenstand „Ende 2021“ kein Datum"),
    "datenstand_zahl": (lambda d: (d / "quelle.toml").write_text(
        "datenstand = 42\n", encoding="utf-8"), "Datenstand „42“ kein Datum"),
    "datenstand_liste": (lambda d: (d / "quelle.toml").write_text(
        "datenstand = [1, 2]\n", encoding="utf-8"), "kein Datum"),
    "quelle_binaer": (lambda d: (d / "quelle.toml").write_bytes(b"\xff\xfe\x00\x01datenstand"),
                      "„quelle.toml“ ist nicht lesbar"),
    "quelle_kaputt": (lambda d: (d / "quelle.toml").write_text("datenstand = \n",
                                                                encoding="utf-8"),
                      "„quelle.toml“ ist nicht lesbar"),
    "doppelte_kopfzeile": (lambda d: (d / "kommunen.csv").write_text(
        KOMMUNEN.replace("kommune_id;name;", "kommune_id;Name;name;", 1), encoding="utf-8"),
        "doppelt"),
    "xlsm": (lambda d: ((d / "selbstcheck.csv").unlink(),
                        (d / "selbstcheck.xlsm").write_bytes(b"PK\x03\x04makro")),
             ".xlsm"),
    "zip_bombe": (lambda d: ((d / "selbstcheck.csv").unlink(),
                             (d / "selbstcheck.xlsx").write_bytes(_zip_bomb())), "ZIP-Bombe"),
    "zu_gross": (lambda d: (d / "modulnutzung.csv").write_bytes(
        b"kommune_id;veranstaltung_id\n" + b"01001000;V1\n" * ((51 << 20) // 12)), "zu groß"),
    "png_statt_csv": (lambda d: (d / "meilensteine.csv").write_bytes(b"\x89PNG\r\n\x1a\n\0"),
                      "keine Textdatei"),
}


@pytest.mark.parametrize("case", list(CASES))
def test_hostile_input_gives_german_message_exit_1_and_keeps_the_database(built, tmp_path,
                                                                           case):
    make, words = CASES[case]
    bad = write_cohort(tmp_path / "bad")
    make(bad)
    before = sha(built)
    proc = cli("--input", bad, "--output", built)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "Traceback" not in proc.stderr
    assert words in proc.stderr, proc.stderr
    assert "Die bisherige Datenbank bleibt unverändert." in proc.stderr
    assert sha(built) == before
    assert not [p for p in built.parent.iterdir() if p.name.startswith(".")]


def test_full_disk_gives_german_message_and_keeps_the_database(tmp_path):
    with small_filesystem(tmp_path / "klein", "64m") as disk:
        db = disk / "monitor.duckdb"
        assert etl_main(["build", "--input", str(write_cohort(tmp_path / "in")), "--output",
                         str(db)]) == 0
        before = sha(db)
        fill_up(disk, keep=64 << 10)  # 64 KB left: the new database does not fit
        proc = cli("--input", tmp_path / "in", "--output", db)
        assert proc.returncode == 1, proc.stdout + proc.stderr
        assert "Traceback" not in proc.stderr
        assert "Speicherplatz auf dem Server ist voll" in proc.stderr
        assert sha(db) == before
        assert not [p.name for p in disk.iterdir() if p.name.startswith(".monitor")]


def test_read_only_folder_gives_german_message(tmp_path, built):
    before = sha(built)
    with read_only(built.parent):
        proc = cli("--input", write_cohort(tmp_path / "in"), "--output", built)
    assert proc.returncode == 1 and "Traceback" not in proc.stderr
    assert "schreibgeschützt" in proc.stderr, proc.stderr
    assert sha(built) == before


def test_next_build_removes_what_a_killed_build_left(tmp_path, built):
    inputs = write_cohort(tmp_path / "in")
    proc = subprocess.Popen([sys.executable, "-m", "etl", "build", "--input", str(inputs),
                             "--output", str(built)], cwd=ROOT, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, env=os.environ.copy())
    assert proc.stdout is not None
    for line in proc.stdout:
        if line.startswith(b"SQL marts/"):
            proc.send_signal(signal.SIGKILL)
            break
    proc.wait(timeout=60)
    left = [p.name for p in built.parent.iterdir() if p.name.endswith(".tmp")]
    assert left, "the killed build left no temp file (nothing to test)"
    result = cli("--input", inputs, "--output", built)
    assert result.returncode == 0, result.stderr
    assert "Reste eines abgebrochenen Builds entfernt" in result.stdout
    assert not [p.name for p in built.parent.iterdir() if p.name.startswith(".")]


def test_a_running_build_keeps_its_temp_file(tmp_path):
    """The claim on a temp file is what tells a dead build from a running one."""
    from etl.build import remove_stale_temp, temp_beside

    target = tmp_path / "monitor.duckdb"
    with temp_beside(target, "laufend") as tmp:
        tmp.write_bytes(b"im Bau")
        assert remove_stale_temp(target) == []
        assert tmp.exists()
    dead = tmp_path / ".monitor.duckdb.tot.tmp"
    dead.write_bytes(b"tot")
    assert remove_stale_temp(target) == [dead] and not dead.exists()


def test_a_file_over_the_size_limit_names_the_option_and_the_option_raises_it(tmp_path, built):
    """National-scale files are larger than an upload may be: the CLI refuses them with the
    upload's limit, says how to raise it, and builds with `--max-mb`."""
    folder = write_cohort(tmp_path / "gross")
    usage = folder / "modulnutzung.csv"
    text = usage.read_text(encoding="utf-8")
    head, *rows = text.splitlines(keepends=True)
    copies = 3 * 1024 * 1024 // len("".join(rows)) + 1  # the same rows again: over 3 MB
    # duplicate rows are rejected row by row, the file itself is structurally fine
    usage.write_text(head + "".join(rows) * copies, encoding="utf-8")
    need = -(-usage.stat().st_size // (1024 * 1024))  # whole MB, rounded up
    before = sha(built)
    refused = cli("--input", folder, "--output", built, "--max-mb", "2")
    assert refused.returncode == 1
    assert "„modulnutzung.csv“ ist zu groß" in refused.stderr
    assert f"--max-mb {need} angeben" in refused.stderr and "Traceback" not in refused.stderr
    assert sha(built) == before
    raised = cli("--input", folder, "--output", built, "--max-mb", str(need))
    assert raised.returncode == 0, raised.stderr
    assert sha(built) != before
    assert cli("--input", folder, "--output", built, "--max-mb", "0").returncode == 2
