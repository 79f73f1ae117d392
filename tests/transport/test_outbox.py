"""The outbox's response classes, backoff, clock skew and compaction.

Reporter tests go over real HTTPS to the fake server subprocess; the backoff and
compaction arithmetic is checked on Outbox directly with a controlled clock."""

from __future__ import annotations

import json
import time

import pytest

from agent.enroll import enroll
from agent.outbox import Outbox
from agent.reporter import Reporter
from agent.transport import NetworkError, Response
from tests.transport.conftest import SECRET

POSTURE = {
    "checked_at": "2026-11-28T14:00:00Z",
    "checks": [
        {
            "id": "firewall",
            "status": "pass",
            "observed": "active",
            "policy": "on",
            "hipaa": "164.310(c)",
            "reason": None,
            "fix": None,
            "details": {},
        }
    ],
}
FINDING = {
    "path": "/home/a/data/jsmith_labs.csv",
    "classification": "phi",
    "identifiers": {"ssn": 3},
    "health": {"icd10": 2},
    "format": "csv",
    "bytes": 1234,
    "volume": {"mount": "/", "encrypted": True, "removable": False, "cloud": None},
    "first_seen": 1_700_000_000,
    "last_seen": 1_700_000_100,
}


def test_report_is_delivered_once_and_the_server_policy_is_kept(enrolled):
    r = Reporter()
    rid = r.queue(
        posture=POSTURE,
        findings=[FINDING],
        findings_complete=True,
        events=[{"type": "agent_started"}],
    )
    assert r.status()["outbox_depth"] == 1
    assert r.flush() == {"sent": 1, "pending": 0, "error": None}
    (stored,) = enrolled.stored()
    assert stored["report_id"] == rid
    assert stored["device_id"] == r.status()["device_id"]
    assert stored["findings"][0]["identifiers"] == {"ssn": 3}
    assert stored["outbox"] == {"depth": 1, "dropped": {}}
    # The server's policy now drives the schedule (fake server says 120 s).
    assert r.policy()["checkin_interval_seconds"] == 120
    st = r.status()
    assert st["policy_version"] == 4 and st["last_checkin"] and st["clock_skew_seconds"] is not None
    assert abs(st["clock_skew_seconds"]) < 5


def test_revoked_token_stops_sending_until_reenrolled(enrolled):
    r = Reporter()
    r.queue(posture=POSTURE)
    enrolled.revoke_all()
    res = r.flush()
    assert res["sent"] == 0 and res["pending"] == 1
    assert "re-enroll" in res["error"] and "revoked" in res["error"]
    st = r.status()
    assert st["needs_reenroll"] is True and "re-enroll" in st["last_error"]
    asked = len(enrolled.requests("/api/v1/checkin"))
    # Waiting, not spinning: further flushes do not touch the server.
    for _ in range(3):
        assert r.flush()["sent"] == 0
    assert len(enrolled.requests("/api/v1/checkin")) == asked == 1
    enroll(enrolled.url, SECRET, fingerprint=enrolled.fingerprint)
    assert r.flush() == {"sent": 1, "pending": 0, "error": None}
    assert r.status()["needs_reenroll"] is False


@pytest.mark.parametrize("status", [400, 413, 422])
def test_rejected_report_is_dead_lettered_and_counted(enrolled, status):
    r = Reporter()
    bad = r.queue(posture=POSTURE)
    good = r.queue(findings=[FINDING])
    enrolled.plan({"status": status, "body": {"detail": "bad value", "field": "posture.checks.0"}})
    assert r.flush() == {"sent": 1, "pending": 0, "error": None}
    (dead,) = r.outbox.dead_letters()
    assert dead["report_id"] == bad and dead["status"] == status
    assert dead["reason"] == "bad value (field posture.checks.0)"
    (stored,) = enrolled.stored()
    assert stored["report_id"] == good
    assert stored["outbox"]["dropped"] == {f"rejected_{status}": 1}
    # Counts are cleared once acknowledged.
    r.queue(events=[{"type": "scan_completed"}])
    r.flush()
    assert enrolled.stored()[-1]["outbox"]["dropped"] == {}


