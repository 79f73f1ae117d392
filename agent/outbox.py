"""The durable outbox: every report is written here before it is sent.

SQLite in the state dir, WAL with ``synchronous=FULL`` (each commit is fsync'd before
``put`` returns), so a report survives a crash, a SIGKILL or a power cut between the
moment it is made and the moment the server acknowledges it.

Reports leave in the order they were written (``seq``): a later complete set of findings
must never be overtaken by an older one. Every response is classified (STYLE.md, "The
outbox", after sentry's transport):

| answer                  | what the outbox does                                        |
|-------------------------|-------------------------------------------------------------|
| 2xx                     | delete the report (only now)                                |
| 409                     | stored by the server (device lost/stolen/disposed): delete  |
| 401, 403, 404           | stop; mark "needs re-enrollment"; send nothing until then   |
| 400, 413, 422, other 4xx| move to dead_letters with the server's reason; count it      |
| 429                     | wait Retry-After (seconds or HTTP date), at most a day      |
| 5xx, network, TLS       | exponential backoff with jitter, capped                     |

The report_id is made once, at ``put``, and sent unchanged on every retry; the server
answers ``duplicate`` for an id it has stored, so a retry after a lost answer is never
counted twice.

Size bound: when the outbox holds more than ``max_bytes``, or its oldest report waited
more than ``compact_after`` seconds (the server has been gone for days), what newer
reports make redundant is compacted away: older posture and inventory snapshots (only
the newest of each is kept: the server needs the current state, not every hourly one),
and the findings of reports older than the newest complete set of findings (that set
lists every finding still open; one that left it was resolved, and its event is kept).
Events are never dropped, and no open finding is. Counts of what was compacted or
dead-lettered ride along in the ``outbox`` field of the next report and are cleared
once a report carrying them is acknowledged.
"""

from __future__ import annotations

import email.utils
import json
import logging
import random
import sqlite3
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from agent.errors import OutboxError, OutboxFullError
from agent.transport import Response, TransportError

log = logging.getLogger("phiwatch.outbox")

SCHEMA = """
CREATE TABLE IF NOT EXISTS reports (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    report_id TEXT NOT NULL UNIQUE,
    body TEXT NOT NULL,
    size INTEGER NOT NULL,
    has_state INTEGER NOT NULL,     -- carries posture or inventory
    has_findings INTEGER NOT NULL,  -- carries a findings list (maybe empty)
    complete INTEGER NOT NULL,      -- findings_complete: the whole open set
    queued_at REAL NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at REAL NOT NULL DEFAULT 0,
    delay REAL NOT NULL DEFAULT 0,  -- the wait set with next_attempt_at (clock-skew guard)
    last_error TEXT
);
CREATE TABLE IF NOT EXISTS dead_letters (
    report_id TEXT PRIMARY KEY,
    status INTEGER NOT NULL,
    reason TEXT NOT NULL,
    body TEXT NOT NULL,
    at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
"""

# The columns _flags() fills, in its order; an older outbox may lack some (see _upgrade).
FLAG_COLUMNS = ("has_state", "has_findings", "complete")

RETRY_AFTER_CAP = 86400.0
REENROLL_STATUSES = {401, 403, 404}
RETRYABLE_4XX = {408, 425}


@dataclass
class FlushResult:
    sent: int = 0
    pending: int = 0
    error: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {"sent": self.sent, "pending": self.pending, "error": self.error}


