"""A bounded, de-duplicating queue of files to classify.

Bounded so that a burst (a 100,000-file checkout, a restored backup) cannot grow memory
without limit; when it is full the caller records an overflow and the daemon rescans the
affected root with the classifier's cache instead of keeping every event. A path already
waiting is not queued twice.
"""

from __future__ import annotations

import threading
from collections import deque


class WorkQueue:
    def __init__(self, maxsize: int = 10_000) -> None:
        self.maxsize = maxsize
        self._items: deque[str] = deque()
        self._set: set[str] = set()
        self._cond = threading.Condition()
        self._closed = False
        self.overflowed = 0  # paths refused because the queue was full

    def put(self, path: str) -> bool:
        """Queue ``path``; False when the queue is full (the caller must rescan)."""
        with self._cond:
            if path in self._set:
                return True
            if len(self._items) >= self.maxsize:
                self.overflowed += 1
                return False
            self._items.append(path)
            self._set.add(path)
            self._cond.notify()
            return True

    def get(self, timeout: float | None = None) -> str | None:
        """The next path, or None when closed (or after ``timeout`` with nothing)."""
        with self._cond:
            while not self._items and not self._closed:
                if not self._cond.wait(timeout):
                    return None
            if not self._items:
                return None
            path = self._items.popleft()
            self._set.discard(path)
            return path

    def discard(self, path: str) -> None:
        with self._cond:
            if path in self._set:
                self._set.discard(path)
                self._items.remove(path)

    def close(self) -> None:
        with self._cond:
            self._closed = True
            self._cond.notify_all()

    def __len__(self) -> int:
        with self._cond:
            return len(self._items)
