"""OpenDocument spreadsheets (.ods: LibreOffice, and what Google Sheets exports as
OpenDocument): every sheet as a Table, streamed from content.xml (ODF 1.2 part 1, 9.1).

As a zip member, content.xml is XML whose rows are <table:table-row> of
<table:table-cell><text:p>...</text:p></table:table-cell>: nested, so the XML reader's
flat-record tables do not see them. Read here as the xlsx reader reads a sheet, with its
header rule (xlsx.sheet_units). Cells give their text, or their value attribute (a date, a
number) when they have none. Repeated cells and rows (table:number-columns-repeated,
number-rows-repeated) are expanded up to MAX_REPEAT: sheets pad to 1,024 columns and
a million rows with one repeated empty cell or row.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import BinaryIO
from xml.etree.ElementTree import Element

from agent.classifier.formats import archive, safexml
from agent.classifier.formats.source import Source
from agent.classifier.formats.xlsx import sheet_units
from agent.classifier.limits import Budget
from agent.classifier.units import ExtractionError, Unit

_TABLE = "{urn:oasis:names:tc:opendocument:xmlns:table:1.0}"
_OFFICE = "{urn:oasis:names:tc:opendocument:xmlns:office:1.0}"
TABLE, ROW, CELL, COVERED = (_TABLE + t for t in ("table", "table-row", "table-cell", "covered-table-cell"))
NAME, COLS_REPEATED, ROWS_REPEATED = (_TABLE + t for t in ("name", "number-columns-repeated",
                                                           "number-rows-repeated"))
VALUE_ATTRS = tuple(_OFFICE + t for t in ("date-value", "value", "time-value", "boolean-value",
                                          "string-value"))
MAX_REPEAT = 1000
MIMETYPE = b"application/vnd.oasis.opendocument.spreadsheet"


def units(src: Source, budget: Budget, depth: int = 0) -> Iterator[Unit]:
    with archive.open_zip(src, budget, "ods") as zf:
        try:
            info = zf.getinfo("content.xml")
        except KeyError:
            raise ExtractionError("corrupt ods: content.xml is missing") from None
        with zf.open(info) as f:
            yield from _tables(f, budget)


def _tables(f: BinaryIO, budget: Budget) -> Iterator[Unit]:
    events = safexml.iterparse(f, ("start", "end"))
    for event, el in events:
        if event == "start" and el.tag == TABLE:
            name = el.get(NAME) or "?"
            budget.check_time()
            # sheet_units takes the rows as they are parsed: it must read them all before the
            # next table (the contract of formats/__init__.py)
            yield from sheet_units(f"sheet {name}", _rows(events, el, budget))


def _rows(events: Iterator[tuple[str, Element]], table: Element,
          budget: Budget) -> Iterator[tuple[int, list[str]]]:
    """(row number, cells) for the rows of ``table`` that hold a value, up to its end."""
    number = n = 0
    for event, el in events:
        if event == "end" and el.tag == TABLE:
            return
        if event != "end" or el.tag != ROW:
            continue
        repeat = _count(el.get(ROWS_REPEATED))
        cells = _cells(el)
        table.clear()  # the rows read so far: memory stays flat
        number += repeat
        if not cells:
            continue  # empty rows, however many
        for i in range(min(repeat, MAX_REPEAT)):
            n += 1
            if not n & 1023:
                budget.check_time()
                if n >= budget.limits.max_rows:
                    raise budget.over_rows("sheet")
            yield number - repeat + 1 + i, list(cells)
    # the document ended inside the table: a cut file, whatever was read stands


def _cells(row: Element) -> list[str]:
    cells: list[str] = []
    for c in row:
        if c.tag != CELL and c.tag != COVERED:
            continue
        value = " ".join(t for t in ("".join(p.itertext()).strip() for p in c) if t)
        if not value:
            value = next((v for a in VALUE_ATTRS if (v := c.get(a))), "")
        cells.extend([value] * min(_count(c.get(COLS_REPEATED)), MAX_REPEAT))
    while cells and not cells[-1]:
        cells.pop()
    return cells


def _count(v: str | None) -> int:
    try:
        return max(1, int(v)) if v else 1
    except ValueError:
        return 1
