"""Legacy Office files (.doc, .xls, .ppt, Outlook .msg).

These are OLE2 compound files ([MS-CFB]). An Excel 97-2003 workbook is read sheet by
sheet as tables with xlrd (dates as dates), like an xlsx: as strings, a patient list
lost its dates and its columns. Everything else (and a workbook xlrd cannot read:
encrypted, damaged, over max_member_in_memory) gives its printable strings, like
strings(1): text sits in streams as runs of 8-bit or UTF-16LE characters (Word's piece
table, Outlook's property streams), and pulling them out block by block recovers names,
numbers and notes well enough for detection. An encrypted file yields only noise and so
nothing is found, which is what encryption is for.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from agent.classifier.formats.source import Source
from agent.classifier.formats.xlsx import cell_text, sheet_units
from agent.classifier.limits import Budget
from agent.classifier.units import ExtractionError, TextBlock, Unit

# Runs of 4+ printable ASCII characters: single bytes, and UTF-16LE (a NUL after each).
# (Allowing \xa0-\xff too would pick up the 0xFF fill of unused sectors.)
_ASCII = re.compile(rb"[\x20-\x7e\t]{4,}")
_UTF16 = re.compile(rb"(?:[\x20-\x7e\t][\x00]){4,}")
BLOCK = 1 << 20
OVERLAP = 512  # bytes re-read across a block boundary so a run cut in two is whole


def units(src: Source, budget: Budget, depth: int = 0) -> Iterator[Unit]:
    book = _workbook(src, budget)
    if book is not None:
        try:
            yield from _sheets(book, budget)
        finally:
            book.release_resources()
        return
    yield from _strings(src, budget)


def _workbook(src: Source, budget: Budget):  # type: ignore[no-untyped-def]
    """The file as an Excel workbook, or None (another OLE2 file, or one xlrd refuses)."""
    if src.size is not None and src.size > budget.limits.max_member_in_memory:
        return None
    try:
        import xlrd
    except ImportError:  # a build without it: strings, as before it was used
        return None
    data = src.whole()
    if data is None:
        with src.open() as f:
            data = f.read(budget.limits.max_member_in_memory + 1)
    if len(data) > budget.limits.max_member_in_memory:
        return None
    try:
        return xlrd.open_workbook(file_contents=data, on_demand=True, logfile=_NoLog())
    except Exception:  # noqa: BLE001 - not a workbook, encrypted, damaged: strings instead
        return None


def _sheets(book, budget: Budget) -> Iterator[Unit]:  # type: ignore[no-untyped-def]
    for i in range(book.nsheets):
        budget.check_time()
        try:
            sheet = book.sheet_by_index(i)
        except Exception:  # noqa: BLE001 - a damaged sheet: its class name only
            raise ExtractionError("corrupt xls: unreadable sheet", partial=i > 0) from None
        yield from sheet_units(f"sheet {sheet.name}", _rows(sheet, book.datemode, budget))
        book.unload_sheet(i)


def _rows(sheet, datemode: int, budget: Budget) -> Iterator[tuple[int, list[str]]]:  # type: ignore[no-untyped-def]
    from xlrd import XL_CELL_BLANK, XL_CELL_DATE, XL_CELL_EMPTY, XL_CELL_ERROR, xldate_as_datetime

    no_value = (XL_CELL_EMPTY, XL_CELL_BLANK, XL_CELL_ERROR)

    def text(cell) -> str:  # type: ignore[no-untyped-def]
        if cell.ctype in no_value:
            return ""
        if cell.ctype == XL_CELL_DATE:
            try:
                return cell_text(xldate_as_datetime(cell.value, datemode))
            except Exception:  # noqa: BLE001 - an out-of-range date serial: the number
                return str(cell.value)
        return cell_text(cell.value)  # numbers, text, booleans (1/0), as an xlsx cell reads

    for r in range(min(sheet.nrows, budget.limits.max_rows)):
        if not r & 1023 and r:
            budget.check_time()
        cells = [text(c) for c in sheet.row(r)]
        while cells and not cells[-1]:
            cells.pop()
        if cells:
            yield r + 1, cells


class _NoLog:
    """xlrd's log file: its warnings quote cell content; they go nowhere."""

    def write(self, _s: str) -> None:
        pass


def _strings(src: Source, budget: Budget) -> Iterator[Unit]:
    with src.open() as f:
        offset = 0
        prev = b""
        while True:
            budget.check_time()
            raw = f.read(BLOCK)
            if not raw:
                return
            data = prev + raw
            runs = [m.group().decode("latin-1") for m in _ASCII.finditer(data)]
            runs += [m.group().decode("utf-16-le") for m in _UTF16.finditer(data)]
            if runs:
                text = "\n".join(runs) + "\n"
                budget.add_text(len(text))
                yield TextBlock(text, where=f"byte {max(0, offset - len(prev))}")
            offset += len(raw)
            prev = raw[-OVERLAP:]
