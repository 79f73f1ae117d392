"""CSV, TSV and any other delimiter, detected by content and streamed row by row.

The delimiter is the candidate that splits the sampled lines into the same number of
fields (>= 2) most consistently, parsed with the csv module so quoted delimiters count
right. csv.Sniffer is not used: it guesses from character frequencies and picks letters
or spaces on prose.
"""

from __future__ import annotations

import csv
import io
import re
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from functools import partial
from itertools import repeat

from agent.classifier.formats import textcodec
from agent.classifier.formats.source import Source
from agent.classifier.limits import Budget
from agent.classifier.units import ExtractionError, PlainRows, Table, TextBlock, Unit

CANDIDATES = (",", "\t", ";", "|")
SAMPLE_LINES = 50
# A single field may be long (a clinical note in a cell); the csv default of 128 KiB would
# reject the whole file. The cap keeps one field from taking all memory.
FIELD_LIMIT = 16 * 1024 * 1024
csv.field_size_limit(FIELD_LIMIT)
MAX_LINE = 1 << 20
_CHUNK = 1 << 18  # characters ``plain`` reads at a time
_PREFIXES = (2048, 4096, 16384)  # characters of the head that usually hold SAMPLE_LINES lines

# A header cell names a column: words, spaces and a little punctuation ("D.O.B.", "MRN#",
# "Pt Name", "dx_code"), no digits-only values, no e-mail or dates.
_HEADER_CELL = re.compile(r"[^\W\d][\w .#/()%?&:'-]{0,63}")  # any script: "Prénom", "Âge"
# The rules and the row count psql and mysql print around a query's result.
_RULE = re.compile(r"[\s+|=:-]*-{3}[\s+|=:-]*")
_ROW_COUNT = re.compile(r"\s*\(\d+ rows?\)\s*")


@dataclass(frozen=True)
class Dialect:
    delimiter: str
    has_header: bool
    fields: int = 0  # the usual number of fields per row
    preamble: int = 0  # lines before the table ("Report generated ...", a title)


MAX_PREAMBLE = 5


def detect(text: str, head_lines: list[str] | None = None) -> Dialect | None:
    """The dialect of delimited text from its head, or None when it is not a table.
    ``head_lines``: ``sample_lines(text)``, when the caller has them already.

    Up to MAX_PREAMBLE leading lines with another field count (a report title, "exported
    on ...") are allowed before the table starts."""
    if head_lines is None:
        head_lines = sample_lines(text)
    lines = list(filter(str.strip, head_lines))  # blank lines do not count
    sample = "\n".join(lines)
    if "---" in sample:  # a query result as psql or mysql prints it: rules and "(2 rows)" are no rows
        lines = [ln for ln in lines if not (("---" in ln and _RULE.fullmatch(ln)) or
                                            (ln.endswith(("row)", "rows)")) and _ROW_COUNT.fullmatch(ln)))]
        sample = "\n".join(lines)
    if len(lines) < 2:
        return None
    best: tuple[tuple[float, int], Dialect] | None = None
    # A table needs 90% of the rows past a preamble (at most MAX_PREAMBLE) to share one
    # width of 2+ fields: with fewer rows of any such width, a delimiter cannot win (exact
    # bounds; most text files stop here).
    need = _rows_needed(len(lines))
    # A field is quoted when a quote opens it, at a line start or after a delimiter (csv
    # reads a quote elsewhere as a plain character); line starts are looked at once.
    line_quote = sample.startswith('"') or '\n"' in sample
    for delim in CANDIDATES:
        if delim not in sample:
            continue
        if not (line_quote or delim + '"' in sample):
            # No field starts with a quote: each line is a row split at every delimiter,
            # as csv would split it, so the widths are counted without parsing; and with
            # fewer delimiters in all than rows needed, no width can have enough rows.
            if sample.count(delim) < need:
                continue
            widths = Counter(map(str.count, lines, repeat(delim)))
            widths.pop(0, None)  # one field
            if not widths or max(widths.values()) < need:
                continue
        try:
            rows = list(csv.reader(lines, delimiter=delim))
        except csv.Error:
            continue
        # Field counts once per delimiter; each preamble guess counts a slice of them (a
        # list of ints counts in C; a generator over the rows, per guess, was a third of
        # the per-file cost on folders of source code).
        lens = list(map(len, rows))
        counts = Counter(lens)
        # Quoted fields can join lines into one row: the same bound over the parsed rows.
        if max((k for w, k in counts.items() if w >= 2), default=0) < _rows_needed(len(rows)):
            continue
        for start in range(min(MAX_PREAMBLE, len(rows) - 1) + 1):
            body = rows[start:]
            if len(body) < 2:
                break
            if start:
                counts[lens[start - 1]] -= 1
            fields, hits = max(counts.items(), key=_by_count)
            if len(body[0]) != fields:
                continue  # the table starts with a row of its usual width
            consistency = hits / len(body)
            if fields < 2 or consistency < 0.9:
                continue
            if start and (fields < 3 or len(body) < 3):
                break  # after a preamble, only a clear table counts (prose has semicolons)
            # Prose with one comma per line is not a table: ask for 3+ fields, or a header.
            if fields == 2 and not is_header(body[0]):
                continue
            header = is_header(body[0]) and not all(is_header(r) for r in body[1:])
            key = (consistency, fields)
            if best is None or key > best[0]:
                best = (key, Dialect(delim, header, fields, start))
            break
    return best[1] if best else None


