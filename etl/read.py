"""Read the staff's input files (CSV in German Excel dialect or XLSX) as text tables.

Everything is read as text so that validation sees exactly what staff typed (AGS codes keep their
leading zeros, `1.234` is not silently a float) and can report bad values with their row number.
Structural problems raise `InputError` with a German message; they stop the build.
"""

from __future__ import annotations

import codecs
import copy
import csv
import datetime as dt
import hashlib
import io
import zipfile
import zlib
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import polars as pl

from etl.schema import Entity

ROW_COLUMN = "_zeile"  # row number as the spreadsheet shows it (header = row 1)
CSV_SUFFIXES = (".csv", ".txt")
XLSX_SUFFIXES = (".xlsx",)
REFUSED_SUFFIXES = (".xlsm", ".xls", ".xlsb", ".ods")  # found, named and refused
_ZIP_MAGIC = b"PK\x03\x04"

# Input safety, the same for uploads (dashboard/imports/uploads.py) and `python -m etl build`.
MB = 1024 * 1024
MAX_INPUT_BYTES = 50 * MB
MAX_XLSX_UNZIPPED = 1024 * MB  # real workbooks unpack to ~10x their size
MAX_XLSX_RATIO = 100  # real sheets compress ~5–15:1, zip bombs ~1000:1
MAX_XLSX_MEMBERS = 1000


@dataclass(frozen=True)
class InputLimits:
    """Limits for one input file; parameters so tests can use small ones."""

    max_bytes: int = MAX_INPUT_BYTES
    max_unzipped: int = MAX_XLSX_UNZIPPED
    max_ratio: float = MAX_XLSX_RATIO
    max_members: int = MAX_XLSX_MEMBERS


DEFAULT_LIMITS = InputLimits()


class InputError(Exception):
    """A structurally broken input: the build stops and the previous database stays."""


class InputTooLarge(InputError):
    """A file over the size limit (the CLI says how to raise it)."""

    def __init__(self, message: str, size_mb: int) -> None:
        super().__init__(message)
        self.size_mb = size_mb  # the file's size in whole MB, rounded up


@dataclass(frozen=True)
class RawTable:
    """One input file read as text, with where it came from."""

    entity: str
    path: Path
    sha256: str
    encoding: str
    frame: pl.DataFrame  # all columns pl.String, plus ROW_COLUMN
    notes: tuple[str, ...] = ()  # what the reader interpreted, for the import report


