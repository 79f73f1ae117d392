"""Files and folders -> FileResult: extraction (formats/) feeding the engine.

``classify_file`` decides one file; archive members come back as ``members`` (and as
their own results ``outer!inner`` from ``scan_paths``). An unreadable file is ``error``
with a value-free reason; a limit hit after some content was read keeps the verdict of
what was read and says why in ``reason``.
"""

from __future__ import annotations

import hashlib
import os
import stat
from collections.abc import Callable, Iterable, Iterator
from operator import attrgetter
from pathlib import Path

from agent.classifier import formats
from agent.classifier.cache import Cache
from agent.classifier.engine import Engine, get_engine
from agent.classifier.evidence import Evidence, analyze_text
from agent.classifier.formats import text as fmt_text
from agent.classifier.formats.source import Source
from agent.classifier.limits import DEFAULT_LIMITS, Budget, Limits
from agent.classifier.result import RANK, FileResult
from agent.classifier.tabular import analyze_table
from agent.classifier.units import ExtractionError, Member, Record, Table, TextBlock, Unit

# Formats that are text underneath: when their parser gives up, the bytes are still read.
TEXT_FORMATS = frozenset({"json", "jsonl", "xml", "fhir-json", "fhir-xml", "ccda-xml", "hl7", "csv",
                          "tsv", "ipynb", "html", "eml", "x12", "sql",
                          "fixed-width", "vertical"})
# Folders that never hold user files worth a look, skipped while walking.
SKIP_DIRS = frozenset({".git", ".hg", ".svn", "__pycache__", "node_modules", ".venv", ".tox",
                       ".mypy_cache", ".pytest_cache", ".ruff_cache"})


def _consume(engine: Engine, units: Iterator[Unit], ev: Evidence, path: str,
             members: list[FileResult]) -> None:
    for unit in units:
        if isinstance(unit, TextBlock):
            analyze_text(engine, unit.text, ev, where=unit.where, line=unit.line,
                         overlap=unit.overlap)
        elif isinstance(unit, Table):
            analyze_table(engine, unit, ev)
        elif isinstance(unit, Record):
            _record(engine, unit, ev)
        elif isinstance(unit, Member):
            sub = _member(engine, unit, path)
            members.append(sub)
            ev.merge(_evidence_of(sub))
            members.extend(sub.members)
            sub.members = []


def _record(engine: Engine, rec: Record, ev: Evidence) -> None:
    for kind, n in rec.identifiers.items():
        ev.identifier(kind, rec.where or None, n)
    for kind, n in rec.health.items():
        ev.health_info(kind, n)
    if rec.patient_identity:
        # The structure binds identity and care (HL7 PID, FHIR Patient, C-CDA
        # recordTarget, DICOM PatientName/ID): phi by format (DESIGN.md).
        ev.mark_phi(rec.where or rec.format)
    for block in rec.text:
        analyze_text(engine, block.text, ev, where=block.where or rec.where, line=block.line,
                     overlap=block.overlap)


def _evidence_of(r: FileResult) -> Evidence:
    ev = Evidence()
    ev.identifiers.update(r.identifiers)
    ev.health.update(r.health)
    # "data/part_0.csv line 2": where inside the archive the evidence is
    where = f"{r.path.rsplit('!', 1)[-1]} {r.first_evidence or ''}".strip()
    if r.classification == "phi":
        ev.mark_phi(where)
    if r.classification in ("phi", "pii"):
        ev.strong_identifier = True
        ev.first_where = where
    return ev


def _member(engine: Engine, m: Member, outer: str) -> FileResult:
    path = f"{outer}!{m.name}"
    ev = Evidence()
    members: list[FileResult] = []
    reason = None
    try:
        _consume(engine, m.units, ev, path, members)
    except ExtractionError as e:
        reason = e.reason
        if not e.partial and not ev.identifiers and not ev.health:
            return FileResult(path, "error", format=m.format, bytes=m.size, reason=reason,
                              members=members)
    return _result(path, ev, m.format, m.size, reason, members)


def _result(path: str, ev: Evidence, fmt: str, size: int, reason: str | None,
            members: list[FileResult]) -> FileResult:
    ev.small_document()
    label = ev.label()
    for sub in members:  # the archive's verdict is the highest of its members'
        if RANK[sub.classification] > RANK[label]:
            label = sub.classification
    return FileResult(path, label, dict(ev.identifiers), dict(ev.health), fmt, size, reason,
                      ev.where(), members)


class Duplicates:
    """Verdicts by content for one scan: a small file with the same bytes as one already
    classified (one package in two virtualenvs, node_modules, a copied export) takes that
    verdict instead of being analysed again. Files up to MAX_BYTES are compared: hashing
    costs a few percent of analysing. The digests stay in this object's memory and are
    never written anywhere: a digest of a short file gives its content away to a guesser."""

    MAX_BYTES = 1 << 20

    def __init__(self, max_entries: int = 50_000) -> None:
        self._seen: dict[bytes, FileResult] = {}
        self.max_entries = max_entries  # bounds memory on a huge tree

    def read(self, path: str, st: os.stat_result) -> tuple[bytes | None, bytes | None]:
        """(the file's bytes, their digest), or (None, None) for a file over MAX_BYTES."""
        if not stat.S_ISREG(st.st_mode) or st.st_size > self.MAX_BYTES:
            return None, None
        try:
            fd = os.open(path, os.O_RDONLY | getattr(os, "O_BINARY", 0))
        except OSError:
            return None, None  # classify_file reports why
        try:
            # one byte more than stat said, to see a file that grew (a read buffer of
            # MAX_BYTES per file would cost a fresh mapping and its page faults)
            data = os.read(fd, st.st_size + 1)
        except OSError:
            return None, None
        finally:
            os.close(fd)
        if len(data) > st.st_size:
            return None, None  # grew since stat: read like any large file
        return data, hashlib.sha256(data).digest()

    def get(self, key: bytes, path: str, size: int) -> FileResult | None:
        r = self._seen.get(key)
        if r is None:
            return None
        # the constructor, not dataclasses.replace (which inspects the fields each call)
        return FileResult(path, r.classification, dict(r.identifiers), dict(r.health), r.format,
                          size, r.reason, r.first_evidence, [])

    def put(self, key: bytes, result: FileResult) -> None:
        if not result.members and len(self._seen) < self.max_entries:
            self._seen[key] = result


