"""Format extraction: a file's bytes -> a lazy stream of units (see ../units.py).

Entry point: ``extract(path, limits=None) -> Extraction``. The format is decided by
content (`sniff.py`), never by the file name; each format has one small module here with
``units(src, budget, depth) -> Iterator[Unit]``, registered in `READERS`.

Contract for the consumer (the engine):

- ``Extraction.units`` is lazy; memory stays flat however large the file is.
- Any failure, while sniffing or while iterating, is an ExtractionError whose message
  names the problem and never quotes content. ``partial=True`` means units were already
  yielded (time budget, text cap): what was found so far stands.
- A ``Table``'s ``rows`` and a ``Member``'s ``units`` must be consumed before the outer
  iterator is advanced (the file, workbook or container is open only meanwhile). An
  ExtractionError raised from a member's units concerns that member; the next step of
  the outer iterator raises again if the limit was the whole file's (time, total bytes).
"""

from __future__ import annotations

import errno
import importlib
import os
import stat
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cache

from agent.classifier.formats import quiet, sniff, text
from agent.classifier.formats.source import HEAD_BYTES, Source
from agent.classifier.limits import DEFAULT_LIMITS, Budget, Limits
from agent.classifier.units import ExtractionError, PlainRows, Table, Unit

__all__ = ["READERS", "Extraction", "extract", "extract_source", "extractor"]

quiet.silence()  # library warnings and logs quote content (see quiet.py)

Extractor = Callable[[Source, Budget, int], Iterator[Unit]]


def _none(src: Source, budget: Budget, depth: int = 0) -> Iterator[Unit]:
    return iter(())


# Format name -> the module under formats/ that reads it, its function (and that function's
# arguments when it makes the extractor). Names are what `phiwatch scan` reports as
# "format". A module is imported when a file of its format is first met: a scan meets a
# few formats, and importing them all (e-mail, archives, XML) cost ~40 ms of every start.
# (The binary still has them all: its spec bundles every agent module by name.)
READERS: dict[str, tuple[str, ...]] = {
    "text": ("text", "units"),
    "csv": ("delimited", "units"),
    "tsv": ("delimited", "units"),
    "json": ("jsonfmt", "units"),
    "jsonl": ("jsonfmt", "jsonl_units"),
    "xml": ("xmlfmt", "units"),
    "html": ("htmltext", "file_units"),
    "hl7": ("hl7", "units"),
    "x12": ("x12", "units"),
    "fhir-json": ("fhir", "units"),
    "fhir-ndjson": ("fhir", "ndjson_units"),
    "fhir-xml": ("fhir", "xml_units"),
    "ccda-xml": ("ccda", "units"),
    "xlsx": ("xlsx", "units"),
    "ods": ("ods", "units"),
    "docx": ("docx", "units"),
    "pptx": ("docx", "pptx_units"),
    "ole2": ("ole2", "units"),
    "pdf": ("pdf", "units"),
    "rtf": ("rtf", "units"),
    "dicom": ("dicom", "units"),
    "zip": ("archive", "zip_units"),
    "tar": ("archive", "tar_units"),
    "gzip": ("archive", "compressed_units", "gzip"),
    "bzip2": ("archive", "compressed_units", "bzip2"),
    "xz": ("archive", "compressed_units", "xz"),
    "ipynb": ("ipynb", "units"),
    "parquet": ("parquet", "units"),
    "sqlite": ("sqlite", "units"),
    "eml": ("eml", "units"),
    "sql": ("sqldump", "units"),
    "fixed-width": ("fixedwidth", "units"),
    "vertical": ("vertical", "units"),
}


@cache
def extractor(fmt: str) -> Extractor:
    """The extractor of a format (``READERS``); formats without content ("binary") get
    one that yields nothing."""
    spec = READERS.get(fmt)
    if spec is None:
        return _none
    fn = getattr(importlib.import_module(f"agent.classifier.formats.{spec[0]}"), spec[1])
    return fn(*spec[2:]) if len(spec) > 2 else fn


