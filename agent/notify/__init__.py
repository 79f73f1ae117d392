"""Local warnings: one desktop notification per burst of findings, never a value.

:class:`Notifier` gathers alerts for ``gather`` seconds after the first one (an archive
being extracted lands hundreds of files within that window), shows one notification,
and for ``hold`` seconds after that folds further alerts into the *same* notification
(D-Bus replaces_id, a Windows toast tag) with updated counts, so unzipping 1,000 PHI files
gives one summary, not 1,000 pop-ups. Every notification is also logged and handed to
``on_shown`` (the daemon keeps the last one for `phiwatch status`), so a machine without
a desktop session still says it.

Backends, one per OS, in :data:`BACKENDS`.
"""

from __future__ import annotations

import logging
import sys
import threading
import time
from collections.abc import Callable
from typing import Protocol

from agent.notify.errors import NotifyError
from agent.notify.message import Alert, Notification, compose

log = logging.getLogger("phiwatch.notify")

__all__ = [
    "Alert",
    "Backend",
    "Notification",
    "Notifier",
    "NotifyError",
    "compose",
    "default_backend",
]


class Backend(Protocol):
    name: str

    def show(self, n: Notification, replaces: int | None = None) -> int | None: ...


class LogOnlyBackend:
    """No desktop session (a server, SSH, a service without a user): the log and
    `phiwatch status` carry the warning."""

    name = "log"

    def show(self, n: Notification, replaces: int | None = None) -> int | None:
        return None


def _dbus() -> Backend:
    from agent.notify.dbus import DBusBackend, session_bus_available

    return DBusBackend() if session_bus_available() else LogOnlyBackend()


def _osascript() -> Backend:
    from agent.notify.macos import OsascriptBackend

    return OsascriptBackend()


def _toast() -> Backend:
    from agent.notify.windows import ToastBackend

    return ToastBackend()


BACKENDS: dict[str, Callable[[], Backend]] = {
    "linux": _dbus,
    "darwin": _osascript,
    "win32": _toast,
}


def default_backend() -> Backend:
    return BACKENDS.get(sys.platform, LogOnlyBackend)()


class Notifier:
    """Aggregates alerts and shows them through ``backend`` on its own thread."""

    def __init__(
        self,
        backend: Backend | None = None,
        *,
        gather: float = 0.5,
        hold: float = 10.0,
        on_shown: Callable[[Notification, int, bool], None] | None = None,
    ) -> None:
        self.backend = backend or default_backend()
        self.gather = gather
        self.hold = hold
        self.on_shown = on_shown
        self._cond = threading.Condition()
        self._batch: dict[str, Alert] = {}
        self._due: float | None = None  # when to show the batch (None: nothing new)
        self._shown_id: int | None = None
        self._hold_until = 0.0
        self._stop = False
        self.shown = 0  # notifications shown (for tests and the bench)
        self._thread = threading.Thread(target=self._loop, name="phiwatch-notify", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        """Show what is still gathered, then end the thread."""
        with self._cond:
            self._stop = True
            self._cond.notify_all()
        if self._thread.is_alive():
            self._thread.join(timeout=10)

    def alert(self, a: Alert) -> None:
        now = time.monotonic()
        with self._cond:
            if now > self._hold_until and self._due is None:
                self._batch = {}  # a new burst: a fresh notification
                self._shown_id = None
            self._batch[a.path] = a
            if self._due is None:
                self._due = now + self.gather
            self._cond.notify_all()

    def discard(self, path: str, *, folder: bool = False) -> None:
        """A file (or a folder's files) went away: leave it out of the summary."""
        prefix = path.rstrip("/\\") + ("/" if "/" in path else "\\")
        with self._cond:
            for k in [k for k in self._batch if k == path or (folder and k.startswith(prefix))]:
                del self._batch[k]

    def _loop(self) -> None:
        while True:
            with self._cond:
                while True:
                    now = time.monotonic()
                    if self._due is not None and (now >= self._due or self._stop):
                        break
                    if self._stop:
                        return
                    self._cond.wait(None if self._due is None else self._due - now)
                batch = list(self._batch.values())
                replaces = self._shown_id
                self._due = None
            if not batch:
                continue
            self._show(compose(batch), len(batch), replaces)

    def _show(self, n: Notification, count: int, replaces: int | None) -> None:
        delivered = False
        try:
            nid = self.backend.show(n, replaces)
            delivered = self.backend.name != "log"
        except NotifyError as e:
            nid = None
            log.info("desktop notification not shown (%s); see `phiwatch status`", e)
        with self._cond:
            if nid is not None:
                self._shown_id = nid
            self._hold_until = time.monotonic() + self.hold
            self.shown += 1
        log.warning("WARNING %s: %s", n.title, n.body)
        if self.on_shown:
            try:
                self.on_shown(n, count, delivered)
            except Exception:
                log.exception("notify: on_shown failed")
