"""Fleet simulator: enroll N devices and check them in concurrently over real HTTPS.

For capacity planning: reports/s and latency percentiles of a realistic check-in
(inventory on the first report, seven posture verdicts, findings on some devices).
Each worker thread keeps one HTTPS connection alive, as a real agent does.
"""

from __future__ import annotations

import http.client
import json
import queue
import random
import ssl
import statistics
import threading
import time
import uuid
from datetime import UTC, datetime
from urllib.parse import urlsplit

CHECK_IDS = ["disk_encryption", "screen_lock", "auto_logoff", "removable_media", "firewall",
             "os_updates", "os_supported"]


def _now() -> str:
    return datetime.now(UTC).isoformat()


class Conn:
    """One keep-alive HTTPS connection; reconnects once on a dropped connection."""

    def __init__(self, url: str, ctx: ssl.SSLContext):
        u = urlsplit(url)
        self.host, self.port, self.ctx = u.hostname, u.port or 443, ctx
        self.conn = None

    def post(self, path: str, body: dict, token: str | None = None) -> tuple[int, dict]:
        data = json.dumps(body).encode()
        headers = {"Content-Type": "application/json"}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        for attempt in range(2):
            if self.conn is None:
                self.conn = http.client.HTTPSConnection(self.host, self.port, context=self.ctx,
                                                        timeout=60)
            try:
                self.conn.request("POST", path, body=data, headers=headers)
                resp = self.conn.getresponse()
                payload = resp.read()
                return resp.status, json.loads(payload) if payload else {}
            except (http.client.HTTPException, ConnectionError, OSError):
                self.conn.close()
                self.conn = None
                if attempt:
                    raise
        raise AssertionError("unreachable")


def make_report(rng: random.Random, device_id: str, n: int, has_phi: bool) -> dict:
    checks = []
    for cid in CHECK_IDS:
        status = "fail" if rng.random() < 0.05 else "pass"
        checks.append({"id": cid, "status": status, "observed": "simulated", "policy": "policy",
                       "hipaa": "164.310(c)", "reason": None, "fix": None, "details": {}})
    findings = None
    if has_phi:
        findings = [{
            "finding_id": f"{i:064x}",
            "folder": "/home/sim/data", "name_hash": f"{i + 7:064x}", "path": None,
            "classification": "phi", "identifiers": {"ssn": 3, "mrn": 2}, "health": {"icd10": 4},
            "format": "csv", "bytes": 20480, "volume": {"mount": "/", "encrypted": True,
                                                        "removable": False, "cloud": None},
            "first_seen": _now(), "last_seen": _now()} for i in range(1, 4)]
    report = {
        "report_id": str(uuid.uuid4()), "device_id": device_id, "created_at": _now(),
        "agent_version": "0.1.0", "inventory": None,
        "posture": {"checked_at": _now(), "checks": checks},
        "findings": findings, "findings_complete": findings is not None,
        "events": [], "outbox": {"depth": 0, "dropped": {}},
    }
    if n == 0:
        report["inventory"] = {
            "hostname": f"sim-{device_id[:8]}", "machine_id": device_id,
            "hardware_serial": f"SIM{device_id[:8]}", "hardware_model": "Sim 1",
            "manufacturer": "phiwatch", "os": {"name": "linux", "distro": "debian",
                                               "version": "12", "kernel": "6.1"},
            "users": ["sim"], "disks": [{"device": "/dev/nvme0n1p2", "mount": "/",
                                         "fstype": "ext4", "size": 512 * 2**30,
                                         "removable": False, "encrypted": True}],
            "interfaces": [], "boot_time": _now(), "agent_version": "0.1.0"}
        report["events"] = [{"event_id": str(uuid.uuid4()), "type": "agent_started",
                             "at": _now(), "data": {}}]
    return report


