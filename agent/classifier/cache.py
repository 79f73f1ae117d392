"""Incremental scanning: skip files that have not changed since they were classified.

SQLite, keyed by device + inode + size + mtime (ns) and the rules digest, so a rules
update rescans everything. Stored: the verdict, counts per kind, format, reason and first
evidence location. Never a value, never a path or file name (a file name can be a
patient's name); archives are not cached because their members are reported by name.
"""

from __future__ import annotations

import json
import os
import sqlite3
import threading
import time
from pathlib import Path

from agent.classifier.result import FileResult, counts_json

_SCHEMA = """
CREATE TABLE IF NOT EXISTS verdicts (
    dev INTEGER NOT NULL, ino INTEGER NOT NULL, size INTEGER NOT NULL, mtime_ns INTEGER NOT NULL,
    rules TEXT NOT NULL,
    classification TEXT NOT NULL, identifiers TEXT NOT NULL, health TEXT NOT NULL,
    format TEXT NOT NULL, reason TEXT, first_evidence TEXT,
    PRIMARY KEY (dev, ino)
)
"""


COMMIT_EVERY = 500
COMMIT_SECONDS = 2.0


class Cache:
    """Verdict cache in one SQLite file (e.g. ``agent.paths.cache_dir() / "scan.sqlite"``)."""

    def __init__(self, path: str | os.PathLike, rules_digest: str | None = None,
                 timeout: float = 5.0, one_pass: bool = False):
        """``one_pass``: the caller looks each file up once (``phiwatch scan``), so a
        cache that holds no verdict when it opens cannot answer any lookup (a first
        scan): lookups are skipped, ~10 us a file. A long-running agent, which comes
        back to files, must not set it."""
        if rules_digest is None:
            from agent.classifier.rules import default_rules

            rules_digest = default_rules().digest
        from agent import __version__

        self.path = Path(path)
        # a new agent version may classify differently: its verdicts start afresh
        self.rules = f"{rules_digest}/{__version__}"
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        # timeout: how long a write waits for another process's write lock
        self._db = sqlite3.connect(str(self.path), check_same_thread=False, timeout=timeout)
        if os.name == "posix":
            try:
                self.path.chmod(0o600)
            except OSError:
                pass
        with self._db:
            self._db.execute("PRAGMA journal_mode=WAL")
            # A lost last batch only means those files are read again next time.
            self._db.execute("PRAGMA synchronous=NORMAL")
            self._db.execute(_SCHEMA)
            self._lookups = not one_pass or self._db.execute(
                "SELECT 1 FROM verdicts LIMIT 1").fetchone() is not None
        self._pending = 0
        self._rows: list[tuple] = []  # verdicts not written yet
        self._last_commit = time.monotonic()

    def get(self, path: str | Path, st: os.stat_result) -> FileResult | None:
        if not self._lookups:
            return None
        with self._lock:
            try:
                self._write()  # verdicts kept since the last batch answer lookups too
                row = self._db.execute(
                    "SELECT size, mtime_ns, rules, classification, identifiers, health, format,"
                    " reason, first_evidence FROM verdicts WHERE dev=? AND ino=?",
                    (st.st_dev, st.st_ino)).fetchone()
            except sqlite3.OperationalError:  # locked or damaged: classify the file again
                return None
        if row is None or row[0] != st.st_size or row[1] != st.st_mtime_ns or row[2] != self.rules:
            return None
        return FileResult(str(path), row[3], json.loads(row[4]), json.loads(row[5]), row[6],
                          st.st_size, row[7], row[8])

    def put(self, path: str | Path, st: os.stat_result, result: FileResult) -> None:
        """Keep a verdict. A cache that cannot be written (another process holds the write
        lock past the timeout, a full disk) only costs a later re-read: the verdict itself
        is never lost over it."""
        if result.members:
            return
        with self._lock:
            # written a batch at a time (one executemany, one transaction): a statement and
            # a commit per file cost more than the file's lookup
            self._rows.append((st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns, self.rules,
                               result.classification, counts_json(result.identifiers),
                               counts_json(result.health), result.format, result.reason,
                               result.first_evidence))
            self._pending += 1
            now = time.monotonic()
            # a long-running agent shares this file with `phiwatch scan`: commit at least
            # every COMMIT_SECONDS too, not only every COMMIT_EVERY verdicts
            if self._pending >= COMMIT_EVERY or now - self._last_commit >= COMMIT_SECONDS:
                self._commit()
                self._last_commit = now

    def flush(self) -> None:
        """Commit pending verdicts (and so let go of the write lock: a process that is done
        for now must not keep other writers of the file waiting)."""
        with self._lock:
            self._commit()

    def _write(self) -> None:
        """Insert the verdicts kept so far (in the open transaction)."""
        if self._rows:
            rows, self._rows = self._rows, []
            self._db.executemany(
                "INSERT OR REPLACE INTO verdicts VALUES (?,?,?,?,?,?,?,?,?,?,?)", rows)

    def _commit(self) -> None:
        try:
            self._write()
            self._db.commit()
        except sqlite3.OperationalError:
            self._db.rollback()  # let go of the lock; those files are only read again
        self._pending = 0

    def close(self) -> None:
        with self._lock:
            self._commit()
            self._db.close()

    def __enter__(self) -> Cache:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
