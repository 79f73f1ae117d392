"""How the leak tests look for planted values in what a program wrote."""

from __future__ import annotations

import re
from collections.abc import Iterable

_HEX = "0-9A-Fa-f"


def found(values: Iterable[str], text: str) -> list[str]:
    """The planted values in ``text``: exact, case-sensitive substrings (a case-folded
    match finds "Carrie" in "carries"). A value of digits only (an MRN, a member number)
    counts where it stands alone: inside a longer run of digits or hex digits (a
    timestamp, an inode number, a SHA-256 in the server's database) seven given digits
    turn up by chance in about one run of thirty, and a leaked MRN is written as itself."""
    out = []
    for v in values:
        if v not in text:
            continue
        if v.isdigit() and re.search(rf"(?<![{_HEX}]){v}(?![{_HEX}])", text) is None:
            continue
        out.append(v)
    return out