def _pct(sorted_ms: list[float], p: float) -> float:
    if not sorted_ms:
        return 0.0
    return sorted_ms[min(len(sorted_ms) - 1, int(round(p / 100 * (len(sorted_ms) - 1))))]


def _run_pool(url, ctx, jobs: queue.Queue, concurrency: int, fn) -> tuple[list[float], dict, float]:
    latencies: list[float] = []
    statuses: dict[int | str, int] = {}
    lock = threading.Lock()

    def worker():
        conn = Conn(url, ctx)
        mine, seen = [], {}
        while True:
            try:
                job = jobs.get_nowait()
            except queue.Empty:
                break
            t0 = time.perf_counter()
            try:
                status = fn(conn, job)
            except OSError as e:
                status = type(e).__name__
            mine.append((time.perf_counter() - t0) * 1000)
            seen[status] = seen.get(status, 0) + 1
        with lock:
            latencies.extend(mine)
            for k, v in seen.items():
                statuses[k] = statuses.get(k, 0) + v

    threads = [threading.Thread(target=worker) for _ in range(concurrency)]
    t0 = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return sorted(latencies), statuses, time.perf_counter() - t0


def simulate(url: str, ca_cert: str, secret: str, devices: int, concurrency: int,
             reports: int = 1, phi_share: float = 0.1, seed: int = 1,
             on_phase=None) -> dict:
    """Enroll ``devices`` devices, then send ``reports`` check-ins each; return figures.

    ``on_phase(name)`` is called with "checkins" before and "done" after the check-ins
    (the benchmark reads CPU counters there).
    """
    ctx = ssl.create_default_context(cafile=ca_cert)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    rng = random.Random(seed)
    enrolled: list[tuple[str, str, bool]] = []
    lock = threading.Lock()

    def do_enroll(conn: Conn, i: int):
        status, out = conn.post("/api/v1/enroll", {
            "secret": secret, "hostname": f"sim-{i}", "machine_id": f"sim-{seed}-{i}",
            "hardware_serial": f"SIM{i}", "os": "linux", "os_version": "12",
            "agent_version": "0.1.0"})
        if status == 201:
            with lock:
                enrolled.append((out["device_id"], out["token"], rng.random() < phi_share))
        return status

    jobs: queue.Queue = queue.Queue()
    for i in range(devices):
        jobs.put(i)
    e_lat, e_status, e_wall = _run_pool(url, ctx, jobs, concurrency, do_enroll)

    # Round-robin over devices, as a fleet reporting on a schedule does.
    for n in range(reports):
        for device_id, token, has_phi in enrolled:
            jobs.put((device_id, token, has_phi, n))

    def do_checkin(conn: Conn, job):
        device_id, token, has_phi, n = job
        # Seeded by device: a device keeps its posture from report to report, as real ones do.
        body = make_report(random.Random(device_id), device_id, n, has_phi)
        return conn.post("/api/v1/checkin", body, token)[0]

    if on_phase:
        on_phase("checkins")
    c_lat, c_status, c_wall = _run_pool(url, ctx, jobs, concurrency, do_checkin)
    if on_phase:
        on_phase("done")
    ok = c_status.get(200, 0)
    return {
        "devices": devices, "enrolled": len(enrolled), "concurrency": concurrency,
        "enroll_per_s": round(len(e_lat) / e_wall, 1) if e_wall else 0.0,
        "enroll_statuses": {str(k): v for k, v in e_status.items()},
        "checkins": len(c_lat), "checkins_ok": ok,
        "checkin_statuses": {str(k): v for k, v in c_status.items()},
        "checkins_per_s": round(len(c_lat) / c_wall, 1) if c_wall else 0.0,
        "p50_ms": round(_pct(c_lat, 50), 1), "p95_ms": round(_pct(c_lat, 95), 1),
        "p99_ms": round(_pct(c_lat, 99), 1),
        "mean_ms": round(statistics.fmean(c_lat), 1) if c_lat else 0.0,
        "wall_s": round(c_wall, 2),
    }
