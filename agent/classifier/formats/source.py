"""Where an extractor's bytes come from: a file on disk, a member in memory, or a stream.

Containers hand their members on as `Source`s, so every extractor reads the same way at
any depth. A member that needs random access (a zip inside a zip, an xlsx in a zip) is
read into memory, bounded by `Limits.max_member_in_memory`; nothing is written to disk,
so no decompressed PHI lands in a temp folder.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

from agent.classifier.limits import Budget, _size
from agent.classifier.units import ExtractionError

HEAD_BYTES = 64 * 1024  # enough to sniff a delimiter or an XML root, cheap to read


@dataclass
class Source:
    """One file's bytes. Exactly one of `path`, `data`, `opener` is set."""

    name: str
    size: int | None = None  # None when a stream does not say
    path: Path | None = None
    data: bytes | None = None
    opener: Callable[[], BinaryIO] | None = None
    compressed_size: int | None = None  # for members: what the container stored
    _head: bytes | None = field(default=None, repr=False)

    def open(self) -> BinaryIO:
        """A fresh binary stream positioned at the start."""
        if self.path is not None:
            return open(self.path, "rb")
        if self.data is not None:
            return io.BytesIO(self.data)
        assert self.opener is not None
        return self.opener()

    def head(self) -> bytes:
        if self._head is None:
            if self.data is not None:
                self._head = self.data[:HEAD_BYTES]
            else:
                with self.open() as f:
                    self._head = f.read(HEAD_BYTES)
        return self._head

    def seekable(self, budget: Budget) -> BinaryIO | Path:
        """A path or an in-memory stream that libraries can seek in (zipfile, pypdf...)."""
        if self.path is not None:
            return self.path
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