def test_429_waits_for_retry_after(enrolled):
    r = Reporter()
    rid = r.queue(posture=POSTURE)
    enrolled.plan({"status": 429, "headers": {"Retry-After": "7"}})
    before = time.time()
    res = r.flush()
    assert res["sent"] == 0 and "429" in res["error"]
    wait = r.outbox.next_attempt_at() - before
    assert 6.0 <= wait <= 8.0
    r.flush()  # not due yet: no request
    assert len(enrolled.requests("/api/v1/checkin")) == 1
    assert r.outbox.report_ids() == [rid]


def test_5xx_backs_off_and_keeps_the_report_id(enrolled):
    r = Reporter()
    rid = r.queue(posture=POSTURE)
    enrolled.plan({"status": 503})
    res = r.flush()
    assert res["sent"] == 0 and "HTTP 503" in res["error"]
    assert r.outbox.next_attempt_at() > time.time() + 4  # base 10 s, equal jitter >= 5 s
    r.outbox.db.execute("UPDATE reports SET next_attempt_at = 0")  # time passes
    assert r.flush()["sent"] == 1
    ids = [json.loads(q["body"])["report_id"] for q in enrolled.requests("/api/v1/checkin")]
    assert ids == [rid, rid]
    assert [s["report_id"] for s in enrolled.stored()] == [rid]


def test_server_killed_mid_request_stores_the_report_once(enrolled):
    r = Reporter()
    rid = r.queue(findings=[FINDING], events=[{"type": "scan_completed"}])
    enrolled.plan({"kill_after_store": True})
    res = r.flush()
    assert res["sent"] == 0 and res["error"]
    assert r.outbox.report_ids() == [rid]  # not acknowledged: kept
    enrolled.stop()
    enrolled.start()  # same port, same state
    r.outbox.db.execute("UPDATE reports SET next_attempt_at = 0")
    assert r.flush()["sent"] == 1
    assert [s["report_id"] for s in enrolled.stored()] == [rid]


def test_not_enrolled_keeps_reports(agent_home):
    r = Reporter()
    r.queue(posture=POSTURE)
    res = r.flush()
    assert res == {"sent": 0, "pending": 1, "error": "not enrolled: run `phiwatch enroll`"}
    assert r.status()["enrolled"] is False


# -- Outbox arithmetic with a controlled clock ------------------------------------------


class Clock:
    def __init__(self, t: float = 1_800_000_000.0):
        self.t = t

    def __call__(self) -> float:
        return self.t


def _body(i: int, **parts) -> dict:
    return {
        "report_id": f"r{i}",
        "created_at": "x",
        "agent_version": "0",
        "inventory": None,
        "posture": None,
        "findings": None,
        "findings_complete": False,
        "events": [],
        **parts,
    }


def _down(body):
    raise NetworkError("cannot reach the server (connection refused)")


def test_backoff_is_exponential_capped_and_jittered(tmp_path):
    clock = Clock()
    box = Outbox(tmp_path / "o.db", clock=clock, rng=lambda: 1.0, backoff_base=10, backoff_cap=300)
    box.put(_body(1, posture=POSTURE))
    waits = []
    for _ in range(8):
        clock.t = box.next_attempt_at()
        box.flush(_down)
        waits.append(box.next_attempt_at() - clock.t)
    assert waits == [10, 20, 40, 80, 160, 300, 300, 300]
    low = Outbox(tmp_path / "p.db", clock=clock, rng=lambda: 0.0, backoff_base=10)
    low.put(_body(1, posture=POSTURE))
    low.flush(_down)
    assert low.next_attempt_at() - clock.t == 5  # half of the delay is the floor


def test_clock_set_back_does_not_strand_the_queue(tmp_path):
    clock = Clock()
    box = Outbox(tmp_path / "o.db", clock=clock, rng=lambda: 1.0)
    box.put(_body(1, posture=POSTURE))
    box.flush(_down)
    sent = []

    def ok(body):
        sent.append(body["report_id"])
        return Response(200, {"status": "stored"})

    clock.t += 5  # still inside the 10 s wait: nothing goes
    assert box.flush(ok).sent == 0
    clock.t -= 86400  # the laptop clock jumps back a day (NTP fix, dead RTC battery)
    assert box.flush(ok).sent == 1 and sent == ["r1"]


def test_clock_set_forward_sends_at_once(tmp_path):
    clock = Clock()
    box = Outbox(tmp_path / "o.db", clock=clock)
    box.put(_body(1, posture=POSTURE))
    box.flush(_down)
    clock.t += 30 * 86400
    assert box.flush(lambda b: Response(200, {})).sent == 1


