"""Containers: ZIP, TAR and compressed streams (gzip, bzip2, xz), nested and bounded.

Every member becomes a `Member` whose units come from sniffing the member by content, at
depth + 1. Before anything is decompressed a ZIP's declared sizes are checked against the
limits (a zip bomb is refused from its central directory); streams are counted as they
expand, so a gzip bomb stops at the ratio or total-bytes limit, not at the end of memory.
"""

from __future__ import annotations

import bz2
import gzip
import io
import lzma
import tarfile
import zipfile
from collections.abc import Callable, Iterator
from pathlib import Path, PurePosixPath
from typing import BinaryIO

from agent.classifier.formats.source import HEAD_BYTES, Source
from agent.classifier.limits import Budget
from agent.classifier.units import ExtractionError, Member, Unit


def member(name: str, src: Source, budget: Budget, depth: int) -> Member:
    """A Member for `src` at `depth`, sniffed now; errors surface from its units."""
    from agent.classifier.formats import extract_source  # the dispatcher imports us

    try:
        budget.check_depth(depth)
        ex = extract_source(src, budget, depth)
    except ExtractionError as e:
        return Member(name=name, units=_raise(e), format="error", size=src.size or 0)
    except Exception as e:  # noqa: BLE001 - a bad member must not end the archive
        err = ExtractionError(f"corrupt member: {type(e).__name__}")
        return Member(name=name, units=_raise(err), format="error", size=src.size or 0)
    return Member(name=name, units=ex.units, format=ex.format, size=src.size or 0)


def _raise(e: ExtractionError) -> Iterator[Unit]:
    raise e
    yield  # pragma: no cover - makes this a generator


# ---- ZIP -------------------------------------------------------------------------------


def open_zip(src: Source, budget: Budget, kind: str = "zip") -> zipfile.ZipFile:
    """Open a ZIP (or an OOXML package) after checking its declared sizes against limits."""
    target = src.seekable(budget)
    entries = _declared_entries(target)
    if entries is not None and entries > budget.limits.max_members:
        # zipfile builds an object per entry before we could count them one by one.
        raise ExtractionError(f"archive has over {budget.limits.max_members} members")
    try:
        zf = zipfile.ZipFile(target)
    except zipfile.BadZipFile:
        raise ExtractionError(f"corrupt {kind}: bad zip central directory") from None
    check_zip(zf, src, budget)
    return zf


def _declared_entries(target: BinaryIO | Path) -> int | None:
    """The entry count from the End of Central Directory record (APPNOTE 4.3.16: total
    entries at offset 10; 4.3.14 for ZIP64: at offset 32 of the ZIP64 record), read
    from the last 64 KiB + 22 bytes without parsing the directory."""
    f = open(target, "rb") if isinstance(target, Path) else target
    try:
        size = f.seek(0, 2)
        start = max(0, size - (65536 + 22))
        f.seek(start)
        tail = f.read()
        at = tail.rfind(b"PK\x05\x06")
        if at < 0 or at + 22 > len(tail):
            return None
        count = int.from_bytes(tail[at + 10 : at + 12], "little")
        loc = at - 20  # ZIP64 end of central directory locator sits just before
        if count == 0xFFFF and loc >= 0 and tail[loc : loc + 4] == b"PK\x06\x07":
            offset = int.from_bytes(tail[loc + 8 : loc + 16], "little")
            f.seek(offset)
            record = f.read(40)
            if record[:4] == b"PK\x06\x06":
                count = int.from_bytes(record[32:40], "little")
        return count
    finally:
        if isinstance(target, Path):
            f.close()
        else:
            f.seek(0)


def check_zip(zf: zipfile.ZipFile, src: Source, budget: Budget) -> None:
    # Declared sizes bound what zipfile will inflate (ZipExtFile stops at file_size and
    # checks the CRC), so checking them up front refuses a bomb before any inflation.
    infos = zf.infolist()
    total = sum(i.file_size for i in infos)
    archive = src.size or sum(i.compress_size for i in infos) or 1
    budget.check_ratio(total, archive)
    for info in infos:
        budget.check_ratio(info.file_size, info.compress_size)
    if budget.expanded + total > budget.limits.max_expanded_bytes:
        budget.add_expanded(total)  # raises with the limit in the reason


