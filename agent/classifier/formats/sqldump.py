"""SQL dumps and seed scripts (pg_dump, mysqldump, sqlite3 .dump, hand-written INSERTs):
each table's rows as a Table under the column names the dump gives them.

A dump is text, but its rows are not lines with labels: ``INSERT INTO patients VALUES
(1,'Ann','Lee','1961-03-14','E11.9');`` holds a name and a date that nothing names, and
mysqldump puts thousands of rows in one statement. Read as a table, the columns of the
INSERT, of the table's CREATE TABLE, or of pg_dump's ``COPY t (cols) FROM stdin;`` label
them, as the header of a CSV export of the same table would. Every other line (comments,
DDL, SET, UPDATE) goes to the engine as text.

Bounded like the other readers: lines are read with a cap, one statement may hold at most
``MAX_STATEMENT`` characters, rows count against ``Limits.max_rows`` per table.
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from itertools import groupby

from agent.classifier.formats.source import Source
from agent.classifier.limits import Budget
from agent.classifier.units import ExtractionError, Table, TextBlock, Unit

MAX_LINE = 1 << 20
MAX_STATEMENT = 64 << 20  # characters of one INSERT (mysqldump writes ~1 MB ones)
TEXT_BATCH = 1 << 18  # characters of other lines handed over as one TextBlock
ROW_BATCH = 1024  # rows of an INSERT or a COPY block per event

# A table name as dumps write it: "public"."patients", `clinic`.`patients`, [dbo].[pt].
_NAME = r'(?:"[^"]+"|`[^`]+`|\[[^\]]+\]|[\w$]+)(?:\s*\.\s*(?:"[^"]+"|`[^`]+`|\[[^\]]+\]|[\w$]+))*'
_INSERT = re.compile(
    rf"\s*(?:INSERT|REPLACE)\s+(?:(?:LOW_PRIORITY|DELAYED|HIGH_PRIORITY|IGNORE|OR\s+\w+)\s+)*"
    rf"(?:INTO\s+)?(?P<name>{_NAME})\s*(?:\((?P<cols>[^()]*)\))?\s*VALUES?\s*", re.I)
_COPY = re.compile(rf"\s*COPY\s+(?P<name>{_NAME})\s*(?:\((?P<cols>[^()]*)\))?\s+FROM\s+stdin\b", re.I)
_CREATE = re.compile(
    rf"\s*CREATE\s+(?:(?:GLOBAL|LOCAL)\s+)?(?:(?:TEMP|TEMPORARY|UNLOGGED)\s+)?TABLE\s+"
    rf"(?:IF\s+NOT\s+EXISTS\s+)?(?P<name>{_NAME})\s*\(", re.I)
# Items of a CREATE TABLE body that are constraints, not columns.
_NOT_COLUMNS = frozenset({"PRIMARY", "CONSTRAINT", "UNIQUE", "KEY", "INDEX", "FOREIGN", "CHECK",
                          "FULLTEXT", "SPATIAL", "EXCLUDE", "LIKE", "PERIOD"})
# Tokens of a VALUES list: a quoted string ('' or \' inside), a bracket, a comma, a
# semicolon, or a bare value (a number, NULL, a cast, a function name).
_TOKEN = re.compile(r"""'(?:[^'\\]|\\.|'')*'|"(?:[^"\\]|\\.|"")*"|[(),;]|[^\s(),;'"]+|\s+""", re.S)
_UNQUOTE = re.compile(r"\\(.)|''|\"\"", re.S)
_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", "0": ""}

