"""PHI classifier: decides phi / pii / none / error for a file, never keeping a value.

Public entry points (stable for the agent and the CLI):

- ``classify_file(path) -> FileResult``
- ``scan_paths(paths, cache=None) -> Iterator[FileResult]`` (walks folders)
"""

from __future__ import annotations

from agent.classifier.result import LABELS, RANK, FileResult

__all__ = ["LABELS", "RANK", "FileResult"]