def zip_units(src: Source, budget: Budget, depth: int = 0) -> Iterator[Unit]:
    with open_zip(src, budget) as zf:
        for info in zf.infolist():
            if info.is_dir():
                continue
            budget.check_time()
            budget.add_member()
            budget.add_expanded(info.file_size)
            if info.flag_bits & 0x1:
                err = ExtractionError("encrypted member")
                yield Member(info.filename, _raise(err), "encrypted", info.file_size)
                continue
            msrc = Source(
                name=info.filename,
                size=info.file_size,
                opener=_zip_opener(zf, info),
                compressed_size=info.compress_size,
            )
            yield member(info.filename, msrc, budget, depth + 1)


def _zip_opener(zf: zipfile.ZipFile, info: zipfile.ZipInfo) -> Callable[[], BinaryIO]:
    return lambda: zf.open(info)


# ---- TAR -------------------------------------------------------------------------------


def tar_units(src: Source, budget: Budget, depth: int = 0) -> Iterator[Unit]:
    # Stream mode ("r|"): no seeking, so a .tar.gz is read once, front to back.
    with src.open() as raw, tarfile.open(fileobj=raw, mode="r|") as tf:
        for ti in tf:
            budget.check_time()
            if not ti.isfile():
                continue
            budget.add_member()
            budget.add_expanded(ti.size)
            f = tf.extractfile(ti)
            if f is None:
                continue
            msrc = Source.from_stream(ti.name, ti.size, f)
            yield member(ti.name, msrc, budget, depth + 1)


# ---- gzip / bzip2 / xz -------------------------------------------------------------------

_DECOMPRESSORS: dict[str, Callable[[BinaryIO], BinaryIO]] = {
    "gzip": lambda f: gzip.GzipFile(fileobj=f, mode="rb"),
    "bzip2": lambda f: bz2.BZ2File(f, mode="rb"),
    "xz": lambda f: lzma.LZMAFile(f, mode="rb"),
}
_SUFFIXES = {"gzip": (".gz", ".tgz"), "bzip2": (".bz2", ".tbz2"), "xz": (".xz", ".txz")}


def compressed_units(kind: str) -> Callable[[Source, Budget, int], Iterator[Unit]]:
    def units(src: Source, budget: Budget, depth: int = 0) -> Iterator[Unit]:
        raw = src.open()
        counted = _Counted(_DECOMPRESSORS[kind](raw), raw, src.compressed_size, budget)
        stream = io.BufferedReader(counted, buffer_size=1 << 20)
        name = _inner_name(src, kind)
        budget.add_member()
        msrc = Source.from_stream(name, None, stream)
        try:
            yield member(name, msrc, budget, depth + 1)
        finally:
            stream.close()
            raw.close()

    return units


def _inner_name(src: Source, kind: str) -> str:
    if kind == "gzip":
        original = _gzip_fname(src.head())
        if original:
            return original
    name = PurePosixPath(src.name).name
    for suffix in _SUFFIXES[kind]:
        if name.lower().endswith(suffix):
            stem = name[: -len(suffix)]
            return stem + ".tar" if suffix in (".tgz", ".tbz2", ".txz") else stem
    return name


def _gzip_fname(head: bytes) -> str:
    # RFC 1952 2.3: FLG bit 2 FEXTRA (2-byte length + data), bit 3 FNAME (NUL-terminated,
    # Latin-1). GzipFile reads but does not expose it.
    if len(head) < 10 or not head[3] & 0x08:
        return ""
    pos = 10
    if head[3] & 0x04:
        pos += 2 + int.from_bytes(head[10:12], "little")
    end = head.find(b"\x00", pos, pos + 1024)
    if end < 0:
        return ""
    return PurePosixPath(head[pos:end].decode("latin-1")).name


class _Counted(io.RawIOBase):
    """A decompressed stream that charges every byte to the budget and enforces the ratio."""

    def __init__(
        self, inner: BinaryIO, raw: BinaryIO, compressed: int | None, budget: Budget
    ) -> None:
        self.inner, self.raw, self.compressed, self.budget = inner, raw, compressed, budget
        self.count = 0

    def readable(self) -> bool:
        return True

    def readinto(self, b) -> int:  # type: ignore[override]
        data = self.inner.read(len(b))
        n = len(data)
        b[:n] = data
        self.count += n
        self.budget.add_expanded(n)
        try:
            consumed = self.raw.tell()
        except (OSError, ValueError):
            consumed = self.compressed or 0
        self.budget.check_ratio(self.count, max(consumed, HEAD_BYTES))
        return n

    def close(self) -> None:
        try:
            self.inner.close()
        finally:
            super().close()
