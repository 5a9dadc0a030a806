"""Text encodings of the legacy exports: NFD UTF-8 and Windows-1258.

Windows-1258 has precomposed letters for the Vietnamese base vowels (ă, â,
ê, ô, ơ, ư, đ) but writes the five tone marks as separate combining bytes;
the legacy one-stop software emits exactly that. Python's ``cp1258`` codec
only encodes code points it can map one to one, so text is first rewritten
into that "base letter + combining tone" form, per character.
"""

from __future__ import annotations

import unicodedata
from functools import lru_cache

# The combining marks cp1258 has a byte for: grave, acute, tilde, hook above, dot below.
TONE_MARKS = frozenset("\u0300\u0301\u0303\u0309\u0323")


@lru_cache(maxsize=4096)
def cp1258_form(char: str) -> str:
    """How one NFC character is spelt in Windows-1258 (NFD first, then fallback).

    Raises UnicodeEncodeError when the character has no Windows-1258 spelling,
    so the generator never writes a lossy legacy file.
    """
    decomposed = unicodedata.normalize("NFD", char)
    try:
        decomposed.encode("cp1258")
        return decomposed
    except UnicodeEncodeError:
        pass
    base = unicodedata.normalize("NFC", "".join(c for c in decomposed if c not in TONE_MARKS))
    tones = "".join(c for c in decomposed if c in TONE_MARKS)
    candidate = base + tones
    candidate.encode("cp1258")  # raise if still impossible
    return candidate


class _Cp1258Table(dict[int, str]):
    """``str.translate`` table filled on first sight of each character."""

    def __missing__(self, key: int) -> str:
        char = chr(key)
        value = char if char.isascii() else cp1258_form(char)
        self[key] = value
        return value


_TABLE = _Cp1258Table()


def to_cp1258_text(text: str) -> str:
    """Rewrite NFC text into its Windows-1258 spelling (ASCII passes through)."""
    if text.isascii():
        return text
    return text.translate(_TABLE)


def encode_cp1258(text: str) -> bytes:
    """Bytes of ``text`` in Windows-1258; decoding and NFC gives ``text`` back."""
    return to_cp1258_text(text).encode("cp1258")


def decode_nfc(data: bytes, encoding: str) -> str:
    """Decode and normalise to NFC, as the contract tells readers to do."""
    return unicodedata.normalize("NFC", data.decode(encoding))
