"""Outbox throughput and the agent's added memory.

    .venv/bin/python tests/bench/bench_outbox.py [--reports 500] [--findings 20]

Measures, in one process against the HTTPS stand-in server (tests/transport/fakeserver.py,
a real TLS subprocess on 127.0.0.1):
- queued/s: Reporter.queue() of a typical report (posture with 7 checks + N findings +
  2 events), each fsync'd before it returns;
- drained/s: Reporter.flush() until empty, over pinned HTTPS, one report per request;
- reference: the same bodies POSTed with a bare requests.Session verifying with the test
  CA (no outbox, no SQLite, requests' defaults) in the same process, interleaved in
  chunks with the drain, so "reference / drain" says what durability costs;
- the process's RSS before importing the agent and after queue + drain (added RSS).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

import psutil

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))


def rss_mb() -> float:
    return psutil.Process().memory_info().rss / 1e6


CHECKS = [
    {
        "id": c,
        "status": "pass",
        "observed": "ok",
        "policy": "on",
        "hipaa": "164.312(a)(2)(iv)",
        "reason": None,
        "fix": None,
        "details": {},
    }
    for c in (
        "disk_encryption",
        "screen_lock",
        "auto_logoff",
        "removable_media",
        "firewall",
        "os_updates",
        "os_supported",
    )
]


def findings(n: int, seed: int) -> list[dict]:
    return [
        {
            "path": f"/home/a/data/export_{seed}_{i}.csv",
            "classification": "phi",
            "identifiers": {"ssn": 3, "name": 5},
            "health": {"icd10": 2},
            "format": "csv",
            "bytes": 12345,
            "volume": {"mount": "/", "encrypted": False, "removable": False, "cloud": None},
        }
        for i in range(n)
    ]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--reports", type=int, default=300)
    ap.add_argument("--findings", type=int, default=20)
    a = ap.parse_args()

    import requests

    from tests.transport.certs import make_certs
    from tests.transport.conftest import SECRET, FakeServer

    work = Path(tempfile.mkdtemp(prefix="bench-outbox-"))
    os.environ.update(
        PHIWATCH_HOME=str(work / "agent"),
        PHIWATCH_KEYRING="0",
        PHIWATCH_MANAGED_CONFIG=str(work / "none.toml"),
        PHIWATCH_MACHINE_ID="bench",
    )
    certs = make_certs(work)
    server = FakeServer(work / "server", certs).start()
    # Baseline after the bench's own imports (requests, cryptography for the test certs).
    base_rss = rss_mb()
    from agent.enroll import enroll
    from agent.reporter import Reporter

    try:
        enroll(server.url, SECRET, fingerprint=server.fingerprint)
        r = Reporter()
        posture = {"checked_at": "2026-11-28T14:00:00Z", "checks": CHECKS}
        token = (work / "agent" / "state" / "device-token").read_text()
        device_id = r.status()["device_id"]
        s = requests.Session()
        queued_s = drained_s = ref_s = 0.0
        sizes = []
        # Interleaved in chunks, so load from other processes falls on all three alike.
        chunk = 25
        for start in range(0, a.reports, chunk):
            n = min(chunk, a.reports - start)
            t0 = time.perf_counter()
            for i in range(start, start + n):
                r.queue(
                    posture=posture,
                    findings=findings(a.findings, i),
                    findings_complete=True,
                    events=[{"type": "scan_completed"}, {"type": "agent_started"}],
                )
            queued_s += time.perf_counter() - t0
            bodies = r.outbox.bodies()
            sizes += [len(json.dumps(b)) for b in bodies]
            t0 = time.perf_counter()
            res = r.flush(timeout=3600)
            drained_s += time.perf_counter() - t0
            assert res["pending"] == 0 and res["sent"] == n, res
            # Reference: the same bodies, a bare session, fresh ids (no duplicates).
            t0 = time.perf_counter()
            for b in bodies:
                b["report_id"] = "ref-" + b["report_id"]
                b["device_id"] = device_id
                resp = s.post(
                    server.url + "/api/v1/checkin",
                    json=b,
                    verify=str(certs["ca"].cert),
                    headers={"Authorization": f"Bearer {token}"},
                    timeout=30,
                )
                assert resp.status_code == 200
            ref_s += time.perf_counter() - t0
        after_rss = rss_mb()
        size = sum(sizes) / len(sizes)
        stored = len(server.stored())
        assert stored == 2 * a.reports, stored
    finally:
        server.stop()
    print(f"reports: {a.reports} x {a.findings} findings, {size / 1024:.1f} KiB each")
    print(f"queued:  {a.reports / queued_s:8.1f} reports/s (fsync'd)")
    print(f"drained: {a.reports / drained_s:8.1f} reports/s over pinned HTTPS")
    print(f"reference (bare requests POST, same server): {a.reports / ref_s:8.1f} reports/s")
    print(f"drain time / reference time: {drained_s / ref_s:.2f}")
    print(
        f"RSS: {base_rss:.1f} MB before the agent's modules, {after_rss:.1f} MB after; "
        f"added {after_rss - base_rss:.1f} MB"
    )


if __name__ == "__main__":
    import warnings

    warnings.filterwarnings("ignore", message="Unverified HTTPS request")
    main()
