"""PHI classifier: decides phi / pii / none / error for a file, never keeping a value.

Public entry points (stable for the agent and the CLI):

- ``classify_file(path, *, cache=None) -> FileResult``
- ``scan_paths(paths, *, cache=None, on_progress=None) -> Iterator[FileResult]`` (walks
  folders; archive members become extra results ``archive.zip!inner.csv``)
- ``Cache(path)``: SQLite verdict cache keyed by device, inode, size and mtime
"""

from __future__ import annotations

from agent.classifier.cache import Cache
from agent.classifier.result import LABELS, RANK, FileResult
from agent.classifier.scan import classify_file, scan_paths

__all__ = ["LABELS", "RANK", "Cache", "FileResult", "classify_file", "scan_paths"]