def find_input_file(input_dir: Path, entity: Entity) -> Path:
    """Return the one file for `entity` in `input_dir` (`kommunen.csv` or `kommunen.xlsx`)."""
    candidates = (
        sorted(
            p
            for p in input_dir.iterdir()
            if p.is_file()
            and p.stem.lower() == entity.name
            and p.suffix.lower() in (*CSV_SUFFIXES, *XLSX_SUFFIXES, *REFUSED_SUFFIXES)
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
    found = candidates[0]
    if found.suffix.lower() in REFUSED_SUFFIXES:
        raise InputError(
            f"„{found.name}“ wird nicht gelesen: erlaubt sind nur .csv und .xlsx (Dateien mit "
            "Makros wie .xlsm und alte Formate werden aus Sicherheitsgründen abgelehnt). Bitte "
            f"speichern Sie die Tabelle in Excel als „{entity.name}.xlsx“ (Excel-Arbeitsmappe)."
        )
    return found


def decode_text(data: bytes, file_name: str) -> tuple[str, str]:
    """Decode CSV bytes: UTF-8 (with or without BOM) or Windows-1252; return (text, encoding)."""
    # Excel's "Unicode-Text": UTF-16 (little endian) with BOM, tab-separated
    for bom, codec in ((b"\xff\xfe", "utf-16-le"), (b"\xfe\xff", "utf-16-be")):
        if data.startswith(bom):
            try:
                return data[2:].decode(codec), "utf-16"
            except UnicodeDecodeError as exc:
                raise InputError(
                    f"„{file_name}“ ist als Unicode-Text (UTF-16) gespeichert, aber beschädigt "
                    f"(Byte {exc.start}). Bitte speichern Sie die Datei als „CSV UTF-8“."
                ) from exc
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
    return frame.rename({c: _header_key(c) for c in frame.columns})


def read_csv_text(data: bytes, file_name: str) -> tuple[pl.DataFrame, str]:
    """Parse CSV bytes into an all-text frame; return (frame, encoding)."""
    text, encoding = decode_text(data, file_name)
    cr_only = "\r" in text and "\n" not in text  # old Mac Excel: lines end with CR alone
    if cr_only:
        text = text.replace("\r", "\n")
    first_line = text[: text.find("\n")] if "\n" in text else text
    if not first_line.strip():
        raise InputError(f"„{file_name}“ ist leer oder hat keine Kopfzeile.")
    separator = sniff_delimiter(first_line)
    _check_header(next(csv.reader([first_line.rstrip("\r")], delimiter=separator)), file_name)
    # polars parses bytes much faster than a str; hand it UTF-8 bytes without the BOM
    utf8 = None if cr_only else {"utf-8": data, "utf-8-sig": data[3:]}.get(encoding)
    try:
        frame = pl.read_csv(
            utf8 or text.encode("utf-8"),
            separator=separator,
            infer_schema=False,
            truncate_ragged_lines=True,
        )
    except pl.exceptions.PolarsError as exc:
        raise InputError(
            f"„{file_name}“ lässt sich nicht als CSV lesen ({exc.__class__.__name__}). "
            "Bitte prüfen Sie Trennzeichen und Anführungszeichen."
        ) from exc
    return frame, encoding


@dataclass(frozen=True)
class CsvFile:
    """A UTF-8 CSV file that DuckDB reads straight from disk (the dialect found as
    `read_csv_text` finds it, without holding the file in memory)."""

    path: Path
    separator: str
    header: tuple[str, ...]  # normalised column names; unnamed columns get a placeholder
    encoding: str
    sha256: str


def sniff_utf8_csv(path: Path, chunk: int = 4 * MB) -> CsvFile | None:
    """The dialect of a UTF-8 CSV file (with or without BOM, LF or CRLF line ends), read in
    chunks; None for every other file (Windows-1252, UTF-16, CR-only, binary), which the
    in-memory reader `read_csv_text` handles with its German messages.

    Blocks of 4 MB stay in the processor's cache between the checksum and the decoder: a
    national file (86 MB) takes 0.12 s instead of 0.20 s with 16 MB blocks."""
    digest = hashlib.sha256()
    decoder = codecs.getincrementaldecoder("utf-8")()
    first_line, has_lf, has_cr = "", False, False
    with path.open("rb") as f:
        head = f.read(4)
        if head.startswith((b"\xff\xfe", b"\xfe\xff")):
            return None
        f.seek(0)
        while block := f.read(chunk):
            digest.update(block)
            if b"\x00" in block:
                return None
            try:
                text = decoder.decode(block)
            except UnicodeDecodeError:
                return None
            has_lf = has_lf or b"\n" in block
            has_cr = has_cr or b"\r" in block
            if "\n" not in first_line and len(first_line) < MB:
                first_line += text[:MB]
        try:
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            return None
    if has_cr and not has_lf:
        return None
    encoding = "utf-8-sig" if first_line.startswith("\ufeff") else "utf-8"
    first_line = first_line.removeprefix("\ufeff").split("\n", 1)[0].rstrip("\r")
    if not first_line.strip():
        raise InputError(f"„{path.name}“ ist leer oder hat keine Kopfzeile.")
    separator = sniff_delimiter(first_line)
    names = next(csv.reader([first_line], delimiter=separator))
    _check_header(names, path.name)
    header = tuple(_header_key(n) or f"__unnamed_{i}" for i, n in enumerate(names))
    return CsvFile(path, separator, header, encoding, digest.hexdigest())


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
    except Exception as exc:  # calamine raises several exception types for corrupt files
        raise _unreadable_xlsx(file_name, exc) from exc
    # the sheet named like the file's kind, in any case; a workbook with one sheet uses it
    sheet = next((s for s in sheets if s.strip().lower() == sheet_hint), None)
    if sheet is None and len(sheets) == 1:
        sheet = sheets[0]
    if sheet is None:
        found = ", ".join(f"„{s}“" for s in sheets)
        raise InputError(
            f"In „{file_name}“ gibt es kein Tabellenblatt „{sheet_hint}“ (gefunden: {found}). "
            f"Bitte benennen Sie das Blatt mit den Daten in „{sheet_hint}“ um."
        )
    try:
        header = reader.load_sheet(sheet, header_row=None, n_rows=1, dtypes="string")
        _check_header([v or "" for v in header.to_polars().row(0)] if header.height else [],
                      f"{file_name}“, Blatt „{sheet}")
        frame = reader.load_sheet(sheet, dtypes="string").to_polars()
    except InputError:
        raise
    except Exception as exc:
        raise _unreadable_xlsx(file_name, exc) from exc
    return frame.with_columns(pl.all().cast(pl.String))


def _serials_as_dates(frame: pl.DataFrame, columns: list[str]) -> pl.DataFrame:
    """An Excel date typed into a cell without date format arrives as its serial number
    (`44270` = 15.03.2021); in a date column such a number is read as that date."""
    exprs = []
    for name in (c for c in columns if c in frame.columns):
        text = pl.col(name).str.strip_chars()
        days = text.str.extract(r"^(\d{5})(?:\.0+)?$", 1).cast(pl.Int64)
        date = (pl.lit(dt.date(1899, 12, 30)) + pl.duration(days=days)).dt.strftime("%Y-%m-%d")
        exprs.append(pl.when(days.is_not_null()).then(date).otherwise(pl.col(name)).alias(name))
    return frame.with_columns(exprs) if exprs else frame


def _unreadable_xlsx(file_name: str, exc: Exception) -> InputError:
    return InputError(
        f"„{file_name}“ lässt sich nicht als Excel-Datei lesen ({exc.__class__.__name__}). "
        "Bitte speichern Sie sie erneut als „Excel-Arbeitsmappe (.xlsx)“."
    )


def _header_key(name: str) -> str:
    return name.strip().lower().replace(" ", "_")


def _check_header(names: list[str], where: str) -> None:
    """Two columns with the same name (also differing only in case or spaces) are an error:
    which one holds the data is anybody's guess, and dropping one silently loses data."""
    seen: dict[str, list[int]] = {}
    for number, name in enumerate(names, start=1):
        if (key := _header_key(str(name))) and not key.startswith("__unnamed"):
            seen.setdefault(key, []).append(number)
    doubled = {k: v for k, v in seen.items() if len(v) > 1}
    if doubled:
        key, numbers = next(iter(doubled.items()))
        spelled = ", ".join(f"„{str(names[n - 1]).strip()}“ (Spalte {n})" for n in numbers)
        raise InputError(
            f"In „{where}“ kommt die Spalte „{key}“ mehrfach vor: {spelled}. Groß- und "
            "Kleinschreibung zählen dabei nicht. Bitte löschen Sie die doppelte Spalte oder "
            "benennen Sie sie um, damit klar ist, welche gilt."
        )


_SIGNATURES = (
    (b"PK\x03\x04", "ein ZIP-Archiv (zum Beispiel eine Excel-Datei .xlsx)"),
    (b"\x89PNG\r\n\x1a\n", "ein PNG-Bild"),
    (b"\xff\xd8\xff", "ein JPEG-Bild"),
    (b"GIF8", "ein GIF-Bild"),
    (b"%PDF", "ein PDF-Dokument"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "eine alte oder passwortgeschützte Excel-Datei (.xls)"),
    (b"\x7fELF", "ein Programm"),
)


def size_text(n: int) -> str:
    """`52428800` → `50,0 MB` (German decimal comma)."""
    value, unit = next(((n / f, u) for f, u in ((MB, "MB"), (1024, "KB")) if n >= f), (n, "Byte"))
    text = f"{value:,.1f}" if unit != "Byte" else f"{value:,}"
    return text.replace(",", "X").replace(".", ",").replace("X", ".") + f" {unit}"


def content_kind(data: bytes) -> str | None:
    """What a file really is, by its first bytes (None: no known binary format)."""
    return next((kind for magic, kind in _SIGNATURES if data.startswith(magic)), None)


def _inflated_size(zf: zipfile.ZipFile, info: zipfile.ZipInfo, cap: int) -> int:
    """Bytes a member really unpacks to, counting at most `cap` + 1: the sizes in a zip header
    can lie, so the member is inflated (streamed, nothing kept) rather than trusted."""
    probe = copy.copy(info)
    probe.file_size = cap + 1  # lets the reader run past a size header that lies
    total = 0
    with zf.open(probe) as member:
        while chunk := member.read(MB):
            total += len(chunk)
            if total > cap:
                break
    return total


def xlsx_problem(
    data: bytes, name: str, limits: InputLimits = DEFAULT_LIMITS
) -> str | None:
    """None for a plausible, safely sized workbook, else the German problem (size limits
    against zip bombs, real content type). Runs before fastexcel ever sees the file."""
    if not data.startswith(b"PK\x03\x04"):
        kind = content_kind(data) or "keine Excel-Arbeitsmappe"
        return (f"„{name}“ ist keine Excel-Datei (.xlsx), auch wenn der Name so endet: der Inhalt "
                f"ist {kind}. Bitte öffnen Sie die Datei in Excel und speichern Sie sie als "
                "„Excel-Arbeitsmappe (.xlsx)“.")
    bomb = (f"„{name}“ wurde abgelehnt: {{detail}}. So stark gepackte Dateien können den Server "
            "lahmlegen („ZIP-Bombe“). Bitte speichern Sie die Tabelle in Excel neu oder laden Sie "
            "sie als CSV hoch.")
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            infos = zf.infolist()
            names = {i.filename for i in infos}
            if not {"[Content_Types].xml", "xl/workbook.xml"} <= names:
                return (f"„{name}“ ist ein ZIP-Archiv, aber keine Excel-Arbeitsmappe. Bitte "
                        "speichern Sie die Tabelle in Excel als „Excel-Arbeitsmappe (.xlsx)“.")
            if len(infos) > limits.max_members:
                return bomb.format(detail=f"sie enthält {len(infos)} Teile (erlaubt sind "
                                          f"höchstens {limits.max_members})")
            declared = sum(i.file_size for i in infos)
            too_big = bomb.format(detail=f"entpackt wäre sie größer als "
                                         f"{size_text(limits.max_unzipped)}")
            if declared > limits.max_unzipped:
                return too_big
            ratios = [i.file_size / max(i.compress_size, 1) for i in infos if i.file_size > MB]
            if ratios and max(ratios) > limits.max_ratio:
                return bomb.format(detail=f"ein Teil ist im Verhältnis {max(ratios):,.0f}:1 "
                                          "gepackt".replace(",", "."))
            unpacked = 0
            for info in infos:
                unpacked += _inflated_size(zf, info, limits.max_unzipped - unpacked)
                if unpacked > limits.max_unzipped:
                    return too_big
    except (zipfile.BadZipFile, zlib.error, EOFError, ValueError, NotImplementedError,
            RuntimeError):  # RuntimeError: encrypted member
        return (f"„{name}“ ist beschädigt und lässt sich nicht als Excel-Datei öffnen. Bitte "
                "speichern Sie die Tabelle in Excel erneut als „Excel-Arbeitsmappe (.xlsx)“.")
    return None


def read_table(
    path: Path, entity: Entity, limits: InputLimits = DEFAULT_LIMITS
) -> RawTable:
    """Read one input file as text and check that every required column is there. The same
    safety checks as for uploads run first: size limit, zip-bomb guard, real content type."""
    _check_size(path, limits)
    data = path.read_bytes()
    if path.suffix.lower() in XLSX_SUFFIXES:
        if problem := xlsx_problem(data, path.name, limits):
            raise InputError(problem)
        frame, encoding = read_xlsx_text(data, path.name, entity.name), "xlsx"
    else:
        frame, encoding = read_csv_text(data, path.name)
    frame = _normalise_header(frame)
    notes = []
    if encoding == "xlsx":
        before = frame
        frame = _serials_as_dates(frame, [c.name for c in entity.columns if c.type == "date"])
        changed = sum(int((~before[c].eq_missing(frame[c])).sum()) for c in frame.columns)
        if changed:
            notes.append(
                f"Hinweis zu „{path.name}“: {changed} Datumsangaben standen als Excel-"
                "Seriennummer ohne Datumsformat in der Datei und wurden als Datum gelesen "
                "(z. B. 44270 = 15.03.2021)."
            )
    _check_required(frame.columns, entity, path.name)
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
        notes=tuple(notes),
    )


def open_table(
    path: Path, entity: Entity, limits: InputLimits = DEFAULT_LIMITS
) -> RawTable | CsvFile:
    """A UTF-8 CSV file as a `CsvFile` for DuckDB to read from disk, every other file read into
    memory by `read_table` (the same checks and German messages either way)."""
    if path.suffix.lower() not in CSV_SUFFIXES:
        return read_table(path, entity, limits)
    _check_size(path, limits)
    if (found := sniff_utf8_csv(path)) is None:
        return read_table(path, entity, limits)
    _check_required(found.header, entity, path.name)
    return found


def _check_size(path: Path, limits: InputLimits) -> None:
    size = path.stat().st_size
    if size > limits.max_bytes:
        raise InputTooLarge(
            f"„{path.name}“ ist zu groß ({size_text(size)}). Erlaubt sind höchstens "
            f"{size_text(limits.max_bytes)} pro Datei. Bitte entfernen Sie nicht benötigte Spalten "
            "oder Tabellenblätter, oder speichern Sie die Tabelle als CSV.",
            -(-size // MB),  # whole MB, rounded up
        )


def _check_required(columns: Iterable[str], entity: Entity, file_name: str) -> None:
    present = set(columns)
    missing = [c for c in entity.required_columns if c not in present]
    if missing:
        cols = ", ".join(f"„{c}“" for c in missing)
        raise InputError(
            f"In „{file_name}“ fehlt die Spalte {cols}. Bitte ergänzen Sie die Spalte in der "
            "Kopfzeile (Schreibweise siehe data/README.md)."
        )
