"""XLSX / XLSM: every sheet as a Table, streamed from the sheet XML.

The package's declared sizes are checked first (an xlsx is a zip, so it can be a zip
bomb). Cached values are read, never formulas evaluated. Cells come out as openpyxl's
read-only mode gave them (see xlsxbook.py for the workbook parts). The header is the
first row of two or more name-like cells, after at most a few one-cell title rows (which
are handed over as text).
"""

from __future__ import annotations

import datetime as dt
import re
import zipfile
from collections.abc import Iterator
from functools import lru_cache
from typing import Any
from xml.etree.ElementTree import Element

from agent.classifier.formats import archive, safexml, xlsxbook
from agent.classifier.formats.delimited import is_header
from agent.classifier.formats.source import Source, needs
from agent.classifier.formats.xlsxbook import MAIN_NS, Book
from agent.classifier.limits import Budget, _size
from agent.classifier.units import ExtractionError, Table, TextBlock, Unit

TITLE_ROWS = 5
ROW, CELL, VALUE, INLINE = (MAIN_NS + t for t in ("row", "c", "v", "is"))
_DIGIT = re.compile("[0-9]")  # where a cell reference's row number starts


def units(src: Source, budget: Budget, depth: int = 0) -> Iterator[Unit]:
    with archive.open_zip(src, budget, "xlsx") as zf:  # size and ratio checks
        # Shared strings are all held in memory (cells refer to them by index).
        strings = sum(
            i.file_size for i in zf.infolist() if i.filename.endswith("sharedStrings.xml")
        )
        cap = budget.limits.max_member_in_memory
        if strings > cap:
            raise ExtractionError(f"xlsx shared strings over {_size(cap)}")
        try:
            book = xlsxbook.read(zf)
        except KeyError:
            raise ExtractionError("corrupt xlsx: a required part is missing") from None
        except ValueError:
            # Bad XML or values in the workbook parts (defusedxml's refusals included):
            # openpyxl reported them all as one ValueError while loading.
            raise ExtractionError("corrupt xlsx: ValueError") from None
        for title, part in book.sheets:
            budget.check_time()
            yield from sheet_units(f"sheet {title}", _rows(zf, part, book, budget))


def sheet_units(where: str, rows: Iterator[tuple[int, list[str]]]) -> Iterator[Unit]:
    titles: list[tuple[int, list[str]]] = []
    header_at: tuple[int, list[str]] | None = None
    # Sheets often open with a title line or two above the column names: take
    # the first row of 2+ name-like cells among the first few as the header.
    for line, cells in rows:
        if len(cells) >= 2 and is_header(cells):
            header_at = (line, cells)
            break
        titles.append((line, cells))
        if len(cells) >= 2 or len(titles) >= TITLE_ROWS:
            break
    if header_at is not None:
        if titles:
            text = "\n".join(" ".join(c) for _, c in titles) + "\n"
            yield TextBlock(text, where=where, line=titles[0][0])
        line, header = header_at
        yield Table(header=header, rows=_cells(rows), where=where, first_row_line=line + 1)
    elif titles:
        yield Table(
            header=None,
            rows=_cells(_chain(titles, rows)),
            where=where,
            first_row_line=titles[0][0],
        )


def _rows(
    zf: zipfile.ZipFile, part: str, book: Book, budget: Budget
) -> Iterator[tuple[int, list[str]]]:
    """(row number, cells) for the rows that hold a value. Rows are as stored: the
    declared <dimension> is ignored (a hostile A1:XFD1048576 would pad every row to
    16,384 cells), and a row numbered at or below one already read is skipped."""
    n = 0
    next_row = 1
    with zf.open(part) as f:
        for number, cells in _parsed_rows(f, book):
            if number < next_row:
                continue
            next_row = number + 1
            while cells and not cells[-1]:
                cells.pop()
            if not cells:
                continue
            n += 1
            if n % 1024 == 0:
                budget.check_time()
                budget.add_text(1024 * len(cells) * 8)  # estimate; exact sums cost a pass
                if n >= budget.limits.max_rows:
                    raise budget.over_rows("sheet")
            yield number, cells