class Outbox:
    def __init__(
        self,
        path: Path,
        *,
        max_bytes: int = 20 * 1024 * 1024,
        compact_after: float = 7 * 86400,
        backoff_base: float = 10.0,
        backoff_cap: float = 1800.0,
        clock: Callable[[], float] = time.time,
        rng: Callable[[], float] = random.random,
    ):
        self.path = Path(path)
        self.max_bytes = max_bytes
        self.compact_after = compact_after
        self.backoff_base = backoff_base
        self.backoff_cap = backoff_cap
        self.clock = clock
        self.rng = rng
        try:
            self.db = sqlite3.connect(self.path, timeout=10.0, isolation_level=None)
            self.db.execute("PRAGMA journal_mode=WAL")
            # FULL: the WAL is fsync'd at every commit, so put() returning means on disk.
            self.db.execute("PRAGMA synchronous=FULL")
            self.db.executescript(SCHEMA)
            self._upgrade()
        except sqlite3.Error as e:
            raise _outbox_error(e, self.path, "open the outbox") from None
        if self.path.exists():
            try:
                self.path.chmod(0o600)
            except OSError:
                pass

    def close(self) -> None:
        self.db.close()

    def _upgrade(self) -> None:
        """An outbox written by an older agent keeps its reports: columns added since are
        added here and filled from the stored bodies (CREATE TABLE IF NOT EXISTS leaves an
        old table as it was)."""
        have = {row[1] for row in self.db.execute("PRAGMA table_info(reports)")}
        missing = [c for c in FLAG_COLUMNS if c not in have]
        if not missing:
            return
        for column in missing:
            self.db.execute(f"ALTER TABLE reports ADD COLUMN {column} INTEGER NOT NULL DEFAULT 0")
        rows = self.db.execute("SELECT seq, body FROM reports").fetchall()
        for seq, body in rows:
            try:
                flags = _flags(json.loads(body))
            except ValueError:
                continue
            self.db.execute("UPDATE reports SET has_state = ?, has_findings = ?, complete = ? "
                            "WHERE seq = ?", (*flags, seq))
        log.info("outbox upgraded: added %s for %d queued reports", ", ".join(missing), len(rows))

    @contextmanager
    def _txn(self, doing: str) -> Iterator[None]:
        """One write transaction; any failure rolls it back and surfaces as OutboxError."""
        try:
            self.db.execute("BEGIN IMMEDIATE")
        except sqlite3.Error as e:
            raise _outbox_error(e, self.path, doing) from None
        try:
            yield
            self.db.execute("COMMIT")
        except BaseException as e:
            if self.db.in_transaction:
                self.db.execute("ROLLBACK")
            if isinstance(e, sqlite3.Error):
                raise _outbox_error(e, self.path, doing) from None
            raise

    # -- writing ---------------------------------------------------------------------

    def put(self, body: dict[str, Any]) -> str:
        """Store one report durably; returns its report_id (body["report_id"])."""
        report_id = body["report_id"]
        text = _dump(body)
        flags = _flags(body)
        try:
            self.db.execute(
                "INSERT INTO reports (report_id, body, size, has_state, has_findings, complete,"
                " queued_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
                (report_id, text, len(text), *flags, self.clock()),
            )
        except sqlite3.IntegrityError:
            return report_id  # the same report queued twice is still one report
        except sqlite3.Error as e:
            raise _outbox_error(e, self.path, "queue a report") from None
        try:
            self.maybe_compact()
        except OutboxError as e:  # the report is queued; compaction can wait
            log.warning("outbox compaction postponed: %s", e)
        return report_id

    def maybe_compact(self) -> int:
        total, oldest = self.db.execute(
            "SELECT COALESCE(SUM(size), 0), MIN(queued_at) FROM reports"
        ).fetchone()
        too_old = oldest is not None and self.clock() - oldest > self.compact_after
        if total <= self.max_bytes and not too_old:
            return 0
        n = self.compact()
        if n == 0 and total > self.max_bytes:
            log.warning("outbox holds %d bytes of findings and events; kept (never dropped)", total)
        return n

    def compact(self) -> int:
        """Drop what a newer report makes redundant; returns how many reports changed.

        - posture and inventory: only the newest snapshot of each is kept;
        - findings: a report with ``findings_complete`` lists every finding still open,
          so the findings of older reports are redundant (a finding that left the set
          since was resolved, and its finding_resolved event is kept). No finding that
          is open is ever dropped;
        - events: never touched."""
        anchor = self.db.execute("SELECT MAX(seq) FROM reports WHERE complete = 1").fetchone()[0]
        rows = self.db.execute(
            "SELECT seq, body FROM reports WHERE has_state = 1 OR (has_findings = 1 AND seq < ?)"
            " ORDER BY seq DESC",
            (anchor or 0,),
        ).fetchall()
        newest = {"posture": False, "inventory": False}
        counts = {"compacted_posture": 0, "compacted_findings": 0}
        changed_rows = 0
        with self._txn("compact the outbox"):
            for seq, text in rows:
                body = json.loads(text)
                changed = False
                stripped_state = False
                for part in ("posture", "inventory"):
                    if body.get(part) is None:
                        continue
                    if not newest[part]:
                        newest[part] = True  # the newest snapshot of this part stays
                        continue
                    body[part] = None
                    changed = stripped_state = True
                if stripped_state:
                    counts["compacted_posture"] += 1
                if anchor and seq < anchor and body.get("findings") is not None:
                    body["findings"] = None
                    body["findings_complete"] = False
                    counts["compacted_findings"] += 1
                    changed = True
                if not changed:
                    continue
                changed_rows += 1
                if _empty(body):
                    self.db.execute("DELETE FROM reports WHERE seq = ?", (seq,))
                else:
                    text = _dump(body)
                    self.db.execute(
                        "UPDATE reports SET body = ?, size = ?, has_state = ?, has_findings = ?,"
                        " complete = ? WHERE seq = ?",
                        (text, len(text), *_flags(body), seq),
                    )
            for key, n in counts.items():
                if n:
                    self._bump_dropped(key, n)
        if changed_rows:
            log.info("outbox compacted: %s", counts)
        return changed_rows

    # -- reading ---------------------------------------------------------------------

    def depth(self) -> int:
        return self.db.execute("SELECT COUNT(*) FROM reports").fetchone()[0]

    def report_ids(self) -> list[str]:
        return [r[0] for r in self.db.execute("SELECT report_id FROM reports ORDER BY seq")]

    def bodies(self) -> list[dict[str, Any]]:
        return [json.loads(r[0]) for r in self.db.execute("SELECT body FROM reports ORDER BY seq")]

    def dead_letters(self) -> list[dict[str, Any]]:
        rows = self.db.execute("SELECT report_id, status, reason, at FROM dead_letters ORDER BY at")
        return [{"report_id": r[0], "status": r[1], "reason": r[2], "at": r[3]} for r in rows]

    def dropped(self) -> dict[str, int]:
        return json.loads(self.get_meta("dropped") or "{}")

    def next_attempt_at(self) -> float | None:
        row = self.db.execute("SELECT next_attempt_at FROM reports ORDER BY seq LIMIT 1").fetchone()
        return row[0] if row else None

    def get_meta(self, key: str) -> str | None:
        row = self.db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return row[0] if row else None

    def set_meta(self, key: str, value: str | None) -> None:
        try:
            if value is None:
                self.db.execute("DELETE FROM meta WHERE key = ?", (key,))
            else:
                self.db.execute(
                    "INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", (key, value)
                )
        except sqlite3.Error as e:
            raise _outbox_error(e, self.path, "record the outbox state") from None

    # -- sending ---------------------------------------------------------------------

    def flush(
        self,
        send: Callable[[dict[str, Any]], Response],
        *,
        deadline: float | None = None,
        on_success: Callable[[Response], None] | None = None,
    ) -> FlushResult:
        """Send due reports oldest first until the queue is empty, a report must wait, or
        ``deadline`` (time.monotonic()) passes. ``send`` raises TransportError when no HTTP
        answer came back. Never raises for the server's or the network's sake."""
        result = FlushResult()
        while deadline is None or time.monotonic() < deadline:
            if self.get_meta("needs_reenroll"):
                result.error = self.get_meta("needs_reenroll")
                break
            row = self.db.execute(
                "SELECT seq, report_id, body, attempts, next_attempt_at, delay, last_error"
                " FROM reports ORDER BY seq LIMIT 1"
            ).fetchone()
            if row is None:
                break
            seq, report_id, text, attempts, next_at, delay, last_error = row
            now = self.clock()
            # A wait longer than the one we set means the clock went back: send now.
            if next_at > now and next_at - now <= delay:
                result.error = last_error or "waiting to retry"
                break
            body = json.loads(text)
            dropped = self.dropped()
            body["outbox"] = {"depth": self.depth(), "dropped": dropped}
            try:
                resp = send(body)
            except TransportError as e:
                result.error = str(e)
                self._backoff(seq, attempts, result.error)
                break
            status = resp.status
            if 200 <= status < 300 or status == 409:
                self._delivered(seq, dropped)
                result.sent += 1
                if status == 409:
                    self.set_meta("server_notice", resp.detail)
                if on_success:
                    on_success(resp)
                continue
            if status in REENROLL_STATUSES:
                reason = (
                    f"the server rejected this device's token (HTTP {status}: {resp.detail}); "
                    "the token was revoked or the device deleted: re-enroll with "
                    "`phiwatch enroll`"
                )
                log.error("%s", reason)
                self.set_meta("needs_reenroll", reason)
                result.error = reason
                break
            if status == 429:
                wait = _retry_after(resp.headers.get("Retry-After"), now)
                if wait is None:
                    wait = self._backoff_delay(attempts)
                self._wait(seq, attempts, min(wait, RETRY_AFTER_CAP), "server busy (HTTP 429)")
                result.error = "server busy (HTTP 429)"
                break
            if 400 <= status < 500 and status not in RETRYABLE_4XX:
                self._dead_letter(seq, report_id, text, status, resp.detail)
                continue
            result.error = f"server error (HTTP {status}: {resp.detail})"
            self._backoff(seq, attempts, result.error)
            break
        result.pending = self.depth()
        if result.pending == 0 and result.error is None:
            self.set_meta("last_error", None)
        elif result.error:
            self.set_meta("last_error", result.error)
        return result

    def clear_reenroll(self) -> None:
        self.set_meta("needs_reenroll", None)
        # Reports waiting since the 401 may go at once.
        self.db.execute("UPDATE reports SET next_attempt_at = 0, delay = 0")

    def _delivered(self, seq: int, sent_dropped: dict[str, int]) -> None:
        with self._txn("record a delivery"):
            self.db.execute("DELETE FROM reports WHERE seq = ?", (seq,))
            if sent_dropped:
                current = self.dropped()
                left = {k: v - sent_dropped.get(k, 0) for k, v in current.items()}
                left = {k: v for k, v in left.items() if v > 0}
                self.set_meta("dropped", json.dumps(left, sort_keys=True))
            self.set_meta("last_checkin", str(self.clock()))

    def _dead_letter(self, seq: int, report_id: str, text: str, status: int, reason: str) -> None:
        log.error("report %s rejected by the server (HTTP %d): %s", report_id, status, reason)
        with self._txn("record a dead letter"):
            self.db.execute(
                "INSERT OR REPLACE INTO dead_letters (report_id, status, reason, body, at)"
                " VALUES (?, ?, ?, ?, ?)",
                (report_id, status, reason, text, self.clock()),
            )
            self.db.execute("DELETE FROM reports WHERE seq = ?", (seq,))
            self._bump_dropped(f"rejected_{status}", 1)

    def _backoff_delay(self, attempts: int) -> float:
        # Exponential, capped, with "equal jitter" (half fixed, half random) so a fleet that
        # lost its server together does not come back in one thundering herd.
        delay = min(self.backoff_cap, self.backoff_base * (2 ** min(attempts, 30)))
        return delay / 2 + self.rng() * delay / 2

    def _backoff(self, seq: int, attempts: int, error: str) -> None:
        self._wait(seq, attempts, self._backoff_delay(attempts), error)

    def _wait(self, seq: int, attempts: int, wait: float, error: str) -> None:
        self.db.execute(
            "UPDATE reports SET attempts = ?, next_attempt_at = ?, delay = ?, last_error = ?"
            " WHERE seq = ?",
            (attempts + 1, self.clock() + wait, wait, error[:500], seq),
        )

    def _bump_dropped(self, key: str, n: int) -> None:
        current = self.dropped()
        current[key] = current.get(key, 0) + n
        self.set_meta("dropped", json.dumps(current, sort_keys=True))


def _dump(body: dict[str, Any]) -> str:
    return json.dumps(body, separators=(",", ":"), sort_keys=True)


def _flags(body: dict[str, Any]) -> tuple[int, int, int]:
    """has_state, has_findings, complete: what compaction looks at."""
    return (
        int(body.get("posture") is not None or body.get("inventory") is not None),
        int(body.get("findings") is not None),
        int(bool(body.get("findings_complete")) and body.get("findings") is not None),
    )


def _empty(body: dict[str, Any]) -> bool:
    return (
        body.get("posture") is None
        and body.get("inventory") is None
        and body.get("findings") is None
        and not body.get("events")
    )


def _retry_after(value: str | None, now: float) -> float | None:
    """Retry-After is seconds or an HTTP date (RFC 9110 10.2.3)."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - now)


def _outbox_error(e: sqlite3.Error, path: Path, doing: str) -> OutboxError:
    text = str(e)
    if "full" in text or "disk I/O" in text or "File too large" in text:
        return OutboxFullError(
            f"cannot {doing}: no space left in the state dir ({path.parent}); free some "
            "space - reports already queued are kept"
        )
    return OutboxError(f"cannot {doing} in {path}: {text}")
