"""UI strings and data values: one TOML file per language (de.toml, en.toml); German is the default.

Data stay German (the programme's files, the database, URLs and exports use the German values);
what a page shows goes through `translate` for UI text and `translate_values` for data values.
Value translations live in the sections `[werte.<domain>]`, keyed by the German value (or by
the stored code, e.g. `zurueckgezogen`, whose German text is then the `de.toml` entry).

Both files have the same keys (tests/dashboard/test_i18n.py). A missing key raises `KeyError`
when `WK_I18N_STRICT=1` (set for every test run), so a gap is found by the tests; in production the
German text is shown and the gap is logged, because a page should not fail over a label.
"""

from __future__ import annotations

import logging
import os
import tomllib
from functools import cache
from pathlib import Path

import polars as pl

LANGUAGES = ("de", "en")
VALUES = "werte"
# Free-text domains: a value without a translation (a topic somebody typed, a quarter such as
# `2021-Q3`) is shown as entered.
OPEN_DOMAINS = frozenset({"thema", "quartal"})
# Domains that hold the values of another plus their own: a topic can be a Handlungsfeld, the
# current phase is a milestone or "noch nicht begonnen", a Selbstcheck step a milestone or
# "Beginn".
EXTENDS = {"thema": "handlungsfeld", "phase": "meilenstein", "schritt": "meilenstein"}
_DIR = Path(__file__).parent
_log = logging.getLogger(__name__)


def _strict() -> bool:
    return os.environ.get("WK_I18N_STRICT") == "1"


def _missing(message: str) -> None:
    if _strict():
        raise KeyError(message)
    _log.warning(message)


@cache
def strings(lang: str) -> dict[str, str]:
    """All strings of one language as a flat dict (`section.key`)."""
    data = tomllib.loads((_DIR / f"{lang}.toml").read_text(encoding="utf-8"))
    flat: dict[str, str] = {}

    def walk(prefix: str, node: dict) -> None:
        for key, value in node.items():
            name = f"{prefix}{key}"
            if isinstance(value, dict):
                walk(name + ".", value)
            else:
                flat[name] = value

    walk("", data)
    return flat


def translate(lang: str, key: str, **values: object) -> str:
    """The string for `key` in `lang`, formatted with `values`."""
    lang = lang if lang in LANGUAGES else "de"
    text = strings(lang).get(key)
    if text is None:
        _missing(f"i18n: key {key!r} is missing in {lang}.toml")
        text = strings("de")[key]
    return text.format(**values) if values else text


@cache
def value_names(lang: str, domain: str) -> dict[str, str]:
    """German value → shown value for one domain (`[werte.<domain>]`), e.g. `status`."""
    lang = lang if lang in LANGUAGES else "de"
    prefix = f"{VALUES}.{domain}."
    names = {k.removeprefix(prefix): v for k, v in strings(lang).items() if k.startswith(prefix)}
    if not names:
        raise KeyError(f"i18n: no section [{VALUES}.{domain}] in {lang}.toml")
    if domain in EXTENDS:
        names = {**value_names(lang, EXTENDS[domain]), **names}
    return names


def value(lang: str, domain: str, german: str | None) -> str | None:
    """One data value in `lang` (None stays None)."""
    if german is None:
        return None
    names = value_names(lang, domain)
    if german not in names and domain not in OPEN_DOMAINS:
        _missing(f"i18n: value {german!r} is missing in [{VALUES}.{domain}] of {lang}.toml")
    return names.get(german, german)


def translate_values(frame: pl.DataFrame, lang: str, **columns: str) -> pl.DataFrame:
    """`frame` with the German values of `columns` (`column="domain"`) in `lang`; a list column
    is translated element by element. Other columns and the row order stay as they are."""
    exprs = []
    for column, domain in columns.items():
        names = value_names(lang, domain)
        is_list = isinstance(frame.schema[column], pl.List)
        if domain not in OPEN_DOMAINS:
            seen = frame[column].explode() if is_list else frame[column]
            for unknown in sorted(set(seen.drop_nulls().unique().to_list()) - set(names)):
                _missing(f"i18n: value {unknown!r} is missing in [{VALUES}.{domain}] of "
                         f"{lang}.toml")
        if is_list:
            exprs.append(pl.col(column).list.eval(pl.element().replace(names)))
        else:
            exprs.append(pl.col(column).replace(names))
    return frame.with_columns(exprs)
