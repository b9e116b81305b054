"""Property tests for the German parsers: what staff type comes back as the value they meant."""

from __future__ import annotations

import datetime as dt
import hashlib

import polars as pl
from hypothesis import given
from hypothesis import strategies as st

from dashboard import fmt
from etl.read import sniff_utf8_csv
from etl.validate import parse_ags, parse_date, parse_decimal, parse_int


def _parse(expr_fn, values: list[str]) -> list:
    return pl.DataFrame({"v": values}, schema={"v": pl.String}).select(
        expr_fn(pl.col("v"))).to_series().to_list()


@given(st.integers(min_value=0, max_value=10**12))
def test_int_with_german_thousands(n: int):
    assert _parse(parse_int, [fmt.number(n), str(n)]) == [n, n]


@given(st.decimals(min_value=-90, max_value=90, places=5, allow_nan=False))
def test_decimal_with_comma_or_point(d):
    text = f"{d:.5f}"
    assert _parse(parse_decimal, [text, text.replace(".", ",")]) == [float(text)] * 2


@given(st.dates(min_value=dt.date(1900, 1, 1), max_value=dt.date(2099, 12, 31)))
def test_date_german_iso_and_excel(d: dt.date):
    texts = [d.strftime("%d.%m.%Y"), d.isoformat(), f"{d.isoformat()} 00:00:00"]
    assert _parse(parse_date, texts) == [d, d, d]


@given(st.from_regex(r"\A[0-9]{8}\Z"))
def test_ags_keeps_leading_zeros_and_restores_a_dropped_one(ags: str):
    stripped = ags.lstrip("0") or "0"
    expected = ags if len(stripped) == 7 else None
    assert _parse(parse_ags, [ags])[0] == ags
    if len(stripped) == 7:
        assert _parse(parse_ags, [stripped])[0] == expected


def test_not_numbers_are_rejected():
    assert _parse(parse_int, ["12a", "1,5", "1.23", ""]) == [None, None, None, None]
    assert _parse(parse_decimal, ["N 52", "1.2.3", "abc"]) == [None, None, None]
    assert _parse(parse_date, ["31.02.2021", "2021-13-01", "morgen"]) == [None, None, None]


_CELL = st.text(alphabet=st.characters(blacklist_categories=("Cs", "Cc"),
                                       blacklist_characters=";\"\r\n"), max_size=6)


@given(rows=st.lists(st.tuples(_CELL, _CELL), max_size=8), bom=st.booleans(),
       crlf=st.booleans(), chunk=st.integers(min_value=1, max_value=9))
def test_sniffer_reads_any_utf8_file_in_any_block_size(tmp_path_factory, rows, bom, crlf,
                                                       chunk):
    rows = [("05374012", "Übach-Palenberg"), *rows]
    """Block borders may split a character (umlaut, emoji) or a CR LF pair: the dialect, the
    encoding and the checksum are those of the whole file, in every block size; the same text in
    Windows-1252 or with CR-only line ends goes to the in-memory reader (None)."""
    end = "\r\n" if crlf else "\n"
    text = end.join(["kommune_id;name"] + [f"{a};{b}" for a, b in rows]) + end
    data = ("\ufeff" if bom else "").encode() + text.encode("utf-8")
    path = tmp_path_factory.mktemp("sniff") / "kommunen.csv"
    path.write_bytes(data)
    found = sniff_utf8_csv(path, chunk=chunk)
    assert found is not None
    assert (found.separator, found.header) == (";", ("kommune_id", "name"))
    assert found.encoding == ("utf-8-sig" if bom else "utf-8")
    assert found.sha256 == hashlib.sha256(data).hexdigest()
    path.write_bytes(text.replace(end, "\r").encode("utf-8"))
    assert sniff_utf8_csv(path, chunk=chunk) is None
    path.write_bytes(text.encode("cp1252", errors="replace"))
    assert sniff_utf8_csv(path, chunk=chunk) is None
