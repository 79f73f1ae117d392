"""The classifier in child processes that exit when idle, so the resident agent stays small.

Why: the classifier's engines (compiled rule sets, format parsers) take ~100 MB once
loaded, and the agent sits idle almost all day. The daemon keeps only the watcher; a
*lane* (one child process) is started when a file needs classifying and ends after
``idle_timeout`` seconds without work. Two lanes: ``quick`` serves first looks at files
that just changed, ``deep`` the full passes and the crawl, so a big file's full pass
never delays the next warning.

Protocol, one JSON object per line over the child's stdin/stdout (counts and kinds only,
like every FileResult): request ``{"path", "first_look"}``, answer
``{"result": FileResult.to_json(), "read": bytes_read}`` or ``{"error": "TypeName"}``.
The child is ``phiwatch run --scan-worker`` (the same binary under pyinstaller).
"""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from typing import Any

log = logging.getLogger("phiwatch.watch")

FIRST_LOOK_BYTES = 1 << 20  # text read by the first look at a big changed file


def worker_command() -> list[str]:
    if getattr(sys, "frozen", False):
        return [sys.executable, "run", "--scan-worker"]
    return [sys.executable, "-m", "agent", "run", "--scan-worker"]


@dataclass
class Verdict:
    """A FileResult as it crossed the pipe. Its own small type because importing
    agent.classifier (even for the dataclass) loads the engines this module keeps out."""

    path: str
    classification: str
    identifiers: dict[str, int] = field(default_factory=dict)
    health: dict[str, int] = field(default_factory=dict)
    format: str = "unknown"
    bytes: int = 0
    reason: str | None = None


def _result(data: dict) -> Verdict:
    return Verdict(
        path=data["path"],
        classification=data["classification"],
        identifiers=data.get("identifiers", {}),
        health=data.get("health", {}),
        format=data.get("format", "unknown"),
        bytes=data.get("bytes", 0),
        reason=data.get("reason"),
    )


class _Lane:
    def __init__(self, name: str, idle_timeout: float) -> None:
        self.name = name
        self.idle_timeout = idle_timeout
        self.lock = threading.Lock()
        self.proc: subprocess.Popen | None = None
        self.last_used = 0.0
        self.started = 0  # how many times a child was started (tests, status)

    def _spawn(self) -> subprocess.Popen:
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        proc = subprocess.Popen(
            worker_command(),
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            env=env,
            text=True,
            bufsize=1,
        )
        self.started += 1
        log.info("scanner %s: started child %d", self.name, proc.pid)
        return proc

    def call(self, request: dict) -> dict:
        with self.lock:
            for attempt in (1, 2):  # one retry: a child that died is replaced once
                if self.proc is None or self.proc.poll() is not None:
                    self.proc = self._spawn()
                try:
                    assert self.proc.stdin and self.proc.stdout
                    self.proc.stdin.write(json.dumps(request) + "\n")
                    self.proc.stdin.flush()
                    line = self.proc.stdout.readline()
                    if line:
                        self.last_used = time.monotonic()
                        return json.loads(line)
                except (OSError, ValueError):
                    pass
                log.warning("scanner %s: child ended unexpectedly (attempt %d)", self.name, attempt)
                self._close_locked()
            return {"error": "ScannerDied"}

    def reap(self, now: float) -> None:
        if self.lock.acquire(blocking=False):
            try:
                if self.proc is not None and now - self.last_used > self.idle_timeout:
                    log.info("scanner %s: idle, child stopped", self.name)
                    self._close_locked()
            finally:
                self.lock.release()

    def close(self) -> None:
        with self.lock:
            self._close_locked()

    def _close_locked(self) -> None:
        p, self.proc = self.proc, None
        if p is None:
            return
        try:
            if p.stdin:
                p.stdin.close()
            p.wait(timeout=10)
        except (OSError, subprocess.TimeoutExpired):
            p.kill()
            p.wait()
        finally:
            if p.stdout:
                p.stdout.close()


