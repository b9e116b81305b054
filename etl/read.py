"""Read the staff's input files (CSV in German Excel dialect or XLSX) as text tables.

Everything is read as text so that validation sees exactly what staff typed (AGS codes keep their
leading zeros, `1.234` is not silently a float) and can report bad values with their row number.
Structural problems raise `InputError` with a German message; they stop the build.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

import polars as pl

from etl.schema import Entity

ROW_COLUMN = "_zeile"  # row number as the spreadsheet shows it (header = row 1)
CSV_SUFFIXES = (".csv", ".txt")
XLSX_SUFFIXES = (".xlsx", ".xlsm")
_ZIP_MAGIC = b"PK\x03\x04"


class InputError(Exception):
    """A structurally broken input: the build stops and the previous database stays."""


@dataclass(frozen=True)
class RawTable:
    """One input file read as text, with where it came from."""

    entity: str
    path: Path
    sha256: str
    encoding: str
    frame: pl.DataFrame  # all columns pl.String, plus ROW_COLUMN


def find_input_file(input_dir: Path, entity: Entity) -> Path:
    """Return the one file for `entity` in `input_dir` (`kommunen.csv` or `kommunen.xlsx`)."""
    candidates = (
        sorted(
            p
            for p in input_dir.iterdir()
            if p.is_file()
            and p.stem.lower() == entity.name
            and p.suffix.lower() in (*CSV_SUFFIXES, *XLSX_SUFFIXES)
        )
        if input_dir.is_dir()
        else []
    )
    if not candidates:
        raise InputError(
            f"Die Datei „{entity.name}.csv“ oder „{entity.name}.xlsx“ fehlt im Ordner "
            f"„{input_dir}“. Bitte legen Sie die Datei ab (Vorlage: data/vorlagen/)."
        )
    if len(candidates) > 1:
        names = ", ".join(p.name for p in candidates)
        raise InputError(
            f"Für „{entity.name}“ liegen mehrere Dateien vor ({names}). "
            "Bitte lassen Sie nur eine davon im Ordner."
        )
    return candidates[0]


def decode_text(data: bytes, file_name: str) -> tuple[str, str]:
    """Decode CSV bytes: UTF-8 (with or without BOM) or Windows-1252; return (text, encoding)."""
    # the whole file (memchr, milliseconds even at 100 MB): a binary file with a text preamble
    # must not pass as Windows-1252 text
    if b"\x00" in data:
        raise InputError(
            f"„{file_name}“ ist keine Textdatei (CSV). Bitte speichern Sie die Tabelle als "
            "„CSV UTF-8 (durch Trennzeichen getrennt)“ oder als Excel-Datei (.xlsx)."
        )
    if data.startswith(b"\xef\xbb\xbf"):
        return data[3:].decode("utf-8", errors="strict"), "utf-8-sig"
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("cp1252"), "cp1252"
    except UnicodeDecodeError as exc:
        raise InputError(
            f"Die Zeichenkodierung von „{file_name}“ ist nicht lesbar (weder UTF-8 noch "
            f"Windows-1252, Byte {exc.start}). Bitte speichern Sie die Datei als „CSV UTF-8“."
        ) from exc


def sniff_delimiter(header_line: str) -> str:
    """Pick the separator used in the header: `;` (German Excel), `,` or tab."""
    counts = {sep: header_line.count(sep) for sep in (";", ",", "\t")}
    sep, count = max(counts.items(), key=lambda kv: kv[1])
    return sep if count else ";"


def _normalise_header(frame: pl.DataFrame) -> pl.DataFrame:
    renamed = {c: c.strip().lower().replace(" ", "_") for c in frame.columns}
    return frame.rename(renamed)


def read_csv_text(data: bytes, file_name: str) -> tuple[pl.DataFrame, str]:
    """Parse CSV bytes into an all-text frame; return (frame, encoding)."""
    text, encoding = decode_text(data, file_name)
    first_line = text[: text.find("\n")] if "\n" in text else text
    if not first_line.strip():
        raise InputError(f"„{file_name}“ ist leer oder hat keine Kopfzeile.")
    # polars parses bytes much faster than a str; hand it UTF-8 bytes without the BOM
    utf8 = {"utf-8": data, "utf-8-sig": data[3:]}.get(encoding) or text.encode("utf-8")
    try:
        frame = pl.read_csv(
            utf8,
            separator=sniff_delimiter(first_line),
            infer_schema=False,
            truncate_ragged_lines=True,
        )
    except pl.exceptions.PolarsError as exc:
        raise InputError(
            f"„{file_name}“ lässt sich nicht als CSV lesen ({exc.__class__.__name__}). "
            "Bitte prüfen Sie Trennzeichen und Anführungszeichen."
        ) from exc
    return frame, encoding


def read_xlsx_text(data: bytes, file_name: str, sheet_hint: str) -> pl.DataFrame:
    """Parse XLSX bytes into an all-text frame (sheet named like the entity, else the first)."""
    import fastexcel

    if not data.startswith(_ZIP_MAGIC):
        raise InputError(
            f"„{file_name}“ ist keine gültige Excel-Datei (.xlsx). Bitte öffnen Sie sie in "
            "Excel und speichern Sie sie erneut als „Excel-Arbeitsmappe (.xlsx)“."
        )
    try:
        reader = fastexcel.read_excel(data)
        sheets = reader.sheet_names
        sheet = sheet_hint if sheet_hint in sheets else 0
        frame = reader.load_sheet(sheet, dtypes="string").to_polars()
    except Exception as exc:  # calamine raises several exception types for corrupt files
        raise InputError(
            f"„{file_name}“ lässt sich nicht als Excel-Datei lesen ({exc.__class__.__name__}). "
            "Bitte speichern Sie sie erneut als „Excel-Arbeitsmappe (.xlsx)“."
        ) from exc
    return frame.with_columns(pl.all().cast(pl.String))


def read_table(path: Path, entity: Entity) -> RawTable:
    """Read one input file as text and check that every required column is there."""
    data = path.read_bytes()
    if path.suffix.lower() in XLSX_SUFFIXES:
        frame, encoding = read_xlsx_text(data, path.name, entity.name), "xlsx"
    else:
        frame, encoding = read_csv_text(data, path.name)
    frame = _normalise_header(frame)
    missing = [c for c in entity.required_columns if c not in frame.columns]
    if missing:
        cols = ", ".join(f"„{c}“" for c in missing)
        raise InputError(
            f"In „{path.name}“ fehlt die Spalte {cols}. Bitte ergänzen Sie die Spalte in der "
            "Kopfzeile (Schreibweise siehe data/README.md)."
        )
    # Optional columns that are absent are added empty, unknown extra columns are dropped.
    frame = frame.with_columns(
        pl.lit(None, dtype=pl.String).alias(c)
        for c in entity.column_names
        if c not in frame.columns
    ).select(entity.column_names)
    frame = frame.with_row_index(ROW_COLUMN, offset=2).with_columns(
        pl.col(ROW_COLUMN).cast(pl.Int64)
    )
    # Fully empty lines (Excel often leaves some at the end) are not rows.
    frame = frame.filter(~pl.all_horizontal(pl.col(entity.column_names).is_null()))
    return RawTable(
        entity=entity.name,
        path=path,
        sha256=hashlib.sha256(data).hexdigest(),
        encoding=encoding,
        frame=frame,
    )
