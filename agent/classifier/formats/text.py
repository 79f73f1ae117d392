"""Plain text and logs: big blocks with an overlap, no per-line Python work.

A file is read in `Limits.block_bytes` chunks and decoded incrementally. Each block ends
at a line break where there is one (so a row is whole), and starts by repeating up to
`Limits.overlap_chars` of the previous block from a line start, so a match or its context
that straddles a cut is still seen. NUL bytes (holes in sparse files, preallocated logs)
are dropped before decoding.

ASCII is not decoded at all: its bytes are the text's UTF-8 bytes, which the engine
scans, so a block of ASCII is handed over as ``bytes`` (most code and logs; decoding
them and encoding them back cost more than scanning them).
"""

from __future__ import annotations

import codecs
import errno
import io
import os
from collections.abc import Callable, Iterator
from functools import partial
from pathlib import Path
from typing import BinaryIO

from agent.classifier.formats.source import Source
from agent.classifier.limits import Budget
from agent.classifier.units import LazyLine, TextBlock, Unit

# NUL-skipping only where a NUL byte is a NUL character (not in UTF-16/32).
_SINGLE_NUL = {"utf-8", "utf-8-sig", "latin-1"}
# Codecs in which ASCII bytes decode to themselves, one character a byte (not utf-8-sig:
# it drops a BOM, which is not ASCII anyway).
_ASCII_SAFE = {"utf-8", "latin-1"}


def whole_block(src: Source, budget: Budget) -> TextBlock | None:
    """The one block of a small file read whole already and ending in a line break, or
    None. Most files on a laptop are this: ``blocks`` would give exactly this block, and
    skipping its incremental decoder and bookkeeping (and, in formats.extract_source, the
    generators around it) is a visible share of a folder of code."""
    encoding = src.codec() or "latin-1"
    whole = src.whole()
    if whole is None or len(whole) > budget.limits.block_bytes or encoding not in _SINGLE_NUL \
            or not whole.endswith(b"\n") or b"\x00" in whole:
        return None
    budget.check_time()
    text: str | bytes = whole if encoding in _ASCII_SAFE and whole.isascii() \
        else whole.decode(encoding, "replace")
    budget.add_text(len(text))
    return TextBlock(text, where="line 1", line=1)


def units(src: Source, budget: Budget, depth: int = 0) -> Iterator[Unit]:
    block = whole_block(src, budget)
    if block is not None:
        yield block
        return
    encoding = src.codec() or "latin-1"
    whole = src.whole()
    with src.open() as stream:
        lines = _newlines_before(src.path) if src.path is not None and whole is None else None
        yield from blocks(stream, encoding, budget, newlines_before=lines, ascii_bytes=True)


