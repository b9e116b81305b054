"""Row-level validation with German messages, vectorised with polars.

Each rule is a small function returning `Check`s: a mask of bad rows, the column it concerns and a
German message expression that says what is wrong and what to fix. A row with at least one failed
check is rejected (all its problems are reported); every other row loads. Rules never loop over
rows in Python, so a national-scale file (a million rows) validates in seconds.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

import polars as pl

from etl.read import ROW_COLUMN, RawTable
from etl.schema import DATE_MAX, DATE_MIN, SEKTOREN, Column, Entity

REJECT_SCHEMA = {
    "datei": pl.String,
    "zeile": pl.Int64,
    "spalte": pl.String,
    "wert": pl.String,
    "meldung": pl.String,
    "art": pl.String,  # ART_FEHLER: the row is not loaded; ART_HINWEIS: loaded, please check
}
ART_FEHLER = "Fehler"
ART_HINWEIS = "Hinweis"
_MAX_SHOWN_VALUE = 80
# Longest cell accepted: names, places and contacts fit easily; a megabyte "name" is an accident
# or an attack and would slow every page that shows it.
MAX_CHARS = 200
MAX_CHARS_BY_COLUMN = {"notiz": 2000}
_DATE_FORMATS = ("%d.%m.%Y", "%Y-%m-%d")
_TRUE = ("ja", "j", "x", "wahr", "true", "1", "yes", "y")
_FALSE = ("nein", "n", "falsch", "false", "0", "no")


@dataclass(frozen=True)
class Check:
    """A vectorised rule outcome: rows where `bad` holds are rejected with `message`."""

    column: str
    bad: pl.Expr
    message: pl.Expr


@dataclass(frozen=True)
class ValidationResult:
    """Typed rows that passed every rule, and one reject line per failed rule."""

    entity: str
    valid: pl.DataFrame | None  # None: the good rows stayed in DuckDB (etl/checks.py)
    rejects: pl.DataFrame
    rows_read: int
    loaded: int | None = None  # rows loaded, when `valid` is None
    warnings: pl.DataFrame | None = None  # REJECT_SCHEMA lines of art ART_HINWEIS (rows kept)

    @property
    def loaded_rows(self) -> int:
        return self.valid.height if self.valid is not None else int(self.loaded or 0)

    @property
    def report_lines(self) -> pl.DataFrame:
        """Reject lines, then warnings: what the report and meta_ablehnungen list."""
        return self.rejects if self.warnings is None else pl.concat([self.rejects, self.warnings])

    @property
    def rejected_rows(self) -> int:
        return self.rejects.get_column("zeile").n_unique() if self.rejects.height else 0


def _raw(name: str) -> pl.Expr:
    return pl.col(f"{name}__raw")


def _msg(*parts: str | pl.Expr) -> pl.Expr:
    return pl.concat_str([p if isinstance(p, pl.Expr) else pl.lit(p) for p in parts])


def _shown(name: str) -> pl.Expr:
    return _raw(name).str.slice(0, _MAX_SHOWN_VALUE)


# ---- parsers: text expression in, typed expression out (null where unparseable) ----------------


def parse_ags(text: pl.Expr) -> pl.Expr:
    """AGS/ARS as text; restores a leading zero that Excel dropped (7 → 8 digits, 4 → 5)."""
    digits = text.str.replace_all(r"\s", "")
    padded = (
        pl.when(digits.str.len_chars().is_in([4, 7, 11]))
        .then(pl.concat_str([pl.lit("0"), digits]))
        .otherwise(digits)
    )
    ok = padded.str.contains(r"^\d+$") & padded.str.len_chars().is_in([5, 8, 12])
    return pl.when(ok).then(padded)


def parse_int(text: pl.Expr) -> pl.Expr:
    """Whole numbers; German thousands separators (`40.696`, `40 696`) are accepted."""
    # Only values with a separator take the regex path; plain digits parse directly (fast at
    # a million rows).
    needs_work = text.str.contains_any([".", ",", " "])
    compact = text.str.replace_all(" ", "", literal=True)
    reworked = (
        pl.when(compact.str.contains(r"^-?\d{1,3}(\.\d{3})+$"))
        .then(compact.str.replace_all(".", "", literal=True))
        .otherwise(compact.str.replace(r"^(-?\d+)[.,]0+$", "$1"))  # 12,0 or 12.0 from Excel
    )
    return pl.when(needs_work).then(reworked).otherwise(text).str.to_integer(strict=False)


def parse_decimal(text: pl.Expr) -> pl.Expr:
    """Decimal numbers with decimal comma (`52,5`) or point (`52.5`)."""
    t = text.str.replace_all(r"\s", "")
    t = (
        pl.when(t.str.contains(","))
        .then(t.str.replace_all(r"\.", "").str.replace(",", "."))
        .otherwise(t)
    )
    return pl.when(t.str.contains(r"^-?\d+(\.\d+)?$")).then(t.cast(pl.Float64, strict=False))


def parse_date(text: pl.Expr) -> pl.Expr:
    """Dates as `dd.mm.yyyy`, ISO `yyyy-mm-dd` or an Excel date cell (`yyyy-mm-dd 00:00:00`)."""
    t = text.str.strip_chars()
    # a time of day after the date (Excel cells) is ignored: only the first token is the date
    day = t.str.split(" ").list.first()
    return pl.coalesce([day.str.to_date(f, strict=False) for f in _DATE_FORMATS])


def parse_bool(text: pl.Expr) -> pl.Expr:
    """Yes/no as ja/nein, x, wahr/falsch, true/false or 1/0."""
    t = text.str.to_lowercase()
    return pl.when(t.is_in(_TRUE)).then(True).when(t.is_in(_FALSE)).then(False)


def parse_enum(text: pl.Expr, allowed: Iterable[str]) -> pl.Expr:
    """Canonical spelling of an allowed value; case and a leading number (`5. …`) are ignored."""
    mapping = {a.lower(): a for a in allowed}
    t = text.str.to_lowercase().str.replace(r"^(modul\s*)?\d+[.)]?\s+(\D)", "$2")
    return t.replace_strict(mapping, default=None, return_dtype=pl.String)


def parse_email(text: pl.Expr) -> pl.Expr:
    return pl.when(text.str.contains(r"^[^@\s;,<>]+@[^@\s;,<>]+\.[^@\s;,<>]+$")).then(text)


def _parser(col: Column) -> pl.Expr:
    raw = _raw(col.name)
    match col.type:
        case "ags":
            return parse_ags(raw)
        case "int":
            return parse_int(raw)
        case "decimal":
            return parse_decimal(raw)
        case "date":
            return parse_date(raw)
        case "bool":
            return parse_bool(raw)
        case "enum":
            return parse_enum(raw, col.allowed)
        case "email":
            return parse_email(raw)
        case _:
            return raw


_TYPE_HINT = {
    "ags": "ist kein gültiger Gemeinde- oder Kreisschlüssel. Erwartet werden 8 Ziffern (Gemeinde), "
    "5 Ziffern (Kreis) oder 12 Ziffern (ARS), z. B. 05766020",
    "int": "ist keine ganze Zahl. Bitte nur Ziffern eintragen, z. B. 1250 oder 1.250",
    "decimal": "ist keine Zahl. Bitte eine Dezimalzahl mit Komma eintragen, z. B. 52,52",
    "date": "ist kein gültiges Datum. Bitte im Format TT.MM.JJJJ eintragen, z. B. 15.03.2021",
    "bool": "ist kein Ja/Nein-Wert. Bitte „ja“ oder „nein“ eintragen",
    "email": "ist keine gültige E-Mail-Adresse. Bitte im Format name@beispiel.de eintragen",
}


def column_checks(col: Column) -> list[Check]:
    """Required, type, allowed-value and range checks for one column."""
    raw, val = _raw(col.name), pl.col(col.name)
    limit = MAX_CHARS_BY_COLUMN.get(col.name, MAX_CHARS)
    checks = [
        Check(
            col.name,
            raw.str.len_chars() > limit,
            _msg(
                f"Der Eintrag in „{col.name}“ ist zu lang (",
                raw.str.len_chars().cast(pl.String),
                f" Zeichen; erlaubt sind höchstens {limit}). Bitte kürzen Sie ihn.",
            ),
        )
    ]
    if col.required:
        checks.append(
            Check(
                col.name,
                raw.is_null(),
                pl.lit(f"Pflichtfeld „{col.name}“ ist leer. Bitte tragen Sie einen Wert ein."),
            )
        )
    if col.type == "enum":
        allowed = ", ".join(col.allowed)
        checks.append(
            Check(
                col.name,
                raw.is_not_null() & val.is_null(),
                _msg(
                    "„",
                    _shown(col.name),
                    f"“ ist kein erlaubter Wert für „{col.name}“. Erlaubt sind: {allowed}.",
                ),
            )
        )
    elif col.type in _TYPE_HINT:
        checks.append(
            Check(
                col.name,
                raw.is_not_null() & val.is_null(),
                _msg("„", _shown(col.name), f"“ in „{col.name}“ {_TYPE_HINT[col.type]}."),
            )
        )
    if col.name in ("lat", "lon"):
        # Out-of-range coordinates are almost always swapped lat/lon or a lost decimal comma.
        checks.append(
            Check(
                col.name,
                (val < col.minimum) | (val > col.maximum),
                _msg(
                    "„",
                    _shown(col.name),
                    f"“ in „{col.name}“ liegt nicht in Deutschland "
                    f"(erlaubt {_de_number(col.minimum)} bis {_de_number(col.maximum)}). "
                    "Bitte prüfen Sie, ob Breite und Länge vertauscht sind oder das "
                    "Dezimalkomma fehlt.",
                ),
            )
        )
        return checks
    if col.minimum is not None:
        checks.append(
            Check(
                col.name,
                val < col.minimum,
                _msg(
                    "„",
                    _shown(col.name),
                    f"“ in „{col.name}“ ist zu klein: der Wert muss "
                    f"mindestens {_de_number(col.minimum)} sein.",
                ),
            )
        )
    if col.maximum is not None:
        checks.append(
            Check(
                col.name,
                val > col.maximum,
                _msg(
                    "„",
                    _shown(col.name),
                    f"“ in „{col.name}“ ist zu groß: der Wert darf "
                    f"höchstens {_de_number(col.maximum)} sein.",
                ),
            )
        )
    if col.type == "date":
        lo, hi = dt.date.fromisoformat(DATE_MIN), dt.date.fromisoformat(DATE_MAX)
        checks.append(
            Check(
                col.name,
                (val < lo) | (val > hi),
                _msg(
                    "Das Datum „",
                    _shown(col.name),
                    f"“ in „{col.name}“ liegt außerhalb des "
                    f"Programmzeitraums ({lo:%d.%m.%Y} bis {hi:%d.%m.%Y}). Bitte prüfen Sie "
                    "das Jahr.",
                ),
            )
        )
    return checks


def _de_number(x: float) -> str:
    return f"{x:g}".replace(".", ",")


def row_checks(entity: Entity, datenstand: dt.date) -> list[Check]:
    """Rules across columns of one row."""
    checks: list[Check] = []
    if entity.name == "meilensteine":
        checks.append(
            Check(
                "geplant_am",
                pl.col("geplant_am").is_null()
                & pl.col("erreicht_am").is_null()
                & _raw("geplant_am").is_null()
                & _raw("erreicht_am").is_null(),
                pl.lit(
                    "Weder „geplant_am“ noch „erreicht_am“ ist gefüllt. Bitte tragen Sie "
                    "mindestens das geplante Datum ein."
                ),
            )
        )
        checks.append(
            Check(
                "erreicht_am",
                pl.col("erreicht_am") > datenstand,
                _msg(
                    "„erreicht_am“ (",
                    _shown("erreicht_am"),
                    ") liegt nach dem Datenstand "
                    f"{datenstand:%d.%m.%Y}. Ein Meilenstein kann nicht in der Zukunft erreicht "
                    "sein: bitte Datum prüfen oder das Feld leer lassen und „geplant_am“ "
                    "nutzen.",
                ),
            )
        )
    if entity.name == "modulnutzung":
        total = pl.sum_horizontal([pl.col(s).fill_null(0) for s in SEKTOREN])
        checks.append(
            Check(
                "teilnehmende",
                total > pl.col("teilnehmende"),
                _msg(
                    "Die Summe der Sektoren (",
                    total.cast(pl.String),
                    ") ist größer als „teilnehmende“ (",
                    _shown("teilnehmende"),
                    "). Bitte korrigieren Sie die Gesamtzahl oder die Sektoren-Zahlen.",
                ),
            )
        )
    return checks


def _rejects_for(frame: pl.DataFrame, checks: list[Check], file_name: str) -> pl.DataFrame:
    parts = [
        frame.filter(c.bad.fill_null(False)).select(
            pl.lit(file_name).alias("datei"),
            pl.col(ROW_COLUMN).alias("zeile"),
            pl.lit(c.column).alias("spalte"),
            (_raw(c.column) if f"{c.column}__raw" in frame.columns else pl.lit(None))
            .cast(pl.String)
            .str.slice(0, _MAX_SHOWN_VALUE)
            .alias("wert"),
            c.message.alias("meldung"),
            pl.lit(ART_FEHLER).alias("art"),
        )
        for c in checks
    ]
    parts = [p for p in parts if p.height]
    if not parts:
        return pl.DataFrame(schema=REJECT_SCHEMA)
    return pl.concat(parts).cast(REJECT_SCHEMA)


def _key_label(entity: Entity) -> str:
    return " und ".join(f"„{k}“" for k in entity.key)


def _split_bad(
    frame: pl.DataFrame, checks: list[Check], file_name: str
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(rows passing every check, reject lines). One pass flags bad rows; the per-rule messages
    are only computed for those few rows, so clean national-scale files stay fast."""
    if not checks:
        return frame, pl.DataFrame(schema=REJECT_SCHEMA)
    flagged = frame.with_columns(
        pl.any_horizontal([c.bad.fill_null(False) for c in checks]).alias("_bad")
    )
    bad = flagged.filter(pl.col("_bad"))
    good = flagged.filter(~pl.col("_bad")).drop("_bad")
    return good, _rejects_for(bad, checks, file_name)