class ScannerPool:
    """``classify(path, first_look=...) -> (FileResult, bytes_read)`` through the lanes."""

    def __init__(self, idle_timeout: float = 300.0) -> None:
        self.lanes = {"quick": _Lane("quick", idle_timeout), "deep": _Lane("deep", idle_timeout)}

    def classify(
        self, path: str, *, first_look: bool = False, lane: str = "deep"
    ) -> tuple[Any, int]:
        answer = self.lanes[lane].call({"path": path, "first_look": first_look})
        if "result" not in answer:
            return Verdict(path, "error", reason=f"scanner: {answer.get('error')}"), 0
        return _result(answer["result"]), int(answer.get("read", 0))

    def warm(self, lane: str) -> None:
        self.lanes[lane].call({"warm": True})

    def reap(self) -> None:
        now = time.monotonic()
        for lane in self.lanes.values():
            lane.reap(now)

    def alive(self) -> dict[str, bool]:
        return {
            n: lane.proc is not None and lane.proc.poll() is None for n, lane in self.lanes.items()
        }

    def close(self) -> None:
        for lane in self.lanes.values():
            lane.close()


class InProcess:
    """The same interface over an in-process classify callable (tests inject one to
    observe calls; the cache is the shared verdict cache)."""

    def __init__(self, classify: Any, cache: Any = None) -> None:
        self._classify = classify
        self.cache = cache

    def classify(
        self, path: str, *, first_look: bool = False, lane: str = "deep"
    ) -> tuple[Any, int]:
        size = os.path.getsize(path)
        if first_look:
            return self._classify(path, cache=None, limits=first_look_limits()), size
        return self._classify(path, cache=self.cache), size

    def warm(self, lane: str) -> None:
        pass

    def reap(self) -> None:
        pass

    def alive(self) -> dict[str, bool]:
        return {}

    def close(self) -> None:
        if self.cache is not None:
            self.cache.close()


def first_look_limits() -> Any:
    from agent.classifier.limits import Limits

    return Limits(max_text_bytes=FIRST_LOOK_BYTES)


def serve(stdin=None, stdout=None) -> int:
    """The child: classify each requested path with the shared verdict cache."""
    from pathlib import Path

    from agent import paths
    from agent.classifier import Cache, classify_file
    from agent.classifier.scan import Duplicates

    stdin = stdin or sys.stdin
    stdout = stdout or sys.stdout
    cache = Cache(paths.cache_dir() / "scan.sqlite")
    # the same package in many virtualenvs under ~: analysed once (digests in memory only)
    duplicates = Duplicates(max_entries=5_000)
    try:
        for line in stdin:
            try:
                req = json.loads(line)
                if req.get("warm"):
                    # Build the engines now: the first classification compiles every rule.
                    probe = paths.cache_dir() / f"warmup-{os.getpid()}.txt"
                    probe.write_text("phiwatch warm-up: nothing to find here.\n")
                    try:
                        classify_file(probe)
                    finally:
                        probe.unlink(missing_ok=True)
                    answer: dict = {"warm": True}
                else:
                    p = Path(req["path"])
                    if req.get("first_look"):
                        # No cache: a partial verdict must never answer for the whole file.
                        r = classify_file(p, limits=first_look_limits())
                        read = min(p.stat().st_size, FIRST_LOOK_BYTES)
                    else:
                        st = p.stat()
                        hit = cache.get(p, st)
                        r = hit or classify_file(p, cache=cache, duplicates=duplicates)
                        read = 0 if hit is not None else st.st_size
                    answer = {"result": r.to_json(), "read": read}
            except Exception as e:  # the message could quote content: the type only
                answer = {"error": type(e).__name__}
            # The quick and the deep child share the cache file: never leave it write-locked
            # while waiting for the next file (the other child's verdicts failed on it).
            cache.flush()
            stdout.write(json.dumps(answer) + "\n")
            stdout.flush()
    finally:
        cache.close()
    return 0
