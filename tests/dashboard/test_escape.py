"""The one Markdown escape helper: whatever the text, nothing in it stays Markdown, and the
reader still sees the text itself."""

from __future__ import annotations

import re

from hypothesis import given
from hypothesis import strategies as st

from dashboard.ui import md_escape

SPECIAL = set("\\`*_{}[]()#+-.!|<>~$:=")
BIDI = set("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")


def shown(escaped: str) -> str:
    """What a Markdown renderer shows for escaped text (backslash escapes resolved, invisible
    word joiners dropped)."""
    return re.sub(r"\\(.)", r"\1", escaped).replace("\u2060", "")


@given(st.text())
def test_every_special_character_is_escaped_and_the_text_survives(text):
    escaped = md_escape(text)
    i = 0
    while i < len(escaped):  # every special character is preceded by a backslash
        if escaped[i] == "\\":
            assert escaped[i + 1] in SPECIAL
            i += 2
            continue
        assert escaped[i] not in SPECIAL and escaped[i] not in "\r\n"
        i += 1
    expected = "".join(c for c in text.replace("\r\n", " ").replace("\r", " ").replace("\n", " ")
                       if c not in BIDI)
    assert shown(escaped) == expected


@given(st.text(alphabet="htps:/w.evil", max_size=30))
def test_no_bare_url_survives_for_autolinking(text):
    escaped = md_escape(text).replace("\\", "")
    assert "://" not in escaped and "www." not in escaped.lower()


def test_known_attacks():
    assert md_escape("![x](http://evil/x.png)") == "\\!\\[x\\]\\(http\\:\u2060//evil/x\\.png\\)"
    assert md_escape("=SUM(1)") == "\\=SUM\\(1\\)"
    assert md_escape(":red[rot] $x$") == "\\:red\\[rot\\] \\$x\\$"
    assert md_escape("<script>") == "\\<script\\>"
    assert md_escape("a\u202eb\nc") == "ab c"