def validate_table(
    raw: RawTable,
    entity: Entity,
    datenstand: dt.date,
    known_kommunen: pl.Series | None = None,
) -> ValidationResult:
    """Validate one input table; return typed valid rows and the rejects report lines."""
    names = entity.column_names
    typed = (
        raw.frame.lazy()
        .with_columns(
            pl.col(c).str.strip_chars().replace("", None).alias(f"{c}__raw") for c in names
        )
        .drop(names)
        .with_columns(_parser(c).alias(c.name) for c in entity.columns)
        .collect()
    )
    checks = [chk for col in entity.columns for chk in column_checks(col)]
    checks += row_checks(entity, datenstand)
    file_name = raw.path.name
    passed, rejects = _split_bad(typed, checks, file_name)

    # Keys and references are judged only among rows that passed the column rules, so a row
    # with a typo does not make its corrected twin a "duplicate".
    later = [_duplicate_check(entity)]
    if entity.references_kommune and known_kommunen is not None:
        later.append(
            Check(
                "kommune_id",
                ~pl.col("kommune_id").is_in(known_kommunen.implode()),
                _msg(
                    "Die Kommune „",
                    _shown("kommune_id"),
                    "“ steht nicht im Register "
                    "(kommunen) oder wurde dort abgelehnt. Bitte zuerst die Kommune "
                    "im Register anlegen oder den Schlüssel korrigieren.",
                ),
            )
        )
    passed = passed.with_columns(_first_row_of_key(entity))
    valid, late_rejects = _split_bad(passed, later, file_name)
    rejects = pl.concat([rejects, late_rejects]).sort(["zeile", "spalte"])
    return ValidationResult(
        entity.name, valid.select(ROW_COLUMN, *names), rejects, raw.frame.height
    )


def _first_row_of_key(entity: Entity) -> pl.Expr:
    """Row number of the key's first occurrence; null for keys that occur once (the usual case,
    so the window only runs over duplicates)."""
    keys = list(entity.key)
    duplicated = pl.struct(keys).is_duplicated()
    return pl.when(duplicated).then(pl.col(ROW_COLUMN).min().over(keys)).alias("_erste_zeile")


def _duplicate_check(entity: Entity) -> Check:
    first = pl.col("_erste_zeile")
    return Check(
        entity.key[-1],
        first.is_not_null() & (pl.col(ROW_COLUMN) != first),
        _msg(
            f"Doppelter Eintrag: dieselbe Kombination aus {_key_label(entity)} steht schon in "
            "Zeile ",
            first.cast(pl.String),
            ". Bitte die doppelte Zeile löschen oder zusammenführen.",
        ),
    )