# Sniffing (sniff.py): the first statement of the head is SQL, and the head holds a
# statement with rows or a table definition somewhere.
_NEVER_FIRST = frozenset("\"'{[<(@!$%&*+,.0123456789:;=>?^`|~")
_LEAD = re.compile(r"(?:\s+|--[^\n]*|#[^\n]*|/\*(?!!).*?\*/)*", re.S)
# Statements a dump or seed script starts with, each with the words that follow (prose
# starts with "Update the README" or "Start the server").
_FIRST_STATEMENT = re.compile(
    r"(?:SET\s+(?:[\w@.]+\s*(?:=|TO\b)|NAMES\b|\w+\s+(?:ON|OFF)\b)|"
    r"CREATE\s+(?:TABLE|DATABASE|SCHEMA|(?:UNIQUE\s+)?INDEX|SEQUENCE|VIEW|TYPE|EXTENSION|"
    r"FUNCTION|OR\s+REPLACE|TEMP|TEMPORARY|UNLOGGED)\b|"
    r"(?:INSERT|REPLACE)\s+INTO\b|COPY\s+\S+\s*(?:\(|FROM\b)|BEGIN(?:\s+TRANSACTION)?\s*;|"
    r"START\s+TRANSACTION\b|PRAGMA\s+\w+|USE\s+\S+\s*;|LOCK\s+TABLES?\b|"
    r"DROP\s+(?:TABLE|DATABASE|SCHEMA|INDEX|VIEW|SEQUENCE|TYPE)\b|"
    r"ALTER\s+(?:TABLE|DATABASE|SEQUENCE|SCHEMA)\b|UPDATE\s+\S+\s+SET\b|DELETE\s+FROM\b|"
    r"\\(?:restrict|connect|c)\b|/\*!)", re.I)
_STATEMENT_START = re.compile(r"(?:INSERT|REPLACE|COPY|CREATE|UPDATE|DELETE|ALTER|DROP|SET|SELECT|"
                              r"LOCK|UNLOCK|COMMIT|BEGIN)\b|GO\s*$", re.I)
_HAS_DATA = re.compile(r"^\s*(?:INSERT\s+(?:INTO\b|\[)|REPLACE\s+INTO\b|COPY\s+\S+.*FROM\s+stdin\b|CREATE\s+TABLE\b)",
                       re.I | re.M)


def looks_like_dump(text: str) -> bool:
    """A SQL script: its first statement (after blank lines and comments) is SQL, and it
    inserts rows, copies them in or defines a table somewhere in ``text``."""
    if text[:1] in _NEVER_FIRST:  # a docstring, JSON, markup: most files stop here
        return False
    first = _LEAD.match(text).end()
    return bool(_FIRST_STATEMENT.match(text, first)) and bool(_HAS_DATA.search(text, first))


def units(src: Source, budget: Budget, depth: int = 0) -> Iterator[Unit]:
    stream = io.TextIOWrapper(src.open(), encoding=src.codec() or "utf-8", errors="replace",
                              newline="")
    with stream:
        events = _Dump(stream, budget).events()
        for key, group in groupby(events, key=_event_key):
            if key is None:
                yield from _text_blocks(group, budget)
            else:
                _, table, header = key
                where = f"table {table}"
                yield Table(header=list(header) if header else None,
                            rows=_rows(group, budget, where), where=where)


def _event_key(event: tuple) -> tuple | None:
    # rows of one table under one header are one Table; text events group together
    return None if event[0] == "text" else event[:3]


def _rows(group: Iterator[tuple], budget: Budget, where: str) -> Iterator[list[str]]:
    n = 0
    for event in group:
        rows = event[3]
        n += len(rows)
        if n > budget.limits.max_rows:
            raise budget.over_rows(where)
        yield from rows


def _text_blocks(group: Iterator[tuple], budget: Budget) -> Iterator[TextBlock]:
    parts: list[str] = []
    size = 0
    first_line = None
    at = 0  # the line the next part starts on: skipped blank lines come back as line breaks
    for _, line_no, text in group:
        if first_line is None:
            first_line = at = line_no
        if line_no > at:
            parts.append("\n" * (line_no - at))
        parts.append(text)
        size += len(text)
        at = line_no + text.count("\n")
        if size >= TEXT_BATCH:
            budget.add_text(size)
            yield TextBlock("".join(parts), where=f"line {first_line}", line=first_line)
            parts, size, first_line = [], 0, None  # the next part opens a block at its own line
    if parts:
        budget.add_text(size)
        yield TextBlock("".join(parts), where=f"line {first_line}", line=first_line)


