"""The local findings store: which files on this machine hold PHI/PII right now.

One SQLite file in the state dir (owner-only, like the dir). A finding is keyed by the
file's local path; it carries kinds and counts, never a value. Opening, escalating and
resolving a finding writes an event (docs/protocol.md EVENT) that the daemon hands to the
reporter at the next check-in; ``meta`` keeps small facts for `phiwatch status` (last
posture, last check-in, last warning).

Findings and events keep the local path: they never leave the machine as they are.
agent.report (the reporter's allow-list) turns a path into the finding_id / folder /
name_hash that the policy's ``report_paths`` allows, keyed per device.
"""

from __future__ import annotations

import json
import os
import sqlite3
import threading
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from agent import paths

REPORTED = ("phi", "pii")

SCHEMA = """
CREATE TABLE IF NOT EXISTS findings (
    path TEXT PRIMARY KEY,
    classification TEXT NOT NULL,
    identifiers TEXT NOT NULL,
    health TEXT NOT NULL,
    format TEXT NOT NULL,
    bytes INTEGER NOT NULL,
    volume TEXT NOT NULL,
    first_seen TEXT NOT NULL,
    last_seen TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS events (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    event_id TEXT NOT NULL,
    type TEXT NOT NULL,
    at TEXT NOT NULL,
    data TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
"""


def now_iso() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class FindingsStore:
    """Thread-safe: the watcher, the crawler and the daemon's check-in share one store."""

    def __init__(self, path: Path | None = None) -> None:
        self.path = path or paths.state_dir() / "findings.db"
        self._lock = threading.Lock()
        self._db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.executescript(SCHEMA)
        if os.name == "posix":
            os.chmod(self.path, 0o600)

    def close(self) -> None:
        with self._lock:
            self._db.close()

    # -- findings ----------------------------------------------------------------------
    def record(self, result: Any, volume: dict | None = None) -> str:
        """Store a classifier verdict for a file. Returns what changed:
        ``opened`` (new finding), ``escalated`` (pii -> phi, or new kinds), ``updated``,
        ``cleaned`` (a finding's file no longer holds PHI/PII), or ``none``."""
        path = str(result.path)
        cls = result.classification
        if cls == "error":
            return "none"  # unreadable now (locked, permission): keep what we knew
        ts = now_iso()
        with self._lock:
            row = self._db.execute(
                "SELECT classification, identifiers, health FROM findings WHERE path=?", (path,)
            ).fetchone()
            if cls not in REPORTED:
                if row is None:
                    return "none"
                self._db.execute("DELETE FROM findings WHERE path=?", (path,))
                self._event("finding_resolved", {"path": path, "reason": "cleaned"})
                return "cleaned"
            ids = json.dumps(dict(result.identifiers), sort_keys=True)
            health = json.dumps(dict(result.health), sort_keys=True)
            vol = json.dumps(volume or {}, sort_keys=True)
            if row is None:
                self._db.execute(
                    "INSERT INTO findings VALUES (?,?,?,?,?,?,?,?,?)",
                    (path, cls, ids, health, result.format, int(result.bytes), vol, ts, ts),
                )
                self._event("finding_opened", self._event_data(path, cls, result))
                return "opened"
            self._db.execute(
                "UPDATE findings SET classification=?, identifiers=?, health=?, format=?,"
                " bytes=?, volume=?, last_seen=? WHERE path=?",
                (cls, ids, health, result.format, int(result.bytes), vol, ts, path),
            )
            old_cls, old_ids, old_health = row
            new_kinds = set(result.identifiers) - set(json.loads(old_ids)) | set(
                result.health
            ) - set(json.loads(old_health))
            if (old_cls, cls) == ("pii", "phi") or new_kinds:
                self._event("finding_opened", self._event_data(path, cls, result))
                return "escalated"
            return "updated"

    def _event_data(self, path: str, cls: str, result: Any) -> dict:
        return {
            "path": path,
            "classification": cls,
            "identifiers": dict(result.identifiers),
            "health": dict(result.health),
        }

    def resolve(self, path: str, reason: str, *, folder: bool = False) -> int:
        """Resolve the finding at ``path`` (and, for a folder, every finding under it)
        with ``reason`` deleted|moved|cleaned. Returns how many were resolved."""
        with self._lock:
            if folder:
                like = path.rstrip(os.sep) + os.sep
                rows = self._db.execute(
                    "SELECT path FROM findings WHERE substr(path, 1, ?) = ?", (len(like), like)
                ).fetchall()
            else:
                rows = self._db.execute(
                    "SELECT path FROM findings WHERE path=?", (path,)
                ).fetchall()
            for (p,) in rows:
                self._db.execute("DELETE FROM findings WHERE path=?", (p,))
                self._event("finding_resolved", {"path": p, "reason": reason})
            return len(rows)

    def open_findings(self) -> list[dict]:
        """Open findings with their local paths, for `phiwatch status`."""
        with self._lock:
            rows = self._db.execute(
                "SELECT path, classification, identifiers, health, format, bytes, volume,"
                " first_seen, last_seen FROM findings ORDER BY path"
            ).fetchall()
        return [
            {
                "path": r[0],
                "classification": r[1],
                "identifiers": json.loads(r[2]),
                "health": json.loads(r[3]),
                "format": r[4],
                "bytes": r[5],
                "volume": json.loads(r[6]),
                "first_seen": r[7],
                "last_seen": r[8],
            }
            for r in rows
        ]

    def counts(self) -> dict[str, int]:
        with self._lock:
            rows = self._db.execute(
                "SELECT classification, count(*) FROM findings GROUP BY classification"
            )
            return dict(rows.fetchall())

    # -- events ------------------------------------------------------------------------
    def _event(self, type_: str, data: dict) -> None:
        self._db.execute(
            "INSERT INTO events (event_id, type, at, data) VALUES (?,?,?,?)",
            (str(uuid.uuid4()), type_, now_iso(), json.dumps(data, sort_keys=True)),
        )

    def add_event(self, type_: str, data: dict) -> None:
        with self._lock:
            self._event(type_, data)

    def pending_events(self, limit: int = 1000) -> list[dict]:
        """Events not yet handed to the reporter, oldest first (with ``seq`` for ack)."""
        with self._lock:
            rows = self._db.execute(
                "SELECT seq, event_id, type, at, data FROM events ORDER BY seq LIMIT ?", (limit,)
            ).fetchall()
        return [
            {"seq": r[0], "event_id": r[1], "type": r[2], "at": r[3], "data": json.loads(r[4])}
            for r in rows
        ]

    def ack_events(self, upto_seq: int) -> None:
        """The reporter's durable outbox holds them now: drop ours."""
        with self._lock:
            self._db.execute("DELETE FROM events WHERE seq <= ?", (upto_seq,))

    # -- meta --------------------------------------------------------------------------
    def set_meta(self, key: str, value: Any) -> None:
        with self._lock:
            self._db.execute(
                "INSERT OR REPLACE INTO meta VALUES (?, ?)",
                (key, json.dumps(value, sort_keys=True)),
            )

    def get_meta(self, key: str, default: Any = None) -> Any:
        with self._lock:
            row = self._db.execute("SELECT value FROM meta WHERE key=?", (key,)).fetchone()
        return json.loads(row[0]) if row else default
