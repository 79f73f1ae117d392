"""Errors of the watch package: the few types callers of agent.watch see."""

from __future__ import annotations


class WatchError(Exception):
    """A root cannot be watched or crawled (missing, not a folder, no permission).

    Messages name paths and reasons only, never file content."""
