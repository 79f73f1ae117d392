"""Data files the detectors read: code lists, name dictionaries, vocabularies.

Each loader reads a file under rules/ once per process (``functools.cache``). Files are
plain text, one entry per line, ``#`` comments; their provenance is in their header.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

from agent import paths

# USPS state and territory abbreviations (USPS Publication 28 appendix B).
US_STATES = frozenset(
    "AL AK AZ AR CA CO CT DE DC FL GA HI ID IL IN IA KS KY LA ME MD MA MI MN MS MO MT NE NV NH "
    "NJ NM NY NC ND OH OK OR PA RI SC SD TN TX UT VT VA WA WV WI WY PR VI GU AS MP".split()
)


def rules_root() -> Path:
    return paths.rules_dir()


def read_list(path: Path) -> list[str]:
    """Lines of a data file without comments and blanks."""
    # One read and one split (universal newlines already made every line end "\n"):
    # the same lines as iterating the file, in half the time for the 90k-line lists.
    with open(path, encoding="utf-8") as f:
        lines = f.read().split("\n")
    return [s for s in map(str.strip, lines) if s and s[0] != "#"]


@cache
def icd10_codes() -> frozenset[str]:
    return frozenset(read_list(rules_root() / "health" / "data" / "icd10cm_codes.txt"))


def icd10_valid(code: str) -> bool:
    """In the code list, or a listed code plus a 7th-character extension (A/D/S...),
    with placeholder X padding (ICD-10-CM guidelines I.A.5, I.A.6)."""
    c = code.replace(".", "").strip().upper()
    codes = icd10_codes()
    if c in codes:
        return True
    if len(c) >= 5 and c[-1].isalpha():
        base = c[:-1].rstrip("X")
        return len(base) >= 3 and base in codes and base[0] in "MORSTV"
    return False


@cache
def first_names() -> frozenset[str]:
    return frozenset(read_list(rules_root() / "phi" / "data" / "first_names.txt"))


@cache
def surnames() -> frozenset[str]:
    return frozenset(read_list(rules_root() / "phi" / "data" / "surnames.txt"))


@cache
def name_words() -> frozenset[str]:
    return frozenset(read_list(rules_root() / "phi" / "data" / "name_words.txt"))
