"""Parquet: one Table, read in row batches so a large file never sits in memory."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from agent.classifier.formats.source import Source, needs
from agent.classifier.limits import Budget
from agent.classifier.units import ExtractionError, Table, Unit

BATCH_ROWS = 4096


def units(src: Source, budget: Budget, depth: int = 0) -> Iterator[Unit]:
    with needs("parquet"):
        import pyarrow.parquet as pq
    try:
        pf = pq.ParquetFile(src.seekable(budget))
    except Exception as e:  # noqa: BLE001 - pyarrow raises ArrowInvalid, OSError...
        raise ExtractionError(f"corrupt parquet: unreadable footer ({type(e).__name__})") from None
    header = list(pf.schema_arrow.names)
    yield Table(header=header, rows=_rows(pf, budget), where="", first_row_line=1)


def _rows(pf: Any, budget: Budget) -> Iterator[list[str]]:
    n = 0
    for batch in pf.iter_batches(batch_size=BATCH_ROWS):
        budget.check_time()
        columns = [[_cell(v) for v in col.to_pylist()] for col in batch.columns]
        budget.add_text(sum(len(c) for col in columns for c in col))
        yield from (list(r) for r in zip(*columns, strict=True))
        n += batch.num_rows
        if n >= budget.limits.max_rows:
            raise budget.over_rows("table")


def _cell(v: Any) -> str:
    if v is None:
        return ""
    if isinstance(v, bytes):
        return ""  # binary columns: not text we can read
    if hasattr(v, "isoformat"):
        return v.isoformat()
    return str(v)
