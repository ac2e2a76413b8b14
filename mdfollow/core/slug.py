"""File names for new prospects: a name and company in ASCII, whatever the script."""

from __future__ import annotations

import re
import unicodedata

SLUG_MAX = 80
"""Longest slug: file names stay well under the usual 255-byte limit, `-2` suffix included."""


def slugify(text: str) -> str:
    """ASCII, lower case, words joined by `-`, from any script: "José Müller" → `jose-muller`,
    "Ольга Иванова" → `olga-ivanova`, "王小明" → `wang-xiao-ming`. Symbols and emoji are dropped,
    apostrophes too ("O'Brien" → `obrien`)."""
    from anyascii import anyascii  # lazily: only commands that create files need it

    parts: list[str] = []
    for char in unicodedata.normalize("NFC", text):
        if char.isascii():
            parts.append(char)
        elif unicodedata.category(char) != "So":
            ascii_text = anyascii(char)
            # an ideograph or a Hangul syllable is a capitalised syllable of its own ("Wang")
            syllable = unicodedata.category(char) == "Lo" and ascii_text[:1].isupper()
            parts.append(f" {ascii_text} " if syllable else ascii_text)
    words = "".join(parts).replace("'", "").lower()
    return re.sub(r"[^a-z0-9]+", "-", words).strip("-")
