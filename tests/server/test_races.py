"""Concurrent deliveries of one report store it once: real threads against a real
server process (file SQLite in WAL mode, or PostgreSQL)."""

from __future__ import annotations

import json
import threading
import uuid

import requests

from tests.server.conftest import check, finding, now


def test_racing_retries_of_one_report_store_it_once(https_server):
    api, verify = https_server.url + "/api/v1", str(https_server.cert)
    enrolled = requests.post(api + "/enroll", verify=verify, json={
        "secret": https_server.new_secret(), "hostname": "race", "os": "linux",
        "machine_id": str(uuid.uuid4())}).json()
    body = {"report_id": str(uuid.uuid4()), "device_id": enrolled["device_id"],
            "created_at": now(), "posture": {"checked_at": now(),
                                             "checks": [check("disk_encryption", "fail")]},
            "findings": [finding(1, encrypted=False), finding(2)], "findings_complete": True,
            "events": []}
    headers = {"Authorization": f"Bearer {enrolled['token']}"}
    statuses: list[str] = []
    barrier = threading.Barrier(6)

    def deliver():
        barrier.wait()
        r = requests.post(api + "/checkin", json=body, headers=headers, verify=verify)
        statuses.append(r.json().get("status", str(r.status_code)))

    threads = [threading.Thread(target=deliver) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(statuses) == ["duplicate"] * 5 + ["stored"]
    devices = json.loads(https_server.cli("devices", "--format", "json").stdout)
    (mine,) = [d for d in devices if d["id"] == enrolled["device_id"]]
    assert (mine["phi_files"], mine["open_violations"]) == (2, 3)