def classify_file(path: str | os.PathLike, *, cache: Cache | None = None,
                  engine: Engine | None = None, limits: Limits | None = None,
                  duplicates: Duplicates | None = None) -> FileResult:
    """Classify one file: ``phi`` / ``pii`` / ``none`` / ``error`` with counts per kind.

    With ``cache``, an unchanged file (same device, inode, size, mtime, rules) is not read
    again. With ``duplicates`` (one per scan, default limits only), a small file whose
    bytes were classified earlier in the scan takes that verdict.
    """
    spath = _normal(path)
    try:
        st = os.stat(spath)
    except OSError as e:
        return FileResult(spath, "error", reason=formats._os_reason(e))
    if cache is not None:
        hit = cache.get(spath, st)
        if hit is not None:
            return hit
    content = key = None
    if duplicates is not None:
        content, key = duplicates.read(spath, st)
        result = duplicates.get(key, spath, st.st_size) if key is not None else None
        if result is not None:
            if cache is not None:
                cache.put(spath, st, result)
            return result
    result = _classify(spath, st, engine or get_engine(), limits, content)
    if key is not None:
        duplicates.put(key, result)  # type: ignore[union-attr]
    if cache is not None:
        cache.put(spath, st, result)
    return result


def _normal(path: str | os.PathLike) -> str:
    """``str(Path(path))``: the path as results report it ("./a//b/" -> "a/b"). Paths
    from the walk are normal already; a Path object per file cost ~10 us to say so."""
    if type(path) is str and os.sep == "/" and path and path != "." and "//" not in path \
            and "/./" not in path and not path.startswith("./") and not path.endswith(("/", "/.")):
        return path
    return str(Path(path))


def _classify(spath: str, st: os.stat_result, engine: Engine, limits: Limits | None,
              content: bytes | None) -> FileResult:
    ev = Evidence()
    members: list[FileResult] = []
    reason = None
    fmt = "unknown"
    try:
        ex = formats.extract(spath, limits, st, content)
        fmt = ex.format
        _consume(engine, ex.units, ev, spath, members)
    except ExtractionError as e:
        reason = e.reason
        if not e.partial and fmt in TEXT_FORMATS and not members:
            # Content that looked like JSON/XML/CSV but does not parse (an INI file that
            # starts with "[", a truncated export) may still hold PHI: read it as text.
            ev = Evidence()
            try:
                _consume(engine, _as_text(spath, st.st_size, limits), ev, spath, members)
                reason = f"{reason}; read as text"
            except ExtractionError:
                pass
        if not e.partial and not ev.identifiers and not ev.health and not members and (
                not reason or not reason.endswith("read as text")):
            return FileResult(spath, "error", format=fmt, bytes=st.st_size, reason=reason)
    return _result(spath, ev, fmt, st.st_size, reason, members)


def _as_text(path: str, size: int, limits: Limits | None) -> Iterator[Unit]:
    src = Source(name=os.path.basename(path), size=size, path=path)
    return fmt_text.units(src, Budget(limits or DEFAULT_LIMITS), 0)


_NAME = attrgetter("name")


def _walk(root: str) -> Iterator[str]:
    """Regular files under ``root`` in name order, as strings (no Path objects: on a
    folder of small files the walk is a visible share of the cost). Links are not
    followed (a loop, or a path out of the scanned tree); sockets, FIFOs and devices are
    skipped (reading them can block)."""
    try:
        st = os.lstat(root)
    except OSError:
        yield root  # reported as error by classify_file
        return
    if stat.S_ISLNK(st.st_mode) or not (stat.S_ISREG(st.st_mode) or stat.S_ISDIR(st.st_mode)):
        return
    if stat.S_ISREG(st.st_mode):
        yield root
        return
    stack = [root]
    while stack:
        folder = stack.pop()
        try:
            with os.scandir(folder) as it:
                entries = sorted(it, key=_NAME)
        except OSError:
            yield folder
            continue
        subdirs = []
        for entry in entries:
            try:
                if entry.is_dir(follow_symlinks=False):
                    if entry.name not in SKIP_DIRS:
                        subdirs.append(entry.path)
                elif entry.is_file(follow_symlinks=False):
                    yield entry.path
            except OSError:
                continue
        stack.extend(reversed(subdirs))


def scan_paths(paths: Iterable[str | os.PathLike], *, cache: Cache | None = None,
               on_progress: Callable[[int, str], None] | None = None,
               engine: Engine | None = None) -> Iterator[FileResult]:
    """Walk files and folders, yielding one result per file, then one per archive member
    (``archive.zip!inner.csv``). ``on_progress(files_done, path)`` is called per file.
    Small files with the same bytes are analysed once per call (see Duplicates)."""
    done = 0
    duplicates = Duplicates()
    for root in paths:
        for f in _walk(os.fspath(root)):
            result = classify_file(f, cache=cache, engine=engine, duplicates=duplicates)
            members = result.members
            yield result
            yield from members
            done += 1
            if on_progress is not None:
                on_progress(done, f)
