"""UI strings: one TOML file per language (de.toml, en.toml); German is the default."""

from __future__ import annotations

import tomllib
from functools import cache
from pathlib import Path

LANGUAGES = ("de", "en")
_DIR = Path(__file__).parent


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
    """The string for `key` in `lang` (falls back to German), formatted with `values`."""
    lang = lang if lang in LANGUAGES else "de"
    text = strings(lang).get(key) or strings("de")[key]
    return text.format(**values) if values else text