def blocks(stream: BinaryIO, encoding: str, budget: Budget, where: str = "",
           newlines_before: Callable[[int], int] | None = None,
           ascii_bytes: bool = False) -> Iterator[TextBlock]:
    """Decode `stream` and yield it as overlapping TextBlocks (see the module docstring).

    ``where`` prefixes the location ("page 3"); blocks are located by line otherwise.
    With ``newlines_before(offset)`` (the line breaks in the stream's first bytes, read
    again) blocks' lines are not counted as they go by: a block's line number is a
    LazyLine, worked out from the file when a finding in it is located. Counting every
    block cost more than reading it, and most blocks of a log hold nothing to locate.
    With ``ascii_bytes``, blocks are ``bytes`` while the stream is ASCII; from its first
    other byte on, they are decoded ``str``.
    """
    limits = budget.limits
    decoder = codecs.getincrementaldecoder(encoding)(errors="replace")
    skip_nul = encoding in _SINGLE_NUL
    # Lazy lines need a line break to be one byte of the file, and no holes to count.
    lazy = newlines_before is not None and skip_nul
    as_bytes = ascii_bytes and encoding in _ASCII_SAFE
    nl: str | bytes = b"\n" if as_bytes else "\n"
    line = 1  # line number where the next body starts (when not lazy)
    tail = nl[:0]  # end of the previous block, repeated at the start of the next
    carry = nl[:0]  # an unfinished last line, held for the next block
    counted: tuple[str | bytes, int] | None = None  # the last block: its lines are counted only
    while True:  # when another block follows (counting runs at ~1.6 GB/s, on every byte)
        budget.check_time()
        at = stream.tell() if lazy else 0
        raw = stream.read(limits.block_bytes)
        final = not raw
        if skip_nul and b"\x00" in raw:
            if lazy:
                # Every line break before ``at`` is in an earlier block (a carried line
                # has none); from here on, count as blocks go by rather than read holes.
                line, lazy = 1 + newlines_before(at), False
            # Holes and padding carry no text: drop them in one C pass (translate runs at
            # ~1 GB/s; bytes.replace at ~50 MB/s), and jump over a sparse file's holes.
            raw = raw.translate(None, b"\x00")
            if not raw:
                _skip_hole(stream)
                continue
        if as_bytes and not raw.isascii():
            # From here on, decode (the decoder has been given nothing yet: no state lost).
            as_bytes, nl = False, "\n"
            tail, carry = tail.decode("ascii"), carry.decode("ascii")
        start = len(tail)
        piece = raw if as_bytes else decoder.decode(raw, final)
        # The block ends after the piece's last line break (``carry`` never holds one),
        # unless the rest would be longer than a block. Joined in one copy: bytes are
        # taken through a memoryview, not sliced first (a 2 MiB block was copied twice).
        after = 0 if final else piece.rfind(nl) + 1
        if after > 0 and len(piece) - after <= limits.block_bytes:
            body, rest = (memoryview(piece)[:after] if as_bytes else piece[:after]), piece[after:]
        else:
            body, rest = piece, piece[:0]
        block, carry = nl[:0].join((tail, carry, body)), rest
        if len(block) > start:
            budget.add_text(len(block) - start)
            if lazy:
                first: int | LazyLine = LazyLine(
                    partial(_first_line, newlines_before, at, tail.count(nl)))
                loc = where
            else:
                if counted is not None:
                    line += _lines(*counted)
                first = line - tail.count(nl)
                loc = f"{where} line {first}".strip()
                counted = (block, start)
            yield TextBlock(block, where=loc, line=first, overlap=start)
            tail = _tail(block, limits.overlap_chars, start)
        if final:
            return


def _lines(block: str | bytes, start: int) -> int:
    """Line breaks in ``block[start:]`` (an earlier block may be bytes, a later str)."""
    return block.count(b"\n" if isinstance(block, bytes) else "\n", start)


def _first_line(newlines_before: Callable[[int], int], at: int, in_tail: int) -> int:
    # The body read at ``at`` starts after every line break before ``at``; the block
    # starts ``in_tail`` lines earlier, with the repeated tail of the previous one.
    return 1 + newlines_before(at) - in_tail


def _newlines_before(path: Path) -> Callable[[int], int]:
    """Line breaks in the first ``offset`` bytes of ``path``, read again when asked.
    Asked in file order (the first finding, then maybe a later one): each call goes on
    from the last."""
    done = [0, 0]  # offset reached, line breaks before it

    def count(offset: int) -> int:
        at, n = done if done[0] <= offset else (0, 0)
        try:
            with open(path, "rb") as f:
                f.seek(at)
                while at < offset:
                    chunk = f.read(min(1 << 20, offset - at))
                    if not chunk:
                        break  # the file shrank since: count what is there
                    n += chunk.count(b"\n")
                    at += len(chunk)
        except OSError:
            pass  # gone or unreadable now: a location is a hint, the verdict stands
        done[:] = [at, n]
        return n

    return count


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


def _tail(block: str | bytes, n: int, start: int = 0) -> str | bytes:
    """The last `n` characters of the block's body (``block[start:]``), trimmed to start at
    a line when one starts there."""
    if n <= 0:
        return block[:0]
    body_len = len(block) - start
    t = block[-n:] if body_len > n else block[start:]
    i = t.find(b"\n" if isinstance(t, bytes) else "\n")
    if 0 <= i < len(t) - 1 and body_len > n:
        return t[i + 1 :]
    return t
