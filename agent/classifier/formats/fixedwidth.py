"""Fixed-width reports (a census printout, a mainframe extract, `psql` or `column -t`
output): a header line of known column names set apart by runs of spaces, and rows
aligned under it, read as a table.

As free text, "00381245  HARRIS, DEREK   19620311   HYPERTENSION" is a number, a name, a
number and a word: the "MRN" and "DOB" that say what they are sit lines above. Cut at the
header's column starts, each row is a record like a CSV row.

Detection is strict, so code and prose stay text: within the first lines, a header of 3+
cells, every one a short label and most of them known column names (rules/phi/
headers.yaml), then rows of which most break (a space) where the header's cells start.
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from dataclasses import dataclass
from itertools import chain

from agent.classifier.formats import delimited
from agent.classifier.formats import text as fmt_text
from agent.classifier.formats.source import Source
from agent.classifier.limits import Budget
from agent.classifier.units import Table, TextBlock, Unit

MAX_LINE = 1 << 16
HEADER_WITHIN = 8  # lines (not blank) the header may come after: report titles, run dates
MIN_ROWS = 2
MAX_COLUMNS = 200  # a printed report is not wider; a line of thousands of labels is not one
_CELLS = re.compile(r"\S+(?: \S+)*")  # cells: words joined by single spaces
_LABEL = re.compile(r"[A-Za-z][\w.#/()%'-]*(?: [\w.#/()%'-]+){0,3}")
_RULE = re.compile(r"[\s=_*+-]*")  # "-----  ------" under a header, "=====" between pages


@dataclass(frozen=True)
class Layout:
    header_line: int  # 0-based index among the head's lines
    header: tuple[str, ...]
    starts: tuple[int, ...]  # the column each cell starts at


def detect(lines: list[str]) -> Layout | None:
    """The layout of a fixed-width table in a file's first lines (``delimited.sample_lines``
    of its head), or None. Most text fails at a substring test per line: no run of two
    spaces inside any of the first lines."""
    seen = 0
    for i, line in enumerate(lines):
        inner = line.strip()
        if not inner:
            continue
        seen += 1
        if seen > HEADER_WITHIN:
            return None
        if "  " not in inner or "\t" in line:
            continue
        header = _header(line.rstrip())
        if header is None:
            continue
        if _rows_fit(lines[i + 1:], header[1]):
            return Layout(i, header[0], header[1])
    return None


def _header(line: str) -> tuple[tuple[str, ...], tuple[int, ...]] | None:
    # cells are apart by 2+ spaces: a single space joins the words of one cell
    merged = [(m.group(), m.start()) for m in _CELLS.finditer(line)]
    if not 3 <= len(merged) <= MAX_COLUMNS or not all(_LABEL.fullmatch(t) for t, _ in merged):
        return None
    from agent.classifier.rules import default_rules, header_kinds

    headers = default_rules().headers
    known = sum(1 for t, _ in merged if header_kinds(headers, t)[0])
    if known * 2 < len(merged) + 1:  # most of them (2 of 3, 3 of 4...)
        return None
    return tuple(t for t, _ in merged), tuple(s for _, s in merged)


def _rows_fit(lines: list[str], starts: tuple[int, ...]) -> bool:
    rows = [ln for ln in lines if ln.strip() and not _RULE.fullmatch(ln)]
    if len(rows) < MIN_ROWS:
        return False
    fit = sum(1 for ln in rows if _fits(ln, starts))
    return fit >= 0.8 * len(rows)


def _fits(line: str, starts: tuple[int, ...]) -> bool:
    """A row of the table: a space (or the line's end) just before each column start
    but the first, and something in the first column."""
    if "\t" in line or not line[: starts[1]].strip():
        return False
    return all(c >= len(line) or line[c - 1] == " " for c in starts[1:])


def cut(line: str, starts: tuple[int, ...]) -> list[str]:
    """The cells of a row, cut at the column starts. A value that crosses a column start
    (a long name in a narrow column, a right-aligned number under a short header) is cut
    at the space nearest that start instead, so no word is split."""
    cells = []
    prev = 0
    ends = starts[2:] + (len(line),)
    for c, nxt in zip(starts[1:], ends, strict=True):
        cut_at = c
        if c < len(line) and line[c - 1] != " ":
            left = line.rfind(" ", prev, c)
            right = line.find(" ", c, max(c, nxt))
            options = [i + 1 for i in (left, right) if i >= 0 and i + 1 > prev]
            if options:
                cut_at = min(options, key=lambda i: abs(i - c))
        cells.append(line[prev:cut_at].strip())
        prev = cut_at
    cells.append(line[prev:].strip())
    return cells


def units(src: Source, budget: Budget, depth: int = 0) -> Iterator[Unit]:
    encoding = src.codec() or "latin-1"
    stream = io.TextIOWrapper(src.open(), encoding=encoding, errors="replace", newline=None)
    head = []
    for _ in range(delimited.SAMPLE_LINES):
        line = stream.readline(MAX_LINE)
        if not line:
            break
        head.append(line.rstrip("\n"))
    layout = detect(head)
    if layout is None:  # sniffed so, but not after all (the file changed since): text
        stream.close()
        yield from fmt_text.units(src, budget, depth)
        return
    before = [ln for ln in head[: layout.header_line] if ln.strip()]
    if before:
        yield TextBlock("\n".join(before) + "\n", where="before the table", line=1)
    yield Table(header=list(layout.header), first_row_line=layout.header_line + 2,
                rows=_rows(stream, head[layout.header_line + 1:], layout, budget))


def _rows(stream: io.TextIOWrapper, head: list[str], layout: Layout,
          budget: Budget) -> Iterator[list[str]]:
    header = list(layout.header)
    with stream:
        lines = chain(head, (ln.rstrip("\n") for ln in budget.lines(stream.readline, MAX_LINE)))
        for n, line in enumerate(lines, 1):
            if n > budget.limits.max_rows:
                raise budget.over_rows("table")
            if not line.strip() or _RULE.fullmatch(line):
                yield []  # keeps row numbers in step with lines
                continue
            cells = cut(line, layout.starts)
            yield [] if cells == header else cells  # the header again, on the next page