def test_compaction_keeps_every_finding_and_event(tmp_path):
    clock = Clock()
    box = Outbox(tmp_path / "o.db", clock=clock, compact_after=14 * 86400)
    for i in range(10):  # hourly posture while the server is gone
        box.put(_body(i, posture=POSTURE, inventory={"hostname": "h"}))
        clock.t += 3600
    box.put(_body(10, posture=POSTURE, findings=[{"finding_id": "f1"}]))
    box.put(_body(11, events=[{"event_id": "e1", "type": "media_mounted"}]))
    box.put(_body(12, posture={"checked_at": "latest", "checks": []}))
    assert box.depth() == 13
    clock.t += 15 * 86400  # two weeks without a server
    box.put(_body(13, events=[{"event_id": "e2", "type": "scan_completed"}]))
    bodies = box.bodies()
    assert [b["report_id"] for b in bodies] == ["r9", "r10", "r11", "r12", "r13"]
    # Newest posture kept (r12), newest inventory kept (r9, posture stripped), findings
    # and events all there.
    by_id = {b["report_id"]: b for b in bodies}
    assert by_id["r12"]["posture"]["checked_at"] == "latest"
    assert by_id["r9"]["posture"] is None and by_id["r9"]["inventory"] == {"hostname": "h"}
    assert by_id["r10"]["posture"] is None and by_id["r10"]["findings"] == [{"finding_id": "f1"}]
    assert by_id["r11"]["events"][0]["event_id"] == "e1"
    assert by_id["r13"]["events"][0]["event_id"] == "e2"
    assert box.dropped() == {"compacted_posture": 11}  # r0-r8 gone, r9 and r10 trimmed
    got = []
    box.flush(lambda b: got.append(b["outbox"]) or Response(200, {}))
    assert got[0] == {"depth": 5, "dropped": {"compacted_posture": 11}}
    assert got[1]["dropped"] == {} and box.depth() == 0


def test_size_bound_triggers_compaction(tmp_path):
    box = Outbox(tmp_path / "o.db", max_bytes=3000)
    big = {"checked_at": "x", "checks": [{"id": "c", "observed": "y" * 400}]}
    for i in range(20):
        box.put(_body(i, posture=big, events=[{"event_id": f"e{i}"}] if i % 5 == 0 else []))
    events = [e["event_id"] for b in box.bodies() for e in b["events"]]
    assert events == ["e0", "e5", "e10", "e15"]
    assert sum(b["posture"] is not None for b in box.bodies()) <= 3
    assert box.dropped()["compacted_posture"] >= 15


def test_other_device_answer_means_reenroll(tmp_path):
    box = Outbox(tmp_path / "o.db")
    box.put(_body(1))
    res = box.flush(lambda b: Response(404, {"detail": "no such device"}))
    assert res.sent == 0 and "re-enroll" in res.error and box.depth() == 1


def test_lost_device_answer_counts_as_delivered(tmp_path):
    box = Outbox(tmp_path / "o.db")
    box.put(_body(1))
    res = box.flush(lambda b: Response(409, {"detail": "device is marked lost"}))
    assert res.sent == 1 and box.depth() == 0
    assert box.get_meta("server_notice") == "device is marked lost"


def test_report_over_the_body_limit_is_split_and_every_finding_arrives(enrolled):
    r = Reporter()
    many = [{**FINDING, "path": f"/home/a/dump/{i:06d}_{'x' * 60}.csv"} for i in range(6000)]
    first = r.queue(posture=POSTURE, findings=many, findings_complete=True)
    bodies = r.outbox.bodies()
    assert len(bodies) > 1 and bodies[0]["report_id"] == first
    assert all(len(json.dumps(b, separators=(",", ":"))) < 1024 * 1024 - 16 * 1024 for b in bodies)
    assert not any(b["findings_complete"] for b in bodies)  # additions only when split
    assert r.flush() == {"sent": len(bodies), "pending": 0, "error": None}
    stored = enrolled.stored()
    assert sum(len(s["findings"]) for s in stored) == 6000
    assert len({f["finding_id"] for s in stored for f in s["findings"]}) == 6000
    assert sum(s["posture"] is not None for s in stored) == 1


