"""Plain text and logs: big blocks with an overlap, no per-line Python work.

A file is read in `Limits.block_bytes` chunks and decoded incrementally. Each block ends
at a line break where there is one (so a row is whole), and starts by repeating up to
`Limits.overlap_chars` of the previous block from a line start, so a match or its context
that straddles a cut is still seen. NUL bytes (holes in sparse files, preallocated logs)
are dropped before decoding.
"""

from __future__ import annotations

import codecs
import errno
import io
import os
from collections.abc import Iterator
from typing import BinaryIO

from agent.classifier.formats.source import Source
from agent.classifier.limits import Budget
from agent.classifier.units import TextBlock, Unit

# NUL-skipping only where a NUL byte is a NUL character (not in UTF-16/32).
_SINGLE_NUL = {"utf-8", "utf-8-sig", "latin-1"}


def units(src: Source, budget: Budget, depth: int = 0) -> Iterator[Unit]:
    encoding = src.codec() or "latin-1"
    whole = src.whole()
    if whole is not None and len(whole) <= budget.limits.block_bytes and encoding in _SINGLE_NUL \
            and whole.endswith(b"\n") and b"\x00" not in whole:
        # Most files on a laptop are this: small, whole in the head already, ending in a
        # line break. ``blocks`` would give exactly this one block; skipping its
        # incremental decoder and bookkeeping is a visible share of a folder of code.
        budget.check_time()
        text = whole.decode(encoding, "replace")
        budget.add_text(len(text))
        yield TextBlock(text, where="line 1", line=1)
        return
    with src.open() as stream:
        yield from blocks(stream, encoding, budget)


def blocks(stream: BinaryIO, encoding: str, budget: Budget, where: str = "") -> Iterator[TextBlock]:
    """Decode `stream` and yield it as overlapping TextBlocks (see the module docstring).

    ``where`` prefixes the location ("page 3"); blocks are located by line otherwise.
    """
    limits = budget.limits
    decoder = codecs.getincrementaldecoder(encoding)(errors="replace")
    skip_nul = encoding in _SINGLE_NUL
    line = 1  # line number where the next body starts
    tail = ""  # end of the previous block, repeated at the start of the next
    carry = ""  # an unfinished last line, held for the next block
    counted: tuple[str, int] | None = None  # the last block: its lines are counted only
    while True:  # when another block follows (counting runs at ~1.6 GB/s, on every byte)
        budget.check_time()
        raw = stream.read(limits.block_bytes)
        final = not raw
        if skip_nul and b"\x00" in raw:
            # Holes and padding carry no text: drop them in one C pass (translate runs at
            # ~1 GB/s; bytes.replace at ~50 MB/s), and jump over a sparse file's holes.
            raw = raw.translate(None, b"\x00")
            if not raw:
                _skip_hole(stream)
                continue
        # tail + carry + the new text in one string, so the block is one slice of it
        # (a 2 MiB block was copied five times; now three)
        start = len(tail)
        text = tail + carry + decoder.decode(raw, final)
        cut = len(text)
        if not final:
            nl = text.rfind("\n", start) + 1
            if nl > 0 and cut - nl <= limits.block_bytes:
                cut = nl
        block, carry = text[:cut], text[cut:]
        if cut > start:
            if counted is not None:
                line += counted[0].count("\n", counted[1])
            budget.add_text(cut - start)
            first = line - tail.count("\n")
            loc = f"{where} line {first}".strip()
            yield TextBlock(block, where=loc, line=first, overlap=start)
            counted = (block, start)
            tail = _tail(block, limits.overlap_chars, start)
        if final:
            return


def _skip_hole(stream: BinaryIO) -> None:
    """Seek to the next data past a hole (SEEK_DATA: Linux, macOS, FreeBSD; lseek(2)), so a
    2 GB sparse file costs its data, not 2 GB of zero pages. Elsewhere, keep reading."""
    whence = getattr(os, "SEEK_DATA", None)
    if whence is None:
        return
    try:
        fd = stream.fileno()
        pos = stream.tell()
        nxt = os.lseek(fd, pos, whence)
    except OSError as e:
        if e.errno == errno.ENXIO:  # no data after pos: the rest is a hole
            stream.seek(0, os.SEEK_END)
        return
    except (AttributeError, ValueError, io.UnsupportedOperation):
        return  # not a real file (a member stream)
    if nxt > pos:
        stream.seek(nxt)


def _tail(block: str, n: int, start: int = 0) -> str:
    """The last `n` characters of the block's body (``block[start:]``), trimmed to start at
    a line when one starts there."""
    if n <= 0:
        return ""
    body_len = len(block) - start
    t = block[-n:] if body_len > n else block[start:]
    i = t.find("\n")
    if 0 <= i < len(t) - 1 and body_len > n:
        return t[i + 1 :]
    return t