def _rows_needed(n: int) -> float:
    """Rows of one width a table of ``n`` rows needs: 90% of those past the longest
    preamble allowed."""
    return 0.9 * (n - min(MAX_PREAMBLE, n - 1))


def _by_count(item: tuple[int, int]) -> int:
    return item[1]


def sample_lines(text: str) -> list[str]:
    """The first SAMPLE_LINES lines of the head (all but a cut last line when it has
    fewer). Splits only as much of the head as needed: a 64 KiB head of code has ~2,000
    lines and 50 are read."""
    # A cut in the prefix can only shorten its last line: with more lines than needed,
    # the first ones are the same as the whole head's.
    for prefix in _PREFIXES:
        if prefix >= len(text):
            break  # the prefix is the whole text: split it once, below
        if text.count("\n", 0, prefix) <= SAMPLE_LINES:
            # Too few line breaks to be sure of enough lines: a longer prefix (or the whole
            # text) gives the same first lines if this one would have, without a split.
            continue
        lines = text[:prefix].splitlines()
        if len(lines) > SAMPLE_LINES + 1:
            return lines[:SAMPLE_LINES]
    lines = text.splitlines()
    if len(lines) > SAMPLE_LINES + 1:
        return lines[:SAMPLE_LINES]
    if len(lines) > 1 and not text.endswith(("\n", "\r")):
        return lines[:-1]  # the last line may be cut by the sample
    return lines


def is_header(row: list[str]) -> bool:
    cells = [c.strip() for c in row]
    if len(cells) > 2:  # a bordered table's "| id | name |" has an empty cell at each end
        cells = cells[1 if not cells[0] else 0:-1 if not cells[-1] else None]
    return bool(cells) and all(c and _HEADER_CELL.fullmatch(c) for c in cells)


def _is_rule(row: list[str]) -> bool:
    """A table's rule ("+----+-----+", "----+----", "|---|:--|") as a parsed row."""
    return bool(row) and _RULE.fullmatch(" ".join(row)) is not None


def units(src: Source, budget: Budget, depth: int = 0) -> Iterator[Unit]:
    encoding = src.codec() or "latin-1"
    dialect = detect(textcodec.decode_head(src.head(), encoding))
    if dialect is None:  # sniffed as a table by the caller; keep going as comma-separated
        dialect = Dialect(",", False)
    stream = io.TextIOWrapper(src.open(), encoding=encoding, errors="replace", newline="")
    lines = _Lines(stream, budget)
    reader = csv.reader(lines, delimiter=dialect.delimiter)
    try:
        first = next(reader, None)
    except csv.Error:
        stream.close()
        raise ExtractionError("corrupt csv: unreadable first row") from None
    line = 1
    while first is not None and _is_rule(first):  # "+----+-----+" above a mysql header
        line = reader.line_num + 1
        first = next(reader, None)
    if first is None:
        stream.close()
        return
    if dialect.preamble:
        preamble = []
        while first is not None and len(first) != dialect.fields and len(preamble) < MAX_PREAMBLE:
            if any(c.strip() for c in first):
                preamble.append(" ".join(c.strip() for c in first))
            line = reader.line_num + 1
            first = next(reader, None)
        if preamble:
            yield TextBlock("\n".join(preamble) + "\n", where="before the table", line=1)
        if first is None:
            stream.close()
            return
    header = [c.strip() for c in first] if dialect.has_header else None
    yield Table(
        header=header,
        rows=_rows(reader, lines, stream, None if header else first),
        first_row_line=line + 1 if header else line,
        plain=partial(lines.plain, dialect.delimiter),
    )


