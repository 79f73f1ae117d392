"""XLSX / XLSM: every sheet as a Table, streamed with openpyxl's read-only mode.

The package's declared sizes are checked first (an xlsx is a zip, so it can be a zip
bomb). Cached values are read (`data_only`), never formulas evaluated. The header is the
first row of two or more name-like cells, after at most a few one-cell title rows (which
are handed over as text).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from agent.classifier.formats import archive
from agent.classifier.formats.delimited import is_header
from agent.classifier.formats.source import Source, needs
from agent.classifier.limits import Budget, _size
from agent.classifier.units import ExtractionError, Table, TextBlock, Unit

TITLE_ROWS = 5


def units(src: Source, budget: Budget, depth: int = 0) -> Iterator[Unit]:
    with archive.open_zip(src, budget, "xlsx") as zf:  # size and ratio checks
        # openpyxl holds every shared string in memory, even in read-only mode.
        strings = sum(
            i.file_size for i in zf.infolist() if i.filename.endswith("sharedStrings.xml")
        )
    cap = budget.limits.max_member_in_memory
    if strings > cap:
        raise ExtractionError(f"xlsx shared strings over {_size(cap)}")
    with needs("xlsx"):
        import openpyxl
    target = src.seekable(budget)
    # A file object, not a path: openpyxl refuses paths whose extension is not .xlsx.
    fh = open(target, "rb") if isinstance(target, Path) else target
    try:
        wb = openpyxl.load_workbook(fh, read_only=True, data_only=True)
    except KeyError:
        fh.close()
        raise ExtractionError("corrupt xlsx: a required part is missing") from None
    except BaseException:
        fh.close()
        raise
    try:
        for ws in wb.worksheets:
            budget.check_time()
            rows = _rows(ws, budget)
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
            where = f"sheet {ws.title}"
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
    finally:
        wb.close()
        fh.close()


def _rows(ws: Any, budget: Budget) -> Iterator[tuple[int, list[str]]]:
    # The declared dimension (<dimension ref="A1:XFD1048576"/>) pads every row to its
    # width; a wrong or hostile one would make each row 16,384 cells. Rows as stored.
    if hasattr(ws, "reset_dimensions"):
        ws.reset_dimensions()
    n = 0
    for i, row in enumerate(ws.iter_rows(values_only=True), 1):
        cells = [_cell(v) for v in row]
        while cells and not cells[-1]:
            cells.pop()
        if not cells:
            continue
        n += 1
        if n % 1024 == 0:
            budget.check_time()
            budget.add_text(1024 * len(cells) * 8)  # estimate; exact sums cost a pass
            if n >= budget.limits.max_rows:
                raise ExtractionError(
                    f"sheet over {budget.limits.max_rows} rows; rest not scanned", partial=True
                )
        yield i, cells


def _cells(rows: Iterator[tuple[int, list[str]]]) -> Iterator[list[str]]:
    for _, cells in rows:
        yield cells


def _chain(first: list, rest: Iterator) -> Iterator:
    yield from first
    yield from rest


def _cell(v: Any) -> str:
    if v is None:
        return ""
    if isinstance(v, dt.datetime):
        return v.date().isoformat() if v.time() == dt.time() else v.isoformat(sep=" ")
    if isinstance(v, dt.date):
        return v.isoformat()
    if isinstance(v, float) and v.is_integer() and abs(v) < 1e15:
        return str(int(v))
    return str(v).strip()
