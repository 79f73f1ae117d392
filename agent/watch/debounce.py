"""Debounce file events until a file is stable, so a file being written is not scanned
half-way.

A path becomes *ready* when both hold:

- its writer is done: on Linux inotify reports ``IN_CLOSE_WRITE`` when the last writer
  closes the file (watchdog's ``FileClosedEvent``), so a file we saw being written
  (a modify event) waits however long the writer pauses, up to ``open_max`` seconds
  (for writers that never close, e.g. a log). A file only seen *created* (an empty
  ``touch``, or the files watchdog reports from a folder that appeared before its
  watch was added, whose close events nobody saw) waits ``quiet`` seconds. Where the
  backend has no close events (FSEvents, ReadDirectoryChangesW) ``quiet`` seconds
  without an event stand in for the close;
- its size and mtime did not change over the last ``settle`` seconds.

One thread sleeps until the earliest deadline; with nothing pending it sleeps on a
condition and costs no CPU.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

log = logging.getLogger("phiwatch.watch")


@dataclass
class _Pending:
    due: float
    sig: tuple[int, int] | None
    closed: bool
    writing: bool
    last_event: float


def _signature(path: str) -> tuple[int, int] | None:
    try:
        st = os.stat(path)
    except OSError:
        return None
    return (st.st_size, st.st_mtime_ns)


class Debouncer:
    """Collects touched paths and calls ``on_ready(path)`` once each is stable."""

    def __init__(
        self,
        on_ready: Callable[[str], None],
        *,
        expect_close: bool,
        settle: float = 0.2,
        quiet: float = 1.0,
        open_max: float = 300.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._on_ready = on_ready
        self.expect_close = expect_close
        self.settle = settle
        self.quiet = quiet
        self.open_max = open_max
        self._clock = clock
        self._pending: dict[str, _Pending] = {}
        self._cond = threading.Condition()
        self._stop = False
        self._thread = threading.Thread(target=self._loop, name="phiwatch-debounce", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        with self._cond:
            self._stop = True
            self._cond.notify_all()
        if self._thread.is_alive():
            self._thread.join(timeout=5)

    def __len__(self) -> int:
        with self._cond:
            return len(self._pending)

    def touch(self, path: str, *, closed: bool = False, written: bool = False) -> None:
        """A file was created (no flags), written (``written``: a modify event), or its
        writer closed it / it was moved into place complete (``closed``)."""
        now = self._clock()
        with self._cond:
            p = self._pending.get(path)
            if p is None:
                p = _Pending(
                    due=0.0, sig=_signature(path), closed=False, writing=False, last_event=now
                )
                self._pending[path] = p
            p.last_event = now
            if closed:
                p.closed, p.writing = True, False
            elif written:
                p.closed, p.writing = False, True
            p.due = now + self._wait(p)
            self._cond.notify_all()

    def forget(self, path: str) -> None:
        """The file is gone (deleted or moved away): nothing to scan."""
        with self._cond:
            self._pending.pop(path, None)
            prefix = path + os.sep
            for k in [k for k in self._pending if k.startswith(prefix)]:
                del self._pending[k]

    def _wait(self, p: _Pending) -> float:
        if p.closed:
            return self.settle
        return self.open_max if (self.expect_close and p.writing) else self.quiet

    def _loop(self) -> None:
        while True:
            ready: list[str] = []
            with self._cond:
                if self._stop:
                    return
                now = self._clock()
                due = [(k, p) for k, p in self._pending.items() if p.due <= now]
                for k, p in due:
                    sig = _signature(k)
                    if sig is None:  # vanished before it settled
                        del self._pending[k]
                    elif sig != p.sig:  # still changing: settle again
                        p.sig = sig
                        p.due = now + self._wait(p)
                    else:
                        del self._pending[k]
                        ready.append(k)
                if not ready:
                    nxt = min((p.due for p in self._pending.values()), default=None)
                    self._cond.wait(None if nxt is None else max(0.0, nxt - now))
                    continue
            for k in ready:
                try:
                    self._on_ready(k)
                except Exception:  # never let one file stop the watcher
                    log.exception("debounce: handler failed")
