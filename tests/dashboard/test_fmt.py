"""Number and date formats follow CLDR in both UI languages (checked against Babel itself)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from babel import dates, numbers
from hypothesis import given
from hypothesis import strategies as st

from dashboard import fmt


@pytest.mark.parametrize(("lang", "expected"), [
    ("de", ("12.345,6", "217.198", "42,5\u00a0%", "100\u00a0%", "15.03.2021")),
    ("en", ("12,345.6", "217,198", "42.5%", "100%", "15 Mar 2021")),
])
def test_known_values(lang, expected):
    got = (fmt.number(12345.6, 1, lang), fmt.number(217198, lang=lang),
           fmt.percent(0.425, 1, lang), fmt.percent(1, lang=lang),
           fmt.date(dt.date(2021, 3, 15), lang))
    assert got == expected


@pytest.mark.parametrize("lang", ["de", "en"])
def test_missing_values_are_a_dash(lang):
    assert fmt.number(None, 1, lang) == fmt.percent(None, 0, lang) == fmt.date(None, lang) == "–"


def test_unknown_language_is_german():
    assert fmt.number(1234.5, 1, "fr") == "1.234,5"


@given(st.integers(-10**9, 10**9))
def test_integers_match_babel(n):
    for lang, loc in (("de", "de_DE"), ("en", "en_GB")):
        assert fmt.number(n, 0, lang) == numbers.format_decimal(n, locale=loc)


@given(st.decimals(-10**7, 10**7, places=2, allow_nan=False, allow_infinity=False),
       st.integers(0, 3))
def test_decimals_are_fixed_and_parse_back(value, decimals):
    """Exactly `decimals` decimals; Babel parses the text back to the rounded value."""
    for lang, loc in (("de", "de_DE"), ("en", "en_GB")):
        text = fmt.number(value, decimals, lang)
        whole, sep, fraction = text.rpartition(numbers.get_decimal_symbol(loc))
        assert len(fraction) == decimals if decimals else not sep
        back = numbers.parse_decimal(text, locale=loc, strict=True)
        assert back == value.quantize(Decimal(1).scaleb(-decimals))


@given(st.floats(0, 1), st.integers(0, 2))
def test_percent_matches_babel_pattern(share, decimals):
    for lang, loc in (("de", "de_DE"), ("en", "en_GB")):
        text = fmt.percent(share, decimals, lang)
        assert text.endswith("\u00a0%" if lang == "de" else "%")
        number = text.removesuffix("%").removesuffix("\u00a0")
        assert number == fmt.number(share * 100, decimals, lang) or abs(
            float(numbers.parse_decimal(number, locale=loc)) - share * 100) <= 10 ** -decimals


@given(st.dates(dt.date(1990, 1, 1), dt.date(2100, 12, 31)))
def test_dates_match_cldr_medium(day):
    assert fmt.date(day, "de") == day.strftime("%d.%m.%Y")
    assert fmt.date(day, "en") == dates.format_date(day, "medium", locale="en_GB")
    # en_GB abbreviates September as "Sept" (CLDR); otherwise the C locale's month names
    english = fmt.date(day, "en").replace("Sept", "Sep")
    assert dt.datetime.strptime(english, "%d %b %Y").date() == day


@given(st.lists(st.one_of(st.none(), st.text(max_size=12)), max_size=30))
def test_texts_maps_every_value_in_place_and_keeps_nulls(values):
    import polars as pl

    series = pl.Series("spalte", values, dtype=pl.String)
    got = fmt.texts(series, lambda v: f"<{v}>")
    assert got.name == "spalte" and got.dtype == pl.String
    assert got.to_list() == [None if v is None else f"<{v}>" for v in values]


def test_texts_runs_on_the_calling_thread():
    """The point of `fmt.texts`: the Python function never runs on polars' thread pool."""
    import threading

    import polars as pl

    threads = set()
    fmt.texts(pl.Series("d", [dt.date(2021, 3, 15)] * 1000),
              lambda d: threads.add(threading.get_ident()) or fmt.date(d))
    assert threads == {threading.get_ident()}
