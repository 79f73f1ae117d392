"""The full crawl: every file under the roots, once, in a fixed order, throttled, and
resumable after a restart.

The walk is depth-first with entries sorted by name, so "everything up to path P" is
well defined: the checkpoint is the last file handled, saved every few seconds, and a
restart skips everything at or before it. Symlinks are not followed (loops, and links
out of the root). Rescans run the same walk again; the classifier's cache makes unchanged
files cheap.
"""

from __future__ import annotations

import json
import logging
import os
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

from agent.watch.roots import PathFilter, Root
from agent.watch.throttle import ByteBudget

log = logging.getLogger("phiwatch.watch")

CHECKPOINT_EVERY = 2.0  # seconds between checkpoint writes


def _parts(path: str, root: str) -> tuple[str, ...]:
    rel = os.path.relpath(path, root)
    return tuple(rel.split(os.sep))


def walk(root: str, filt: PathFilter, after: str | None = None) -> Iterator[tuple[str, int]]:
    """(path, size) of every regular file under ``root`` in sorted depth-first order,
    skipping excluded paths and, when ``after`` is given, every file at or before it."""
    cp = _parts(after, root) if after else None
    yield from _walk(root, root, filt, cp)


def _walk(
    root: str, folder: str, filt: PathFilter, cp: tuple[str, ...] | None
) -> Iterator[tuple[str, int]]:
    try:
        with os.scandir(folder) as it:
            entries = sorted(it, key=lambda e: e.name)
    except OSError as e:
        log.info("crawl: cannot list %s: %s", folder, e.strerror or type(e).__name__)
        return
    for e in entries:
        full = e.path
        if filt.excluded(full, root):
            continue
        parts = _parts(full, root) if cp else ()
        try:
            if e.is_dir(follow_symlinks=False):
                if cp is None:
                    yield from _walk(root, full, filt, None)
                elif cp[: len(parts)] == parts:  # the checkpoint is inside: resume there
                    yield from _walk(root, full, filt, cp)
                elif parts > cp:
                    yield from _walk(root, full, filt, None)
            elif e.is_file(follow_symlinks=False):
                if cp is None or parts > cp:
                    yield full, e.stat(follow_symlinks=False).st_size
        except OSError:
            continue


class Crawler:
    """Crawls roots in the background; progress and checkpoints live in ``state_file``.

    ``handle(path)`` classifies one file (the daemon's pipeline) and returns the bytes
    it read (0 when the classifier's cache answered; None: assume the file's size). The
    byte budget is charged with that after each file, which keeps the average rate.
    """

    def __init__(
        self,
        state_file: Path,
        filt: PathFilter,
        handle: Callable[[str], int | None],
        budget: ByteBudget,
        stop: threading.Event,
    ) -> None:
        self.state_file = state_file
        self.filt = filt
        self.handle = handle
        self.budget = budget
        self.stop_event = stop
        self._lock = threading.Lock()
        self.state = self._load()

    def _load(self) -> dict:
        try:
            data = json.loads(self.state_file.read_text())
            if isinstance(data, dict) and isinstance(data.get("roots"), dict):
                return data
        except (OSError, ValueError):
            pass
        return {"roots": {}}

    def save(self) -> None:
        with self._lock:
            text = json.dumps(self.state, indent=1, sort_keys=True)
        tmp = self.state_file.with_suffix(".tmp")
        tmp.write_text(text)
        os.replace(tmp, self.state_file)

    def progress(self) -> dict:
        """Per-root progress for `phiwatch status`."""
        with self._lock:
            return json.loads(json.dumps(self.state))

    def pending(self, roots: list[Root]) -> list[Root]:
        with self._lock:
            return [r for r in roots if not self.state["roots"].get(r.key, {}).get("done")]

    def request_rescan(self, roots: list[Root]) -> None:
        """Mark roots to be crawled again from the start (daily rescan, queue overflow)."""
        with self._lock:
            for r in roots:
                st = self.state["roots"].setdefault(r.key, {})
                if st.get("done"):
                    st.update(done=False, after=None, files=0, bytes=0)
        self.save()

    def crawl(self, root: Root) -> bool:
        """Crawl one root to the end (or until stopped); True when it finished."""
        with self._lock:
            st = self.state["roots"].setdefault(root.key, {})
            if st.get("done"):
                return True
            st.setdefault("files", 0)
            st.setdefault("bytes", 0)
            st.setdefault("started", time.time())
            after = st.get("after")
        if after:
            log.info("crawl: resuming %s", root.key)
        else:
            log.info("crawl: starting %s", root.key)
        last_save = time.monotonic()
        for path, size in walk(root.key, self.filt, after):
            read: int | None = size
            try:
                read = self.handle(path)
            except Exception:
                log.exception("crawl: handler failed")
            if not self.budget.consume(size if read is None else read):
                with self._lock:
                    st["after"] = path
                    st["files"] += 1
                    st["bytes"] += size
                self.save()
                return False
            with self._lock:
                st["after"] = path
                st["files"] += 1
                st["bytes"] += size
            if time.monotonic() - last_save > CHECKPOINT_EVERY:
                self.save()
                last_save = time.monotonic()
            if self.stop_event.is_set():
                self.save()
                return False
        with self._lock:
            st.update(
                done=True,
                after=None,
                finished=time.time(),
                last_files=st["files"],
                last_bytes=st["bytes"],
            )
        self.save()
        log.info("crawl: finished %s (%d files)", root.key, st["files"])
        return True
