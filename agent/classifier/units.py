"""The contract between format extraction (bytes -> units) and detection (units -> verdict).

Extractors in agent/classifier/formats/ turn a file, sniffed by content, into a stream
of units; the engine in agent/classifier/engine.py scores them. Neither side keeps a
matched value beyond the unit it is looking at.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from itertools import repeat


@dataclass
class TextBlock:
    """A span of free text (a chunk of a log, a PDF page, a DOCX paragraph run).

    ``where`` locates it for a person ("line 120", "page 3", "header"); ``line`` is the
    1-based line number of the block's first line where that makes sense. Long inputs are
    cut into blocks with an overlap so that nothing straddling a cut is missed; ``overlap``
    is how many leading characters repeat the end of the previous block. ASCII text read
    as is comes as ``bytes`` (formats/text.py): the engine scans those bytes unencoded.
    """

    text: str | bytes
    where: str = ""
    line: int | LazyLine | None = None
    overlap: int = 0


class LazyLine:
    """A line number counted only when it is needed (``int(line)``): the location of a
    finding. Counting the lines of every block of a big log cost more than scanning it."""

    __slots__ = ("_count",)

    def __init__(self, count: Callable[[], int]) -> None:
        self._count = count

    def __int__(self) -> int:
        return self._count()

    def __repr__(self) -> str:
        return "LazyLine()"


@dataclass
class Table:
    """Tabular data: CSV/TSV, a spreadsheet sheet, a Parquet file, a SQLite table, a JSON
    array of flat objects. Classified record by record (an identifier and a health value
    in the same row), with the header naming columns."""

    header: list[str] | None
    rows: Iterable[list[str]]
    where: str = ""  # "sheet Patients", "table visits"
    first_row_line: int | None = None
    # Delimited text only: ``plain(n)`` reads the next n rows as text when they are plain
    # (see PlainRows), or returns None and leaves them to ``rows``. Lets the engine look at
    # rows before splitting them into cells.
    plain: Callable[[int], PlainRows | None] | None = None


@dataclass
class PlainRows:
    """Rows of delimited text as read: no quoting, CR or NUL, so splitting each line at
    the delimiter gives exactly the cells a CSV parser would (a blank line: no cells)."""

    text: str  # the lines, each ending in a newline but maybe the file's last
    count: int
    delimiter: str
    last: bool = False  # the table ends here

    def cells(self) -> list[list[str]]:
        if not self.count:
            return []
        body = self.text[:-1] if self.text.endswith("\n") else self.text
        lines = body.split("\n")
        rows = list(map(str.split, lines, repeat(self.delimiter, len(lines))))
        if "" in lines:  # blank lines: csv reads them as rows without cells
            rows = [r if r != [""] else [] for r in rows]
        return rows


@dataclass
class Record:
    """A health record format recognised by structure (HL7 v2, FHIR, C-CDA, DICOM, X12).

    ``patient_identity`` is True when the record names a patient (PID-5/PID-3, a FHIR
    Patient name or identifier, a recordTarget that is not nullFlavor, DICOM
    PatientName/PatientID). ``identifiers`` and ``health`` are kind -> count seen in the
    structure itself. ``text`` carries free text inside the record (notes, OBX values) for
    the engine to scan as well.
    """

    format: str
    patient_identity: bool
    identifiers: dict[str, int] = field(default_factory=dict)
    health: dict[str, int] = field(default_factory=dict)
    text: list[TextBlock] = field(default_factory=list)
    where: str = ""


@dataclass
class Member:
    """A file inside a container (zip/gzip/eml attachment): scanned as a file of its own
    and reported as ``outer!inner``."""

    name: str
    units: Iterator[Unit]
    format: str = "unknown"
    size: int = 0


Unit = TextBlock | Table | Record | Member


class ExtractionError(Exception):
    """The file cannot be read as its format says (corrupt, encrypted, over a limit).

    The message is shown to users and sent to the server: it must never quote file
    content. ``partial`` is True when units were already yielded before the limit hit
    (time budget, text cap, member count): the engine may keep what it found and surface
    ``reason`` beside the verdict.
    """

    def __init__(self, reason: str, *, partial: bool = False) -> None:
        super().__init__(reason)
        self.reason = reason
        self.partial = partial
