"""Where an extractor's bytes come from: a file on disk, a member in memory, or a stream.

Containers hand their members on as `Source`s, so every extractor reads the same way at
any depth. A member that needs random access (a zip inside a zip, an xlsx in a zip) is
read into memory, bounded by `Limits.max_member_in_memory`; nothing is written to disk,
so no decompressed PHI lands in a temp folder.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

from agent.classifier.formats import textcodec
from agent.classifier.limits import Budget, _size
from agent.classifier.units import ExtractionError

HEAD_BYTES = 64 * 1024  # enough to sniff a delimiter or an XML root, cheap to read


@contextmanager
def needs(fmt: str) -> Iterator[None]:
    """Wrap the import of a format library, done when a file of that format is met, not
    at start-up: the agent stays small (pyarrow alone is ~60 MB of RSS) and a missing
    library costs only its format. Plain import statements, so PyInstaller still sees
    and bundles them."""
    try:
        yield
    except ImportError:
        raise ExtractionError(f"{fmt} support is not installed") from None


@dataclass
class Source:
    """One file's bytes. Exactly one of `path`, `data`, `opener` is set."""

    name: str
    size: int | None = None  # None when a stream does not say
    path: str | Path | None = None  # a str from the walk: a Path per file costs ~10 us
    data: bytes | None = None
    opener: Callable[[], BinaryIO] | None = None
    compressed_size: int | None = None  # for members: what the container stored
    _head: bytes | None = field(default=None, repr=False)
    _codec: str | None | bool = field(default=False, repr=False)  # False: not decided yet
    _head_reader: Callable[[], bytes] | None = field(default=None, repr=False)
    _whole: bytes | None = field(default=None, repr=False)  # all of a file, when read already

    @classmethod
    def from_stream(cls, name: str, size: int | None, stream: BinaryIO) -> Source:
        """A source over a stream that can be read once (a tar member, a gzip body).

        The head is read for sniffing and replayed in front of the rest on ``open()``."""
        state = {"opened": False}
        src = cls(name=name, size=size)

        def opener() -> BinaryIO:
            if state["opened"]:
                raise ExtractionError("member stream can be read only once")
            state["opened"] = True
            return io.BufferedReader(_Replay(src.head(), stream))

        def head() -> bytes:
            return stream.read(HEAD_BYTES)

        src.opener = opener
        src._head_reader = head
        return src

    def open(self) -> BinaryIO:
        """A fresh binary stream positioned at the start."""
        if self.path is not None:
            whole = self.whole()
            if whole is not None:
                # All of the file was read already (by the caller, or by a head read that
                # reached the end: most files on a laptop are this small), so it is not
                # opened and read a second time.
                return io.BytesIO(whole)
            return open(self.path, "rb")
        if self.data is not None:
            return io.BytesIO(self.data)
        assert self.opener is not None
        return self.opener()

    def head(self) -> bytes:
        if self._head is None:
            if self.data is not None:
                self._head = self.data[:HEAD_BYTES]
            elif self._head_reader is not None:
                self._head = self._head_reader()
            else:
                with self.open() as f:
                    self._head = f.read(HEAD_BYTES)
        return self._head

    def whole(self) -> bytes | None:
        """All of a file's bytes when they were read already (the caller's, or a head read
        that reached the end), else None."""
        if self._whole is not None:
            return self._whole
        if self.path is not None and self._head is not None and len(self._head) < HEAD_BYTES:
            return self._head
        return None

    def codec(self) -> str | None:
        """The head's text codec (textcodec.detect: None when it is no text), decided once
        per source: the sniffer and the extractor both ask."""
        if self._codec is False:
            self._codec = textcodec.detect(self.head())
        return self._codec  # type: ignore[return-value]

    def seekable(self, budget: Budget) -> BinaryIO | Path:
        """A path or an in-memory stream that libraries can seek in (zipfile, pypdf...)."""
        if self.path is not None:
            return Path(self.path)
        if self.data is None:
            cap = budget.limits.max_member_in_memory
            if self.size is not None and self.size > cap:
                raise ExtractionError(f"member over {_size(cap)}, too large to open in memory")
            with self.open() as f:
                data = f.read(cap + 1)
            if len(data) > cap:
                raise ExtractionError(f"member over {_size(cap)}, too large to open in memory")
            self.data = data
            self.size = len(data)
        return io.BytesIO(self.data)


class _Replay(io.RawIOBase):
    """`head` then the rest of `stream`: undoes the read that sniffing made."""

    def __init__(self, head: bytes, stream: BinaryIO) -> None:
        self.head = memoryview(head)
        self.stream = stream

    def readable(self) -> bool:
        return True

    def readinto(self, b) -> int:  # type: ignore[override]
        if self.head:
            n = min(len(b), len(self.head))
            b[:n] = self.head[:n]
            self.head = self.head[n:]
            return n
        data = self.stream.read(len(b))
        b[: len(data)] = data
        return len(data)
