"""German (and English) number and date formatting: one place for every page and export."""

from __future__ import annotations

import datetime as dt


def number(value: float | int | None, decimals: int = 0, lang: str = "de") -> str:
    """`12345.6` → `12.345,6` (de) or `12,345.6` (en); None → `–`."""
    if value is None:
        return "–"
    text = f"{value:,.{decimals}f}"
    if lang == "de":
        text = text.replace(",", "\x00").replace(".", ",").replace("\x00", ".")
    return text


def percent(share: float | None, decimals: int = 0, lang: str = "de") -> str:
    """`0.425` → `42,5 %` (de) or `42.5%` (en)."""
    if share is None:
        return "–"
    return number(share * 100, decimals, lang) + (" %" if lang == "de" else "%")


def date(value: dt.date | None, lang: str = "de") -> str:
    """`2021-03-15` → `15.03.2021` (de) or `2021-03-15` (en)."""
    if value is None:
        return "–"
    return value.strftime("%d.%m.%Y") if lang == "de" else value.isoformat()