class _Dump:
    """The dump as events: ("text", line number, text) for lines that are not rows, and
    ("insert" | "copy", table, header, rows) for the rows of a statement or COPY block."""

    def __init__(self, stream: io.TextIOWrapper, budget: Budget) -> None:
        self._readline = stream.readline
        self._budget = budget
        self._columns: dict[str, tuple[str, ...]] = {}  # CREATE TABLE columns by table
        self._back: str | None = None  # a line read ahead and handed back
        self.line = 0

    def _next(self) -> str:
        if self._back is not None:
            line, self._back = self._back, None
            self.line += 1
            return line
        line = self._readline(MAX_LINE)
        if line:
            self.line += 1
            if not self.line & 1023:
                self._budget.check_time()
        return line

    def events(self) -> Iterator[tuple]:
        while line := self._next():
            start = self.line
            m = _INSERT.match(line)
            if m:
                statement = self._statement(line)
                values = _Values(statement, m.end(), self._budget)
                name, header = self._table(m)
                for rows in values.batches():
                    yield ("insert", name, header, rows)
                if not values.complete:  # cut short (the file ends inside it): the rest as text
                    yield ("text", start, statement)
                continue
            m = _COPY.match(line)
            if m:
                yield ("text", start, line)
                yield from self._copy(*self._table(m))
                continue
            m = _CREATE.match(line)
            if m:
                statement = self._statement(line)
                self._columns[_table_name(m["name"])] = _create_columns(statement, m.end())
                yield ("text", start, statement)
                continue
            if line.strip():  # blank lines would split a table's INSERTs into many tables
                yield ("text", start, line)

    def _table(self, m: re.Match[str]) -> tuple[str, tuple[str, ...]]:
        """The table an INSERT or COPY fills, and its columns: the statement's own list, or
        the table's CREATE TABLE."""
        name = _table_name(m["name"])
        return name, _column_list(m["cols"]) if m["cols"] else self._columns.get(name, ())

    def _statement(self, first: str) -> str:
        """The statement that starts on ``first``: lines up to one that ends it (a ";" at
        the end, outside quotes and brackets), or to the end of the file. A line that
        starts a statement (or SQL Server's "GO") ends it too, where no quote or bracket
        is open or after a line ending in ";": scripts without semicolons, and a quote
        this reader takes wrongly (a backslash in a PostgreSQL string), must not swallow
        the dump.
        Each line is looked at once (_Ends), however long the statement."""
        parts = [first]
        size = len(first)
        ends = _Ends()
        while not ends.feed(parts[-1]):
            line = self._next()
            if not line:
                break
            if (ends.balanced or parts[-1].rstrip().endswith(";")) and _STATEMENT_START.match(line):
                self._back = line
                self.line -= 1
                break
            parts.append(line)
            size += len(line)
            if size > MAX_STATEMENT:
                raise ExtractionError(f"SQL statement over {MAX_STATEMENT >> 20} MiB near line "
                                      f"{self.line}; rest not scanned", partial=True)
            self._budget.check_time()
        return "".join(parts)

    def _copy(self, name: str, header: tuple[str, ...]) -> Iterator[tuple]:
        """pg_dump's COPY block: tab-separated rows up to a line "\\.", \\N for NULL."""
        batch: list[list[str]] = []
        while line := self._next():
            row = line.rstrip("\r\n")
            if row == "\\.":
                break
            batch.append(["" if v == "\\N" else v for v in row.split("\t")])
            if len(batch) >= ROW_BATCH:
                yield ("copy", name, header, batch)
                batch = []
        if batch:
            yield ("copy", name, header, batch)


class _Ends:
    """Whether the statement fed so far, line by line, has ended: its last line ends in
    ";" outside quotes (' and ", doubled or backslash-escaped inside) and brackets."""

    _SPECIAL = re.compile(r"""['"()\\]""")

    def __init__(self) -> None:
        self.quote: str | None = None
        self.depth = 0
        self.escaped = False

    def feed(self, line: str) -> bool:
        for m in self._SPECIAL.finditer(line):
            c = m.group()
            if self.escaped:
                self.escaped = False
                if m.start() == self._escape_at + 1:
                    continue
            if self.quote is not None:
                if c == "\\":
                    self.escaped, self._escape_at = True, m.start()
                elif c == self.quote:
                    self.quote = None
            elif c in "'\"":
                self.quote = c
            elif c == "(":
                self.depth += 1
            elif c == ")":
                self.depth -= 1
        self.escaped = False  # an escape at the end of a line escapes the line break
        return self.balanced and line.rstrip().endswith(";")

    @property
    def balanced(self) -> bool:
        return self.quote is None and self.depth <= 0


