"""CSV in the German Excel dialect (`;`, decimal comma, dd.mm.yyyy, UTF-8 with BOM), safe to open.

Text cells that Excel or LibreOffice would run as a formula (starting with `=`, `+`, `-`, `@`, tab
or carriage return) are prefixed with an apostrophe; numeric columns stay numbers, so a negative
number is not touched.
"""

from __future__ import annotations

import polars as pl

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def neutralise_formula(text: str | None) -> str | None:
    """Make a text cell inert in spreadsheet programs (formula injection)."""
    if text and text.startswith(FORMULA_PREFIXES):
        return "'" + text
    return text


def neutralise_expr(col: pl.Expr) -> pl.Expr:
    """Vectorised `neutralise_formula` for a text column."""
    return (
        pl.when(col.str.contains(r"^[=+\-@\t\r]"))
        .then(pl.concat_str([pl.lit("'"), col]))
        .otherwise(col)
    )


def to_excel_frame(frame: pl.DataFrame, hidden: pl.DataFrame | None = None,
                   hidden_text: str = "x") -> pl.DataFrame:
    """All columns as German-formatted text: decimal comma, dd.mm.yyyy, ja/nein, inert text.

    `hidden` (boolean frame, same height, some of the columns) marks cells that show
    `hidden_text` instead of their value (small cells in public reports); a text column in
    `hidden` gives each hidden cell its own marker (null = shown).
    """
    exprs = []
    for name, dtype in frame.schema.items():
        col = pl.col(name)
        if dtype.is_float():
            exprs.append(col.round(4).cast(pl.String).str.replace(".", ",", literal=True))
        elif dtype == pl.Date:
            exprs.append(col.dt.strftime("%d.%m.%Y"))
        elif dtype == pl.Datetime or isinstance(dtype, pl.Datetime):
            exprs.append(col.dt.strftime("%d.%m.%Y %H:%M"))
        elif dtype == pl.Boolean:
            exprs.append(pl.when(col).then(pl.lit("ja")).when(~col).then(pl.lit("nein")))
        elif dtype.is_numeric():
            exprs.append(col.cast(pl.String))
        elif dtype == pl.List or isinstance(dtype, pl.List):
            exprs.append(neutralise_expr(col.cast(pl.List(pl.String)).list.join(", ")))
        else:
            exprs.append(neutralise_expr(col.cast(pl.String)))
    text = frame.select(e.alias(n) for e, n in zip(exprs, frame.columns, strict=True))
    if hidden is None:
        return text
    return text.with_columns(
        (pl.when(pl.lit(hidden.get_column(c)).is_not_null())
         .then(pl.lit(hidden.get_column(c))).otherwise(pl.col(c))
         if hidden.schema[c] == pl.String else
         pl.when(pl.lit(hidden.get_column(c))).then(pl.lit(hidden_text)).otherwise(pl.col(c)))
        .alias(c)
        for c in hidden.columns if c in text.columns
    )


def to_excel_csv_bytes(frame: pl.DataFrame, hidden: pl.DataFrame | None = None,
                       hidden_text: str = "x") -> bytes:
    """The frame as CSV bytes that German Excel opens correctly by double-click."""
    text = to_excel_frame(frame, hidden, hidden_text).write_csv(
        separator=";", quote_style="necessary")
    return "\ufeff".encode() + text.encode("utf-8")
