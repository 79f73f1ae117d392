"""Filesystem watching: roots and excludes, debounce, bounded queue, throttled crawl,
removable-volume and cloud-sync discovery. The daemon (agent/daemon.py) wires them."""

from __future__ import annotations

from agent.watch.crawl import Crawler, walk
from agent.watch.debounce import Debouncer
from agent.watch.errors import WatchError
from agent.watch.mounts import MountMonitor, Volume
from agent.watch.observer import Watcher
from agent.watch.roots import DEFAULT_EXCLUDES, PathFilter, Root, default_roots
from agent.watch.throttle import ByteBudget, lower_priority
from agent.watch.workqueue import WorkQueue

__all__ = [
    "DEFAULT_EXCLUDES",
    "ByteBudget",
    "Crawler",
    "Debouncer",
    "MountMonitor",
    "PathFilter",
    "Root",
    "Volume",
    "WatchError",
    "Watcher",
    "WorkQueue",
    "default_roots",
    "lower_priority",
    "walk",
]
