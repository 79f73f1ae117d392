"""Bounds on the work one file may cost, so hostile input ends in an error, never a hang.

`Limits` holds the numbers (defaults below, documented in docs/formats.md); `Budget` is
the running account for one top-level file (clock, expanded bytes, members, text) that
every extractor charges as it goes. Exceeding a limit raises ExtractionError with a reason
that names the limit and never the content.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

from agent.classifier.units import ExtractionError

MiB = 1 << 20
GiB = 1 << 30


@dataclass(frozen=True)
class Limits:
    """Per-file limits. Every field has a safe default; pass your own to tighten or relax."""

    # Containers (zip, gzip, tar, eml attachments, OOXML packages).
    max_depth: int = 5  # containers inside containers; the file itself is depth 0
    max_members: int = 10_000  # members seen across the whole file, at every depth
    max_ratio: float = 100.0  # expanded / compressed, per member and per archive
    ratio_floor: int = 1 * MiB  # the ratio applies once a member expands past this
    max_expanded_bytes: int = 1 * GiB  # total bytes decompressed for one file
    max_member_in_memory: int = 64 * MiB  # a member needing random access is read to memory
    # Text handed to the engine for one file (plain text streams and extracted text alike).
    max_text_bytes: int = 8 * GiB
    # Formats parsed as a whole (JSON, XML, e-mail, notebooks): above this they are scanned
    # as text. Parsed trees take ~5-10x their file size in Python objects.
    max_parse_bytes: int = 16 * MiB
    max_nesting: int = 200  # JSON/XML depth
    max_rows: int = 5_000_000  # rows per table (SQLite/Parquet/XLSX/CSV)
    max_sqlite_rows: int = 100_000  # rows read per SQLite table
    # Wall-clock time for one file, checked inside every loop of every extractor.
    time_budget_s: float = 60.0
    # Plain text is handed over in blocks of this many bytes, each repeating the tail of
    # the previous one (`overlap_chars`) so a match straddling a cut is still whole.
    block_bytes: int = 2 * MiB
    overlap_chars: int = 2048


DEFAULT_LIMITS = Limits()


@dataclass
class Budget:
    """The running account of one top-level file against its `Limits`."""

    limits: Limits = field(default_factory=Limits)
    started: float = field(default_factory=time.monotonic)
    expanded: int = 0
    members: int = 0
    text: int = 0

    def check_time(self) -> None:
        if time.monotonic() - self.started > self.limits.time_budget_s:
            raise ExtractionError(
                f"time budget {self.limits.time_budget_s:g} s exceeded", partial=True
            )

    def add_text(self, n: int) -> None:
        self.text += n
        if self.text > self.limits.max_text_bytes:
            raise ExtractionError(
                f"text over {_size(self.limits.max_text_bytes)} per file; rest not scanned",
                partial=True,
            )

    def over_rows(self, what: str) -> ExtractionError:
        """The error for ``what`` ("table", "sheet", "table visits") past ``max_rows``: the
        rows read so far stand (partial)."""
        return ExtractionError(f"{what} over {self.limits.max_rows} rows; rest not scanned",
                               partial=True)

    def lines(self, readline: Callable[[int], str], max_line: int) -> Iterator[str]:
        """Lines from ``readline`` (each cut at ``max_line``), charged as text and the clock
        checked every 1024 lines: a readline-per-line reader's accounting."""
        n = chars = 0
        while line := readline(max_line):
            n += 1
            chars += len(line)
            if not n & 1023:
                self.check_time()
                self.add_text(chars)
                chars = 0
            yield line
        self.add_text(chars)

    def add_expanded(self, n: int) -> None:
        self.expanded += n
        if self.expanded > self.limits.max_expanded_bytes:
            raise ExtractionError(
                f"archive expands past {_size(self.limits.max_expanded_bytes)}", partial=True
            )

    def add_member(self) -> None:
        self.members += 1
        if self.members > self.limits.max_members:
            raise ExtractionError(
                f"archive has over {self.limits.max_members} members", partial=True
            )

    def check_ratio(self, expanded: int, compressed: int) -> None:
        if expanded <= self.limits.ratio_floor:
            return
        if expanded > self.limits.max_ratio * max(compressed, 1):
            raise ExtractionError(f"archive expansion ratio over {self.limits.max_ratio:g}")

    def check_depth(self, depth: int) -> None:
        if depth > self.limits.max_depth:
            raise ExtractionError(f"archive nesting deeper than {self.limits.max_depth}")


def _size(n: int) -> str:
    if n >= GiB and n % GiB == 0:
        return f"{n // GiB} GiB"
    if n >= MiB and n % MiB == 0:
        return f"{n // MiB} MiB"
    return f"{n} bytes"
