"""watchdog's Observer over the roots, turned into four calls the daemon understands.

watchdog picks the backend (inotify, FSEvents/kqueue, ReadDirectoryChangesW); we add no
OS branches. Only the event types we act on are subscribed, so reads by other programs
(IN_OPEN, IN_CLOSE_NOWRITE) never wake Python.
"""

from __future__ import annotations

import errno
import logging
import os
import threading
from collections.abc import Callable

from watchdog.events import (
    DirCreatedEvent,
    DirDeletedEvent,
    DirMovedEvent,
    FileClosedEvent,
    FileCreatedEvent,
    FileDeletedEvent,
    FileModifiedEvent,
    FileMovedEvent,
    FileSystemEvent,
    FileSystemEventHandler,
)
from watchdog.observers import Observer
from watchdog.observers.api import ObservedWatch

from agent.watch.debounce import Debouncer
from agent.watch.errors import WatchError
from agent.watch.roots import PathFilter, Root

log = logging.getLogger("phiwatch.watch")

EVENTS = [
    FileCreatedEvent,
    FileModifiedEvent,
    FileClosedEvent,
    FileMovedEvent,
    FileDeletedEvent,
    DirCreatedEvent,
    DirMovedEvent,
    DirDeletedEvent,
]


def _s(p: str | bytes) -> str:
    return os.fsdecode(p)


class _Handler(FileSystemEventHandler):
    def __init__(self, watcher: Watcher, root: Root) -> None:
        self.w = watcher
        self.root = root

    def _ok(self, path: str) -> bool:
        return not self.w.filt.excluded(path, self.root.key)

    def on_any_event(self, event: FileSystemEvent) -> None:
        try:
            self._dispatch(event)
        except Exception:  # an event handler must not kill the observer thread
            log.exception("watch: event handler failed")

    def _dispatch(self, event: FileSystemEvent) -> None:
        src = _s(event.src_path)
        if isinstance(event, FileMovedEvent | DirMovedEvent):
            dest = _s(event.dest_path)
            self.w.on_gone(src, event.is_directory, "moved")
            self.w.debouncer.forget(src)
            if self._ok(dest):
                if event.is_directory:
                    self.w.on_folder(dest)
                else:
                    # A rename lands a complete file (editors' atomic save, a download
                    # finishing, `mv` into place): no writer to wait for.
                    self.w.debouncer.touch(dest, closed=True)
        elif isinstance(event, FileDeletedEvent | DirDeletedEvent):
            self.w.debouncer.forget(src)
            self.w.on_gone(src, event.is_directory, "deleted")
        elif not self._ok(src):
            return
        elif isinstance(event, DirCreatedEvent):
            self.w.on_folder(src)
        elif isinstance(event, FileClosedEvent):
            self.w.debouncer.touch(src, closed=True)
        elif isinstance(event, FileModifiedEvent):
            self.w.debouncer.touch(src, written=True)
        elif isinstance(event, FileCreatedEvent):
            self.w.debouncer.touch(src)


class Watcher:
    """Watches roots; file changes go to ``debouncer``; ``on_gone(path, is_dir, reason)``
    for deletes and moves away; ``on_folder(path)`` for a folder created or moved in
    (its files arrive complete or are announced by their own events)."""

    def __init__(
        self,
        filt: PathFilter,
        debouncer: Debouncer,
        on_gone: Callable[[str, bool, str], None],
        on_folder: Callable[[str], None],
    ) -> None:
        self.filt = filt
        self.debouncer = debouncer
        self.on_gone = on_gone
        self.on_folder = on_folder
        self.observer = Observer()
        self._watches: dict[str, ObservedWatch] = {}
        self._lock = threading.Lock()

    @property
    def backend(self) -> str:
        return type(self.observer).__name__

    @staticmethod
    def emits_close() -> bool:
        """inotify reports IN_CLOSE_WRITE; the other backends do not."""
        return type(Observer()).__name__ == "InotifyObserver"

    def start(self) -> None:
        self.observer.start()

    def add(self, root: Root) -> None:
        with self._lock:
            if root.key in self._watches:
                return
            if not os.path.isdir(root.key):
                raise WatchError(f"root is not a folder: {root.key}")
            try:
                self._watches[root.key] = self.observer.schedule(
                    _Handler(self, root), root.key, recursive=True, event_filter=EVENTS
                )
            except OSError as e:
                why = e.strerror or type(e).__name__
                if e.errno == errno.ENOSPC:
                    # inotify(7): one watch per folder, capped per user; the crawl and the
                    # daily rescan still cover the root, only live events are lost.
                    why = "inotify watch limit reached (raise fs.inotify.max_user_watches)"
                raise WatchError(f"cannot watch {root.key}: {why}") from e
        log.info("watching %s (%s)", root.key, root.kind)

    def remove(self, root: Root) -> None:
        with self._lock:
            watch = self._watches.pop(root.key, None)
        if watch is not None:
            try:
                self.observer.unschedule(watch)
            except (KeyError, OSError):
                pass  # the volume is already gone; inotify dropped the watch itself

    def stop(self) -> None:
        self.observer.stop()
        if self.observer.is_alive():
            self.observer.join(timeout=10)

    def watched(self) -> list[str]:
        with self._lock:
            return sorted(self._watches)
