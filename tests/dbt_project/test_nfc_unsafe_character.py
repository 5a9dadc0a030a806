"""The NFC shortcut of macro nfc(): a text without a match of nfc_unsafe_character() is NFC.

The staging models skip `is nfc normalized` for such text (most Vietnamese
text), so the claim has to hold for every character of the ranges, alone and
next to any other: checked against Python's Unicode database and against
PostgreSQL's own normaliser.
"""

from __future__ import annotations

import re
import unicodedata

import psycopg

from motcua import config

MACROS = config.dbt_project_dir() / "macros" / "text.sql"


def _macro_pattern() -> str:
    text = MACROS.read_text(encoding="utf-8")
    found = re.search(r"macro nfc_unsafe_character\(\) -%\}\s*(\S+)\s*\{%- endmacro", text)
    assert found, "macro nfc_unsafe_character not found"
    return found.group(1)


def _stable_ranges() -> list[tuple[int, int]]:
    pattern = _macro_pattern()
    assert pattern.startswith("[^") and pattern.endswith("]"), pattern
    pairs = re.findall(r"\\u([0-9a-fA-F]{4})-\\u([0-9a-fA-F]{4})", pattern)
    assert pairs and "".join(f"\\u{a}-\\u{b}" for a, b in pairs) == pattern[2:-1], pattern
    return [(int(a, 16), int(b, 16)) for a, b in pairs]


def _stable_code_points() -> list[int]:
    return [cp for low, high in _stable_ranges() for cp in range(low, high + 1)]


def _second_halves_of_compositions() -> set[int]:
    """Code points that NFC can merge into the character before them."""
    seconds = set()
    for cp in range(0x110000):
        decomposition = unicodedata.decomposition(chr(cp))
        if decomposition and not decomposition.startswith("<"):
            parts = decomposition.split()
            if len(parts) == 2:
                seconds.add(int(parts[1], 16))
    return seconds


def test_the_ranges_hold_the_vietnamese_letters_and_no_combining_mark() -> None:
    stable = set(_stable_code_points())
    vietnamese = "ăâđêôơưĂÂĐÊÔƠƯ" + "ạảấầẩẫậắằẳẵặẹẻẽếềểễệỉịọỏốồổỗộớờởỡợụủứừửữựỳỵỷỹ"
    assert all(ord(ch) in stable for ch in unicodedata.normalize("NFC", vietnamese))
    assert not {0x0300, 0x0301, 0x0303, 0x0309, 0x0323} & stable  # the tone marks of NFD text


def test_every_stable_character_is_a_starter_that_nothing_composes_with() -> None:
    seconds = _second_halves_of_compositions()
    wrong = [
        f"U+{cp:04X}"
        for cp in _stable_code_points()
        if unicodedata.combining(chr(cp)) != 0
        or cp in seconds
        or not unicodedata.is_normalized("NFC", chr(cp))
    ]
    assert wrong == []


def test_postgres_agrees_for_every_pair_and_the_pattern_splits_as_meant(db_url: str) -> None:
    ranges = _stable_ranges()
    series = " union all ".join(
        f"select generate_series({low}, {high}) as cp" for low, high in ranges
    )
    with psycopg.connect(db_url) as conn:
        not_nfc = conn.execute(
            f"with stable as ({series}) select count(*) from stable as a cross join stable as b"
            " where not ((chr(a.cp) || chr(b.cp)) is nfc normalized)"
        ).fetchone()
        flagged = conn.execute(
            f"with stable as ({series}) select count(*) from stable where chr(cp) ~ %(p)s",
            {"p": _macro_pattern()},
        ).fetchone()
        outside = conn.execute(
            "select array_agg(chr(cp) ~ %(p)s order by cp) from unnest(%(cps)s::int[]) as cp",
            {
                "p": _macro_pattern(),
                "cps": [0x0300, 0x0301, 0x0323, 0x0340, 0x1F71, 0x212B, 0xAC00],
            },
        ).fetchone()
    assert not_nfc == (0,)
    assert flagged == (0,)
    assert outside == ([True] * 7,)