def _parsed_rows(f: Any, book: Book) -> Iterator[tuple[int, list[str]]]:
    number = 0
    for _, el in safexml.iterparse(f):
        if el.tag != ROW:
            continue
        r = el.get("r")
        number = _row_number(r) if r is not None else number + 1
        column = 0
        found: list[tuple[int, str]] = []
        for c in el:  # openpyxl takes every child of a row for a cell
            column, value = _cell_at(c, column, book)
            found.append((column, value))
        el.clear()
        # A row is as wide as its last cell says; cells placed beyond it are dropped.
        width = found[-1][0] if found else 0
        cells = [""] * width
        for column, value in found:
            if 1 <= column <= width:
                cells[column - 1] = value
        yield number, cells


def _row_number(r: str) -> int:
    try:
        return int(r)
    except ValueError:
        val = float(r)  # "2.0" is accepted, as openpyxl does
        if not val.is_integer():
            raise ValueError("row number is not an integer") from None
        return int(val)


def _cell_at(c: Element, column: int, book: Book) -> tuple[int, str]:
    """(column, text) of a <c> element; `column` is the previous cell's, for a cell
    without a reference. The steps and their order are openpyxl's WorkSheetParser's."""
    kind = c.get("t", "n")
    ref = c.get("r")
    style = c.get("s", 0)
    if style:
        style = int(style)
    value = None if kind == "inlineStr" else (c.findtext(VALUE, None) or None)
    column = _column(ref) if ref else column + 1
    if value is not None:
        return column, cell_text(_typed(kind, value, style, book))
    if kind == "inlineStr":
        inline = c.find(INLINE)
        if inline is not None:
            return column, cell_text(xlsxbook.text(inline))
    return column, ""


def _typed(kind: str, value: str, style: int, book: Book) -> Any:
    if kind == "n":
        number = float(value) if "." in value or "E" in value or "e" in value else int(value)
        if style in book.date_styles:
            return _date(number, book, style in book.timedelta_styles)
        return number
    if kind == "s":
        return book.strings[int(value)]
    if kind == "b":
        return bool(int(value))
    if kind == "d":
        with needs("xlsx"):
            from openpyxl.utils.datetime import from_ISO8601
        return from_ISO8601(value)
    return value  # "str" (a formula's cached text), "e" (an error such as #N/A)


def _date(serial: float, book: Book, duration: bool) -> Any:
    with needs("xlsx"):
        from openpyxl.utils.datetime import MAC_EPOCH, WINDOWS_EPOCH, from_excel
    try:
        return from_excel(serial, MAC_EPOCH if book.date1904 else WINDOWS_EPOCH, duration)
    except (OverflowError, ValueError):
        return "#VALUE!"  # a date serial out of range reads as Excel's error


def _column(ref: str) -> int:
    """The column number of a reference such as "AB12" (openpyxl's checks and errors)."""
    m = _DIGIT.search(ref)
    at = m.start() if m is not None else len(ref) - 1
    int(ref[at:])  # a bad row part fails here, as in openpyxl
    return _letters(ref[:at])


@lru_cache(maxsize=1024)  # a sheet has few columns and a cell per row in each
def _letters(letters: str) -> int:
    column = 0
    if len(letters) <= 3:
        for ch in letters.upper():
            if not "A" <= ch <= "Z":
                column = 0
                break
            column = column * 26 + ord(ch) - 64
    if not 0 < column < 18279:
        raise ValueError("not a column name")
    return column


def _cells(rows: Iterator[tuple[int, list[str]]]) -> Iterator[list[str]]:
    for _, cells in rows:
        yield cells


def _chain(first: list, rest: Iterator) -> Iterator:
    yield from first
    yield from rest


def cell_text(v: Any) -> str:
    """A spreadsheet value as its cell text: dates ISO, whole floats without ".0"."""
    if v is None:
        return ""
    if isinstance(v, dt.datetime):
        return v.date().isoformat() if v.time() == dt.time() else v.isoformat(sep=" ")
    if isinstance(v, dt.date):
        return v.isoformat()
    if isinstance(v, float) and v.is_integer() and abs(v) < 1e15:
        return str(int(v))
    return str(v).strip()
