"""Fixtures for the running agent: a private D-Bus session with a real notification
server, an isolated PHIWATCH_HOME, a daemon on temp roots, sample files from the corpus,
and a check that no thread outlives a test."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent


def wait_for(pred: Callable[[], object], timeout: float = 15.0, step: float = 0.05):
    """Poll ``pred`` until it is truthy; returns its value (or the last falsy one).
    A deadline, never an assertion on elapsed time."""
    deadline = time.monotonic() + timeout
    value = pred()
    while not value and time.monotonic() < deadline:
        time.sleep(step)
        value = pred()
    return value


@pytest.fixture
def agent_home(tmp_path, monkeypatch) -> Path:
    home = tmp_path / "phiwatch-home"
    monkeypatch.setenv("PHIWATCH_HOME", str(home))
    # Nothing managed from the machine running the tests.
    monkeypatch.setenv("PHIWATCH_MANAGED_CONFIG", str(tmp_path / "no-managed.toml"))
    return home


class NotificationServer:
    def __init__(self, address: str, log: Path) -> None:
        self.address = address
        self.log = log

    def received(self) -> list[dict]:
        if not self.log.exists():
            return []
        return [json.loads(line) for line in self.log.read_text().splitlines() if line]

    def clear(self) -> None:
        self.log.write_text("")


@pytest.fixture(scope="session")
def dbus_session(tmp_path_factory) -> Iterator[NotificationServer]:
    """dbus-daemon --session on a private socket, plus tests/run/notify_server.py owning
    org.freedesktop.Notifications on it."""
    if not shutil.which("dbus-daemon"):
        pytest.fail("dbus-daemon missing: scripts/setup installs the dbus package")
    d = tmp_path_factory.mktemp("dbus")
    bus = subprocess.Popen(
        [
            "dbus-daemon",
            "--session",
            "--nofork",
            "--nopidfile",
            f"--address=unix:path={d}/bus",
            "--print-address=1",
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    address = bus.stdout.readline().strip()
    log = d / "notifications.jsonl"
    server = subprocess.Popen(
        [sys.executable, str(HERE / "notify_server.py"), address, str(log)],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert server.stdout.readline().strip() == "ready"
    try:
        yield NotificationServer(address, log)
    finally:
        for p in (server, bus):
            p.terminate()
            p.wait(timeout=10)


@pytest.fixture
def notifications(dbus_session, monkeypatch) -> NotificationServer:
    """The notification server, emptied, with this test's session bus in the environment."""
    monkeypatch.setenv("DBUS_SESSION_BUS_ADDRESS", dbus_session.address)
    dbus_session.clear()
    return dbus_session


@pytest.fixture
def no_leaked_threads() -> Iterator[None]:
    # watchdog >= 5 keeps one process-wide inotify reader (InotifyFD.get_instance()) for
    # every observer; it is shared, not ours, so it is not counted as a leak.
    def ours() -> set[threading.Thread]:
        return {t for t in threading.enumerate() if type(t).__name__ != "InotifyFD"}

    before = ours()
    yield
    wait_for(lambda: not (ours() - before), timeout=10)
    leaked = ours() - before
    assert not leaked, f"threads left running: {[t.name for t in leaked]}"


def sample(corpus, label: str, fmt: str | None = None, n: int = 1) -> list[Path]:
    """Corpus files with ``label`` (and format), largest first."""
    items = [
        m for m in corpus.manifest if m["label"] == label and (fmt is None or m["format"] == fmt)
    ]
    paths = [corpus.files / m["path"] for m in items]
    paths.sort(key=lambda p: (-p.stat().st_size, str(p)))
    if len(paths) < n:
        pytest.fail(f"corpus has {len(paths)} {label}/{fmt} files, need {n}")
    return paths[:n]


class Observed:
    """Wraps the real classifier to record what was scanned and at which size: lets a
    test see that a file being written was not scanned half-way."""

    def __init__(self) -> None:
        from agent.classifier import classify_file

        self._classify = classify_file
        self.calls: list[tuple[str, int]] = []
        self._lock = threading.Lock()

    def __call__(self, path, *, cache=None, **kw):
        size = os.path.getsize(path)
        with self._lock:
            self.calls.append((str(path), size))
        return self._classify(path, cache=cache, **kw)

    def sizes(self, path: Path) -> list[int]:
        with self._lock:
            return [s for p, s in self.calls if p == str(path)]


@pytest.fixture
def make_daemon(agent_home, notifications, tmp_path):
    """Builds a started Daemon on temp roots with the real classifier (in this process,
    so its engines are built once per session; the child-process lanes have their own
    tests) and the real D-Bus notification path; stops it after the test."""
    from agent.classifier import classify_file
    from agent.daemon import Daemon

    made: list[Daemon] = []

    def make(roots: list[Path], **kw) -> Daemon:
        kw.setdefault("reporter", None)
        kw.setdefault("classify", classify_file)
        kw.setdefault("policy", {"crawl_bytes_per_second": 0})
        kw.setdefault("mount_table", lambda: {})
        kw.setdefault("gather", 0.3)
        kw.setdefault("hold", 5.0)
        d = Daemon(roots=[str(r) for r in roots], **kw)
        d.start()
        made.append(d)
        assert d.wait_idle(60), "first crawl did not finish"
        return d

    yield make
    for d in made:
        d.stop()
        d.close()
