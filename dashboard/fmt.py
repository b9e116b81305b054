"""Number and date formatting from CLDR (Babel): one place for every page and export.

German is `de_DE`; English is `en_GB`, whose dates ("15 Mar 2021") cannot be misread by a
German reader the way "03/15/2021" or "15/03/2021" can.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import polars as pl
from babel import Locale, dates, numbers

LOCALES = {"de": "de_DE", "en": "en_GB"}
NONE = "–"


def locale(lang: str) -> str:
    """The CLDR locale of a UI language (German for an unknown code)."""
    return LOCALES.get(lang, LOCALES["de"])


def number(value: float | int | None, decimals: int = 0, lang: str = "de") -> str:
    """`12345.6` → `12.345,6` (de) or `12,345.6` (en) with exactly `decimals` decimals;
    None → `–`."""
    if value is None:
        return NONE
    pattern = "#,##0" + ("." + "0" * decimals if decimals else "")
    return numbers.format_decimal(value, format=pattern, locale=locale(lang),
                                  decimal_quantization=True)


def percent(share: float | None, decimals: int = 0, lang: str = "de") -> str:
    """`0.425` → `42,5 %` (de, with a no-break space) or `42.5%` (en); None → `–`."""
    if share is None:
        return NONE
    base = Locale.parse(locale(lang)).percent_formats[None].pattern  # "#,##0 %" / "#,##0%"
    pattern = _with_decimals(base, decimals)
    return numbers.format_percent(share, format=pattern, locale=locale(lang),
                                  decimal_quantization=True)


def _with_decimals(pattern: str, decimals: int) -> str:
    """A CLDR pattern like `#,##0 %` with `decimals` fixed decimals (`#,##0.0 %`)."""
    if not decimals:
        return pattern
    last = pattern.rindex("0")
    return pattern[: last + 1] + "." + "0" * decimals + pattern[last + 1:]


def date(value: dt.date | None, lang: str = "de") -> str:
    """`2021-03-15` → `15.03.2021` (de) or `15 Mar 2021` (en); None → `–`."""
    if value is None:
        return NONE
    return dates.format_date(value, format="medium", locale=locale(lang))


def group_symbol(lang: str) -> str:
    """The thousands separator of `lang` (`.` de, `,` en)."""
    return numbers.get_group_symbol(locale(lang))


def texts(values: pl.Series, text: Callable[[Any], str]) -> pl.Series:
    """`text(value)` for every value of `values` (null stays null): a String series of the same
    name, computed on the calling thread.

    Use this, never `map_elements`: polars runs a Python function on its one process-wide
    thread pool, where it must wait for the GIL. When another session's script thread holds
    the GIL while it waits for that same pool (`DataFrame.to_pandas` inside `st.dataframe`
    does), the whole server freezes for good: every session and even `/_stcore/health` stop
    answering (found by bench/load.py with 10 sessions; gdb showed the pool's workers in
    `PyGILState_Ensure` under `PythonUdfExpression::call_udf` and the GIL holder in
    `PyDataFrame::to_pandas` waiting on the pool). tests/dashboard/test_no_udf.py keeps
    `map_elements` out of the app.
    """
    return pl.Series(values.name, [None if v is None else text(v) for v in values.to_list()],
                     dtype=pl.String)