class _Lines:
    """The table's lines as read: the csv reader's source, and read many at a time by
    ``plain``. Lines are read with a cap, so one endless line (millions of tiny fields) is
    cut into pieces rather than parsed into millions of strings at once. The budget is
    charged here, every 1024 lines, which costs far less than summing cell lengths per row.
    """

    def __init__(self, stream: io.TextIOWrapper, budget: Budget) -> None:
        self._stream = stream
        self._readline = partial(stream.readline, MAX_LINE)
        self._budget = budget
        self._ahead = ""  # text ``plain`` read past the lines it returned
        self._back: io.StringIO | None = None  # text ``plain`` handed back to the csv reader
        self._back_len = 0
        self._parsed = False  # ``plain`` said no: the csv reader reads the rest
        self.n = 0  # lines read
        self._chars = 0  # not yet charged

    def __iter__(self) -> _Lines:
        return self

    def __next__(self) -> str:
        line = self._readline() if self._back is None else self._replay()
        if not line:
            self._budget.add_text(self._chars)
            self._chars = 0
            raise StopIteration
        self.n += 1
        self._chars += len(line)
        if not self.n & 1023:
            self._charge()
        return line

    def _replay(self) -> str:
        """A line of the handed-back text, read as the stream's readline would read it."""
        assert self._back is not None
        line = self._back.readline(MAX_LINE)
        if self._back.tell() < self._back_len:
            return line
        self._back = None  # used up: the stream again, from where ``plain`` stopped
        if len(line) < MAX_LINE and not line.endswith("\n"):
            if line.endswith("\r"):  # maybe the first half of a CRLF
                nxt = self._stream.read(1)
                if nxt == "\n":
                    line += nxt
                elif nxt:
                    self._back, self._back_len = io.StringIO(nxt, newline=""), len(nxt)
            else:  # a line cut by the chunk: its rest is in the stream
                line += self._stream.readline(MAX_LINE - len(line))
        return line

    def plain(self, delimiter: str, count: int) -> PlainRows | None:
        """At least the next ``count`` lines (all whole lines read so far: splitting the
        text at the count-th line cost more than the rest of a clean chunk), or the rest of
        the table (``last``), as PlainRows; or None (for good: the rest of the table is read
        through the csv reader) when they are not plain. Read in chunks and split in C: a
        readline per line was most of the cost of a large clean table."""
        if self._parsed:
            return None
        if self._stream.closed:  # the csv reader read to the end (a short table)
            return PlainRows("", 0, delimiter, last=True)
        buf, newlines = self._ahead, self._ahead.count("\n")
        last = False
        while newlines < count and len(buf) - buf.rfind("\n") <= MAX_LINE:
            more = self._stream.read(_CHUNK)
            if not more:
                last = True
                break
            buf += more
            newlines += more.count("\n")
        if last or newlines < count:  # the end of the table, or a line over the cap
            text, rest = buf, ""
            n = newlines + (bool(buf) and not buf.endswith("\n"))
        else:
            cut = buf.rfind("\n") + 1
            text, rest, n = buf[:cut], buf[cut:], newlines
        if not _is_plain(text):
            self._back, self._back_len = io.StringIO(buf, newline=""), len(buf)
            self._ahead = ""
            self._parsed = True
            return None
        self._ahead = rest
        n0 = self.n
        self.n += n
        self._chars += len(text)
        if n0 >> 10 != self.n >> 10:
            self._charge()
        return PlainRows(text, n, delimiter, last=last)

    def _charge(self) -> None:
        self._budget.check_time()
        self._budget.add_text(self._chars)
        self._chars = 0
        if self.n >= self._budget.limits.max_rows:
            raise self._budget.over_rows("table")


def _is_plain(text: str) -> bool:
    """Lines that split at the delimiter exactly as the csv module parses them: no quote
    character, CR or NUL, and none cut by the line cap. (A blank line is plain: csv gives
    [] for it, and so does PlainRows.cells.)"""
    if '"' in text or "\r" in text or "\x00" in text:
        return False
    # no line is longer than all of them: most chunks need no look at each line
    return len(text) < MAX_LINE or max(map(len, text.split("\n"))) < MAX_LINE


def _rows(reader, lines: _Lines, stream: io.TextIOWrapper, first: list[str] | None) -> Iterator[list[str]]:  # type: ignore[no-untyped-def]
    with stream:
        if first is not None:
            yield first
        try:
            yield from reader
        except csv.Error:
            raise ExtractionError(
                f"corrupt csv: unparseable row near line {lines.n}"
            ) from None