def test_weeks_offline_keeps_the_newest_complete_set_and_every_event(tmp_path):
    """The daemon queues the complete set of open findings at every check-in; two weeks
    without a server must not grow the outbox without bound, nor lose an open finding."""
    clock = Clock()
    box = Outbox(tmp_path / "o.db", clock=clock, compact_after=7 * 86400)
    open_now = [{"finding_id": "a"}, {"finding_id": "b"}, {"finding_id": "c"}]
    for i in range(30):
        if i == 20:  # "b" is deleted by the engineer: resolved, with its event
            open_now = [{"finding_id": "a"}, {"finding_id": "c"}]
            events = [
                {
                    "event_id": "e-res",
                    "type": "finding_resolved",
                    "data": {"finding_id": "b", "reason": "deleted"},
                }
            ]
        else:
            events = [{"event_id": f"e{i}", "type": "scan_completed"}] if i % 10 == 0 else []
        box.put(
            _body(
                i, posture=POSTURE, findings=list(open_now), findings_complete=True, events=events
            )
        )
        clock.t += 12 * 3600
    bodies = box.bodies()
    # Every event is still queued, in order; the newest complete set is whole.
    assert [e["event_id"] for b in bodies for e in b["events"]] == ["e0", "e10", "e-res"]
    newest = bodies[-1]
    assert newest["report_id"] == "r29" and newest["findings_complete"] is True
    assert newest["findings"] == [{"finding_id": "a"}, {"finding_id": "c"}]
    assert newest["posture"] is not None
    # Older reports kept only their events.
    assert all(b["findings"] is None and b["posture"] is None for b in bodies[:-1])
    assert len(bodies) == 4
    dropped = box.dropped()
    assert dropped["compacted_findings"] >= 26 and dropped["compacted_posture"] >= 26


def test_flush_while_another_process_holds_the_outbox_reports_instead_of_raising(enrolled):
    import sqlite3

    r = Reporter()
    r.outbox.db.execute("PRAGMA busy_timeout = 200")
    r.queue(events=[{"type": "agent_started"}])
    other = sqlite3.connect(r.outbox.path, timeout=0.1, isolation_level=None)
    other.execute("BEGIN EXCLUSIVE")  # another agent process mid-write
    try:
        res = r.flush()
    finally:
        other.execute("ROLLBACK")
        other.close()
    # Sent, but the acknowledgement could not be recorded: still queued, no exception.
    assert res["sent"] == 0 and "outbox unavailable: cannot record a delivery" in res["error"]
    assert "database is locked" in res["error"]
    assert r.flush() == {"sent": 1, "pending": 0, "error": None}
    assert len(enrolled.stored()) == 1  # the resend was a duplicate


def test_outbox_from_an_older_agent_keeps_its_reports(tmp_path):
    """An agent upgrade must not lose what the old agent queued: an outbox whose reports
    table predates the compaction flags is upgraded in place."""
    import sqlite3

    path = tmp_path / "outbox.sqlite3"
    old = sqlite3.connect(path)
    old.executescript(
        "CREATE TABLE reports (seq INTEGER PRIMARY KEY AUTOINCREMENT, report_id TEXT NOT NULL "
        "UNIQUE, body TEXT NOT NULL, size INTEGER NOT NULL, has_state INTEGER NOT NULL, "
        "queued_at REAL NOT NULL, attempts INTEGER NOT NULL DEFAULT 0, next_attempt_at REAL NOT "
        "NULL DEFAULT 0, delay REAL NOT NULL DEFAULT 0, last_error TEXT);")
    body = {"report_id": "r-1", "findings": [FINDING], "findings_complete": True,
            "posture": None, "inventory": None, "events": []}
    old.execute("INSERT INTO reports (report_id, body, size, has_state, queued_at) "
                "VALUES (?, ?, ?, 0, ?)", ("r-1", json.dumps(body), 10, time.time()))
    old.commit()
    old.close()
    box = Outbox(path)
    assert box.depth() == 1
    cols = {r[1] for r in box.db.execute("PRAGMA table_info(reports)")}
    assert {"has_findings", "complete"} <= cols
    assert box.db.execute("SELECT has_findings, complete FROM reports").fetchone() == (1, 1)
    box.put({"report_id": "r-2", "findings": None, "posture": POSTURE, "inventory": None,
             "events": []})
    assert box.depth() == 2
    box.close()
