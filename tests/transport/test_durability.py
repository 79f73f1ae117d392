"""Nothing is lost: the agent SIGKILLed between write and send, or during a send; the
state dir's disk full."""

from __future__ import annotations

import errno
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from agent.outbox import Outbox, OutboxFullError
from agent.reporter import Reporter

REPO = Path(__file__).resolve().parents[2]

QUEUE_THEN_HANG = """
import sys, time
from agent.reporter import Reporter
r = Reporter()
rid = r.queue(findings=[{"path": "/data/p.csv", "classification": "phi",
                         "identifiers": {"mrn": 1}, "health": {"icd10": 1}}],
              events=[{"type": "finding_opened", "data": {"path": "/data/p.csv"}}])
print(rid, flush=True)
time.sleep(60)   # killed here: written, never sent
r.flush()
"""

FLUSH = """
from agent.reporter import Reporter
print("flushing", flush=True)
print(Reporter().flush(timeout=30), flush=True)
"""


def _agent(code: str) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-c", code],
        stdout=subprocess.PIPE,
        text=True,
        cwd=REPO,
        env=os.environ.copy(),
    )


def _wait_for(predicate, what: str, limit: float = 20.0) -> None:
    end = time.monotonic() + limit
    while time.monotonic() < end:
        if predicate():
            return
        time.sleep(0.05)
    raise AssertionError(f"gave up waiting for {what}")


def test_agent_killed_between_write_and_send_delivers_once_on_restart(enrolled):
    proc = _agent(QUEUE_THEN_HANG)
    rid = proc.stdout.readline().strip()
    proc.send_signal(signal.SIGKILL)
    proc.wait(10)
    proc.stdout.close()
    assert enrolled.requests("/api/v1/checkin") == []
    r = Reporter()  # the restarted agent
    assert r.outbox.report_ids() == [rid]
    assert r.flush() == {"sent": 1, "pending": 0, "error": None}
    assert r.flush()["sent"] == 0
    assert [s["report_id"] for s in enrolled.stored()] == [rid]


def test_agent_killed_while_the_server_stores_is_counted_once(enrolled):
    r = Reporter()
    rid = r.queue(events=[{"type": "scan_completed"}])
    enrolled.plan({"sleep": 2})  # the server holds the answer; the agent dies meanwhile
    proc = _agent(FLUSH)
    assert proc.stdout.readline().strip() == "flushing"
    _wait_for(lambda: enrolled.requests("/api/v1/checkin"), "the request to reach the server")
    proc.send_signal(signal.SIGKILL)
    proc.wait(10)
    proc.stdout.close()
    _wait_for(lambda: enrolled.stored(), "the server to store the report")
    assert r.outbox.report_ids() == [rid]  # never acknowledged to the agent: kept
    assert r.flush()["sent"] == 1  # resent; the server answers "duplicate"
    assert len(enrolled.requests("/api/v1/checkin")) == 2
    assert [s["report_id"] for s in enrolled.stored()] == [rid]


@pytest.fixture
def small_disk(tmp_path):
    """A 1 MiB tmpfs: a state dir that really fills up."""
    mnt = tmp_path / "small"
    mnt.mkdir()
    if os.geteuid() != 0:
        pytest.skip("mounting a tmpfs needs root; this machine's CI runs as root")
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=1m,mode=0700", "tmpfs", str(mnt)],
        capture_output=True,
        text=True,
    )
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.strip()}")
    try:
        yield mnt
    finally:
        subprocess.run(["umount", "-l", str(mnt)], check=False)


def _fill(path: Path) -> None:
    with open(path, "wb", buffering=0) as fh:
        for size in (65536, 4096, 512, 1):
            try:
                while True:
                    fh.write(b"\0" * size)
            except OSError as e:
                assert e.errno == errno.ENOSPC
        try:
            os.fsync(fh.fileno())
        except OSError:
            pass


def _finding(i: int) -> dict:
    return {
        "path": f"/home/a/export/patient_{i:05d}.csv",
        "classification": "phi",
        "identifiers": {"ssn": 1, "name": 2},
        "health": {"icd10": 3},
        "format": "csv",
        "bytes": 2048,
    }


def test_disk_full_is_a_clear_error_and_loses_nothing(
    fake_server, agent_home, small_disk, monkeypatch
):
    from agent.enroll import enroll
    from tests.transport.conftest import SECRET

    monkeypatch.setenv("PHIWATCH_HOME", str(small_disk))
    server = fake_server()
    enroll(server.url, SECRET, fingerprint=server.fingerprint)
    r = Reporter()
    first = r.queue(findings=[_finding(0)], findings_complete=True)
    _fill(small_disk / "filler")
    with pytest.raises(OutboxFullError) as e:
        r.queue(findings=[_finding(i) for i in range(1, 2000)])  # ~700 kB
    assert "no space left in the state dir" in str(e.value)
    assert "patient_" not in str(e.value)
    # What was queued before is intact, from a fresh connection too.
    assert Outbox(Path(small_disk) / "state" / "outbox.sqlite3").report_ids() == [first]
    (small_disk / "filler").unlink()
    second = r.queue(findings=[_finding(i) for i in range(1, 50)])
    assert r.flush() == {"sent": 2, "pending": 0, "error": None}
    assert [s["report_id"] for s in server.stored()] == [first, second]
    r.close()


RLIMIT_AGENT = """
import json, resource, signal, sys
from pathlib import Path
from agent.outbox import Outbox, OutboxFullError
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # EFBIG instead of being killed
box = Outbox(Path(sys.argv[1]))
first = box.put({"report_id": "r1", "findings": [{"finding_id": "f1"}], "events": []})
# Files may not grow past 64 KiB from here on: the state dir is "full".
resource.setrlimit(resource.RLIMIT_FSIZE, (65536, 65536))
try:
    box.put({"report_id": "r2", "findings": [{"finding_id": "x" * 64} for _ in range(3000)],
             "events": []})
    print(json.dumps({"raised": None}))
except OutboxFullError as e:
    print(json.dumps({"raised": str(e)}))
"""


def test_file_size_limit_is_a_clear_error_and_loses_nothing(tmp_path):
    """The same as the tmpfs test without root: RLIMIT_FSIZE makes writes fail (EFBIG)."""
    db = tmp_path / "outbox.sqlite3"
    done = subprocess.run(
        [sys.executable, "-c", RLIMIT_AGENT, str(db)],
        capture_output=True,
        text=True,
        cwd=REPO,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    raised = json.loads(done.stdout)["raised"]
    assert raised and "no space left in the state dir" in raised
    assert "reports already queued are kept" in raised
    box = Outbox(db)
    assert box.report_ids() == ["r1"]
    assert box.bodies()[0]["findings"] == [{"finding_id": "f1"}]
