"""SQLite databases: every table, bounded rows, opened read-only and immutable.

`mode=ro&immutable=1` (sqlite.org/uri.html) opens without taking locks or writing a
journal, so scanning never changes the file or blocks the app that owns it. A database
inside an archive is loaded with `Connection.deserialize` (Python 3.11+), in memory.
A progress handler enforces the time budget inside long queries.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path

from agent.classifier.formats.source import Source
from agent.classifier.limits import Budget
from agent.classifier.units import ExtractionError, Table, Unit


def units(src: Source, budget: Budget, depth: int = 0) -> Iterator[Unit]:
    conn = _connect(src, budget)
    try:
        deadline = budget.started + budget.limits.time_budget_s
        # Called every 10,000 VM steps; a non-zero return aborts the statement.
        conn.set_progress_handler(lambda: int(time.monotonic() > deadline), 10_000)
        try:
            tables = [
                r[0]
                for r in conn.execute(
                    "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name"
                )
            ]
        except sqlite3.DatabaseError as e:
            raise ExtractionError(_reason(e, budget)) from None
        for table in tables:
            budget.check_time()
            quoted = '"' + table.replace('"', '""') + '"'
            try:
                cur = conn.execute(
                    f"SELECT * FROM {quoted} LIMIT ?", (budget.limits.max_sqlite_rows,)
                )
            except sqlite3.DatabaseError as e:
                raise ExtractionError(_reason(e, budget)) from None
            header = [d[0] for d in cur.description or ()]
            yield Table(header=header, rows=_rows(cur, budget), where=f"table {table}")
    finally:
        conn.close()


def _connect(src: Source, budget: Budget) -> sqlite3.Connection:
    target = src.seekable(budget)
    try:
        if isinstance(target, Path):
            uri = target.resolve().as_uri() + "?mode=ro&immutable=1"
            conn = sqlite3.connect(uri, uri=True, check_same_thread=False)
        else:
            conn = sqlite3.connect(":memory:", check_same_thread=False)
            conn.deserialize(target.getvalue())  # type: ignore[attr-defined]
    except sqlite3.DatabaseError as e:
        raise ExtractionError(_reason(e, budget)) from None
    conn.text_factory = lambda b: b.decode("utf-8", errors="replace")
    return conn


def _rows(cur: sqlite3.Cursor, budget: Budget) -> Iterator[list[str]]:
    try:
        while True:
            batch = cur.fetchmany(1024)
            if not batch:
                return
            budget.check_time()
            for row in batch:
                yield ["" if v is None or isinstance(v, bytes) else str(v) for v in row]
    except sqlite3.DatabaseError as e:
        raise ExtractionError(_reason(e, budget), partial=True) from None


def _reason(e: sqlite3.DatabaseError, budget: Budget) -> str:
    # sqlite messages name the problem ("file is not a database", "interrupted"), but a
    # few quote SQL text; only the class and a fixed phrase go out.
    if isinstance(e, sqlite3.OperationalError) and "interrupt" in str(e):
        return f"time budget {budget.limits.time_budget_s:g} s exceeded"
    return f"corrupt sqlite: {type(e).__name__}"
