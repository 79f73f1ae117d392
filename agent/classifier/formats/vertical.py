"""Query results printed one column per line (psql's expanded display, `\\x`; mysql's
`\\G`), read as a table: each record a row, its keys the header.

    -[ RECORD 1 ]+-----------------          *************************** 1. row ***
    patient_name | Rosalind Quexley               patient_name: Rosalind Quexley
    dob          | 1961-04-02                              dob: 1961-04-02

As text, a key padded to the longest one is too far from its value for a label; as a
table, "dob" heads the column its values are in, as in the aligned output.
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterator

from agent.classifier.formats.source import Source
from agent.classifier.limits import Budget
from agent.classifier.units import ExtractionError, Table, Unit

MAX_LINE = 1 << 20
MAX_FIELDS = 10_000
_PSQL = re.compile(r"-\[ RECORD \d+ \]-*(?:\+-*)?\s*")
_MYSQL = re.compile(r"\*{5,} \d+\. row \*{5,}\s*")
_START = re.compile(r"\A\s*(?:-\[ RECORD 1 \]-*(?:\+-*)?|\*{5,} 1\. row \*{5,})[ \t]*\r?\n")


def looks_vertical(text: str) -> bool:
    return _START.match(text) is not None


def units(src: Source, budget: Budget, depth: int = 0) -> Iterator[Unit]:
    stream = io.TextIOWrapper(src.open(), encoding=src.codec() or "utf-8", errors="replace")
    records = _records(budget.lines(stream.readline, MAX_LINE))
    with stream:
        first = next(records, None)
        if first is None:
            return
        header = list(first)
        yield Table(header=header, rows=_rows(first, records, header, budget))


def _rows(first: dict[str, str], records: Iterator[dict[str, str]], header: list[str],
          budget: Budget) -> Iterator[list[str]]:
    yield list(first.values())
    for n, rec in enumerate(records, 2):
        if n > budget.limits.max_rows:
            raise budget.over_rows("table")
        yield [rec.get(k, "") for k in header]


def _records(lines: Iterator[str]) -> Iterator[dict[str, str]]:
    """Each record as {key: value}; a value's continuation lines (psql's "+" wraps) join it.
    A record is no wider than MAX_FIELDS (a file of "k | v" lines under one record mark
    would otherwise grow one dict without bound)."""
    rec: dict[str, str] = {}
    last = None
    done = 0  # records handed over: before the first, the file can still be read as text
    for raw in lines:
        if len(rec) > MAX_FIELDS:
            raise ExtractionError(f"vertical record over {MAX_FIELDS} fields", partial=done > 0)
        line = raw.rstrip("\r\n")
        if _PSQL.fullmatch(line) or _MYSQL.fullmatch(line):
            if rec:
                yield rec
                done += 1
            rec, last = {}, None
            continue
        key, sep, value = _split(line)
        if sep and key:
            rec[key] = value
            last = key
        elif last is not None and (value or line.strip()):  # a multi-line value goes on
            rec[last] = f"{rec[last]} {value if sep else line.strip()}"
    if rec:
        yield rec


def _split(line: str) -> tuple[str, str, str]:
    """("key", sep, "value") of "key | value" (psql) or "  key: value" (mysql)."""
    if " | " in line or line.endswith(" |"):
        key, sep, value = line.partition(" |")
        return key.strip(), sep, value.strip().removesuffix("+").strip()
    key, sep, value = line.partition(": ")
    if sep and key.strip() and " " not in key.strip():
        return key.strip(), sep, value.strip()
    return "", "", ""
