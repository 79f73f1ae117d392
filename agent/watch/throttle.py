"""Keep the crawl in the background: a byte budget per second and low OS priority."""

from __future__ import annotations

import logging
import os
import sys
import threading
import time
from collections.abc import Callable

log = logging.getLogger("phiwatch.watch")


class ByteBudget:
    """Token bucket over bytes read: at most ``rate`` bytes per second on average, with
    one second of burst. A file bigger than the bucket waits for its whole size, so the
    average holds for large files too."""

    def __init__(
        self,
        rate: float,
        *,
        clock: Callable[[], float] = time.monotonic,
        stop: threading.Event | None = None,
    ) -> None:
        self.rate = float(rate)
        self._clock = clock
        self._stop = stop or threading.Event()
        self._tokens = self.rate
        self._last = clock()
        self.waited = 0.0  # seconds spent waiting for budget (reported by the bench)

    def consume(self, n: int) -> bool:
        """Take ``n`` bytes of budget, sleeping as needed; False when stopped meanwhile."""
        if self.rate <= 0:
            return not self._stop.is_set()
        now = self._clock()
        self._tokens = min(self.rate, self._tokens + (now - self._last) * self.rate)
        self._last = now
        self._tokens -= n
        if self._tokens < 0:
            delay = -self._tokens / self.rate
            self.waited += delay
            if self._stop.wait(delay):
                return False
        return not self._stop.is_set()


def lower_priority() -> str:
    """Lower this process's CPU and I/O priority; returns what was done (for the log).

    Linux: nice 10 and the idle I/O class (ioprio_set via psutil; IOPRIO_CLASS_IDLE only
    gets disk time when no one else wants it). macOS: nice 10 (psutil has no I/O
    priority there; launchd's ProcessType=Background in the service plist adds the I/O
    throttle). Windows: BELOW_NORMAL priority class and very-low I/O priority.
    """
    import psutil

    proc = psutil.Process()
    done: list[str] = []
    try:
        if sys.platform == "win32":
            proc.nice(psutil.BELOW_NORMAL_PRIORITY_CLASS)
            done.append("cpu below-normal")
        else:
            if proc.nice() < 10:
                os.nice(10 - proc.nice())
            done.append("nice 10")
    except (OSError, psutil.Error) as e:
        log.info("could not lower CPU priority: %s", type(e).__name__)
    try:
        if sys.platform.startswith("linux"):
            proc.ionice(psutil.IOPRIO_CLASS_IDLE)
            done.append("io idle")
        elif sys.platform == "win32":
            proc.ionice(psutil.IOPRIO_VERYLOW)
            done.append("io very-low")
    except (OSError, psutil.Error, AttributeError) as e:
        log.info("could not lower I/O priority: %s", type(e).__name__)
    return ", ".join(done) or "unchanged"