@dataclass
class Extraction:
    """What a file is (``format``) and what it says (``units``, lazy)."""

    format: str
    units: Iterator[Unit]
    size: int = 0


def extract(path: str | os.PathLike, limits: Limits | None = None,
            st: os.stat_result | None = None, content: bytes | None = None) -> Extraction:
    """Sniff ``path`` by content and return its format and a lazy stream of units.

    ``st`` is the file's stat and ``content`` all its bytes when the caller has read them
    already (a small file: it is not read again). Raises ExtractionError
    (value-free reason) when the file cannot be opened or read; iterating ``units`` may
    raise it too (corrupt content, a limit hit).
    """
    path = os.fspath(path)
    budget = Budget(limits or DEFAULT_LIMITS)
    try:
        if st is None:
            st = os.stat(path)
        if not stat.S_ISREG(st.st_mode):
            # A FIFO or a device would block or never end on read.
            raise ExtractionError("not a regular file")
        src = Source(name=os.path.basename(path), size=st.st_size, path=path,
                     _head=None if content is None else content[:HEAD_BYTES], _whole=content)
        src.head()
    except OSError as e:
        raise ExtractionError(_os_reason(e)) from None
    return extract_source(src, budget, 0)


def extract_source(src: Source, budget: Budget, depth: int) -> Extraction:
    """Sniff and extract any source (a file, or a member of a container at ``depth``)."""
    try:
        fmt = sniff.sniff(src.head(), lambda _head: src.codec())
    except OSError as e:
        raise ExtractionError(_os_reason(e)) from None
    if fmt == "text":  # most files: small, read whole, one block (no I/O left to guard)
        block = text.whole_block(src, budget)
        if block is not None:
            return Extraction(fmt, iter((block,)), src.size or 0)
    return Extraction(fmt, _guarded(fmt, extractor(fmt)(src, budget, depth)), src.size or 0)


def _guarded(fmt: str, units: Iterator[Unit]) -> Iterator[Unit]:
    # Library exceptions can carry file content in their message (a ValueError quoting
    # a cell, a parser error quoting a line), so only their class name goes out, and
    # `from None` keeps the original out of tracebacks too. Table rows are lazy and run
    # in the consumer's loop, so they get the same guard.
    with _translated(fmt):
        for unit in units:
            if isinstance(unit, Table):
                unit.rows = _guarded_rows(fmt, unit.rows)
                if unit.plain is not None:
                    unit.plain = _guarded_call(fmt, unit.plain)
            yield unit


def _guarded_rows(fmt: str, rows: Iterable[list[str]]) -> Iterator[list[str]]:
    with _translated(fmt):
        yield from rows


def _guarded_call(fmt: str, fn: Callable[[int], PlainRows | None]) -> Callable[[int], PlainRows | None]:
    def call(n: int) -> PlainRows | None:
        with _translated(fmt):
            return fn(n)

    return call


@contextmanager
def _translated(fmt: str) -> Iterator[None]:
    try:
        yield
    except ExtractionError:
        raise
    except OSError as e:
        raise ExtractionError(_os_reason(e)) from None
    except MemoryError:
        raise ExtractionError(f"corrupt {fmt}: out of memory while parsing") from None
    except RecursionError:
        raise ExtractionError(f"{fmt} nesting too deep") from None
    except Exception as e:  # noqa: BLE001 - every parser has its own error types
        raise ExtractionError(f"corrupt {fmt}: {type(e).__name__}") from None


def _os_reason(e: OSError) -> str:
    if isinstance(e, PermissionError):
        return "permission denied"
    if isinstance(e, FileNotFoundError):
        return "file not found"
    if isinstance(e, IsADirectoryError):
        return "is a directory"
    name = errno.errorcode.get(e.errno or 0, "")
    return f"read error {name}".strip()