class _Values:
    """The rows of ``VALUES (..), (..);`` from ``pos``, in batches of ``ROW_BATCH`` (a
    mysqldump statement holds thousands: parsed all at once, a 64 MiB one would take
    ~0.5 GB of lists). ``complete``, once read through: whether the list was whole."""

    def __init__(self, statement: str, pos: int, budget: Budget) -> None:
        self.statement, self.pos, self.budget = statement, pos, budget
        self.complete = False

    def batches(self) -> Iterator[list[list[str]]]:
        statement, pos, budget = self.statement, self.pos, self.budget
        rows: list[list[str]] = []
        row: list[str] | None = None
        cell: list[str] = []
        depth = 0
        done = False  # past the row list (ON CONFLICT ..., ON DUPLICATE KEY UPDATE ...)
        tokens = 0
        n = len(statement)
        while pos < n:
            m = _TOKEN.match(statement, pos)
            if m is None:  # an unclosed quote: the statement was cut
                break
            tok = m.group()
            pos = m.end()
            tokens += 1
            if not tokens & 0xFFFF:  # a long statement: the clock, now and then
                budget.check_time()
            if tok == "(":
                depth += 1
                if depth == 1 and not done:
                    row, cell = [], []
                    continue
            elif tok == ")":
                depth -= 1
                if depth == 0 and row is not None:
                    row.append(_cell(cell))
                    rows.append(row)
                    row = None
                    if len(rows) >= ROW_BATCH:
                        yield rows
                        rows = []
                    continue
            elif tok == "," and depth == 1 and row is not None:
                row.append(_cell(cell))
                cell = []
                continue
            elif tok == ";" and depth == 0:
                self.complete = True
                break
            elif depth == 0 and tok != "," and not tok.isspace():
                done = True
            if depth >= 1 and not tok.isspace():
                cell.append(tok)
        else:
            self.complete = depth == 0 and row is None
        if rows:
            yield rows


def _cell(tokens: list[str]) -> str:
    """A value as its text: strings unquoted, NULL empty, casts and functions kept as
    written around their strings ('2024-01-01'::date -> 2024-01-01)."""
    if not tokens:
        return ""
    if len(tokens) == 1:
        tok = tokens[0]
        if tok[0] in "'\"":
            return _unquote(tok)
        return "" if tok.upper() == "NULL" else tok
    strings = [_unquote(t) for t in tokens if t[0] in "'\""]
    return " ".join(strings) if strings else " ".join(tokens)


def _unquote(tok: str) -> str:
    body = tok[1:-1]
    if "\\" not in body and "''" not in body and '""' not in body:
        return body
    return _UNQUOTE.sub(_unescape, body)


def _unescape(m: re.Match[str]) -> str:
    c = m.group(1)
    if c is None:
        return m.group()[0]  # '' or ""
    return _ESCAPES.get(c, c)


def _table_name(name: str) -> str:
    last = re.split(r"\s*\.\s*(?=[\"`\[\w$])", name)[-1]
    return last.strip('"`[]')


def _column_list(cols: str) -> tuple[str, ...]:
    return tuple(c.strip().strip('"`[]') for c in cols.split(","))


def _create_columns(statement: str, pos: int) -> tuple[str, ...]:
    """Column names of a CREATE TABLE body (from just after its "("): the first token of
    each item at the top level that is not a constraint."""
    columns: list[str] = []
    first = None  # the current item's first token
    depth = 1
    for m in _TOKEN.finditer(statement, pos):
        tok = m.group()
        if tok == "(":
            depth += 1
        elif tok == ")":
            depth -= 1
            if depth == 0:
                break
        elif tok == "," and depth == 1:
            _add_column(columns, first)
            first = None
        elif depth == 1 and first is None and not tok.isspace():
            first = tok
    _add_column(columns, first)
    return tuple(columns)


def _add_column(columns: list[str], first: str | None) -> None:
    if first and first.upper() not in _NOT_COLUMNS:
        columns.append(first.strip('"`[]'))
