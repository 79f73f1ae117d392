"""A small labelled fleet written straight into the database, for console tests.

Shared by tests/server/console (Django test client) and tests/console (a real server
process in real Chromium, seeded through `python -m tests.server.console.seed`).
Everything the console shows comes from these rows, so tests can assert exact figures.
"""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

POSTURE_IDS = ["disk_encryption", "screen_lock", "auto_logoff", "removable_media", "firewall",
               "os_updates", "os_supported"]
HIPAA = {"disk_encryption": "164.312(a)(2)(iv)", "screen_lock": "164.310(c)",
         "auto_logoff": "164.312(a)(2)(iii)", "removable_media": "164.310(d)(1)",
         "firewall": "164.312(e)(1)", "os_updates": "164.308(a)(5)(ii)(B)",
         "os_supported": "164.308(a)(1)(ii)(B)"}
# A planted PHI value: a file named after a patient's SSN, stored in Finding.path (the
# server keeps full paths when policy report_paths == full). The console shows folders
# and keyed name hashes only, so it must never reach a page, an export or the audit log.
SECRET_VALUE = "123-45-6789"


def checks(**status: str) -> list[dict[str, Any]]:
    out = []
    for cid in POSTURE_IDS:
        s = status.get(cid, "pass")
        out.append({"id": cid, "status": s, "observed": "on" if s == "pass" else "off",
                    "policy": "on", "hipaa": HIPAA[cid],
                    "reason": "needs administrator" if s == "unknown" else None,
                    "fix": "Turn it on in Settings" if s == "fail" else None, "details": {}})
    return out


def make_device(hostname: str, *, os: str = "linux", state: str = "in_service",
                seen_days_ago: float | None = 0, status: dict[str, str] | None = None,
                phi_files: int = 0, serial: str | None = None, complete_scan: bool = True,
                now=None):
    from django.utils import timezone

    from server.checkins.models import PostureSnapshot, Report
    from server.devices.models import Device
    from server.findings.models import Finding

    now = now or timezone.now()
    status = status or {}
    cks = checks(**status)
    seen = None if seen_days_ago is None else now - timedelta(days=seen_days_ago)
    failing = sum(1 for c in cks if c["status"] == "fail")
    d = Device.objects.create(
        machine_id=f"mid-{hostname}", hostname=hostname, os=os,
        os_version={"linux": "12", "darwin": "14.5", "windows": "10.0.22631"}[os],
        hardware_serial=serial or f"SN-{hostname.upper()}", hardware_model="Latitude 7440",
        manufacturer="Dell", agent_version="0.1.0", lifecycle_state=state, last_seen=seen,
        posture={c["id"]: {"status": c["status"], "seconds": None} for c in cks} if seen else {},
        posture_checked_at=seen, posture_failing=failing if seen else 0,
        disk_encrypted={"pass": True, "fail": False}.get(status.get("disk_encryption", "pass")),
        phi_files=phi_files, phi_present=phi_files > 0,
        inventory={"hostname": hostname, "os": {"name": os,
                                                "distro": "debian" if os == "linux" else "",
                                                "version": "12" if os == "linux" else "",
                                                "kernel": "6.1.0-18-amd64"},
                   "users": ["alice"], "disks": [{"device": "/dev/nvme0n1p2", "mount": "/",
                   "fstype": "ext4", "size": 512110190592, "removable": False,
                   "encrypted": status.get("disk_encryption", "pass") == "pass"}]},
    )
    # enrolled_at is auto_now_add: put it before the history written below.
    Device.objects.filter(pk=d.pk).update(enrolled_at=now - timedelta(days=120))
    d.refresh_from_db()
    if seen is not None:
        rep = Report.objects.create(report_id=uuid.uuid4(), device=d, created_at=seen,
                                    findings_count=phi_files, findings_complete=complete_scan)
        Report.objects.filter(pk=rep.pk).update(received_at=seen)
        PostureSnapshot.objects.create(device=d, report=rep, checked_at=seen, checks=cks,
                                       failing=failing)
    for i in range(phi_files):
        f = Finding.objects.create(
            device=d, finding_id=f"{hostname}-{i:04d}".ljust(64, "0"), classification="phi",
            identifiers={"ssn": 3, "name": 5}, health={"icd10": 2}, format="csv", bytes=48213,
            folder="/home/alice/Downloads/export", name_hash=f"{i:064x}",
            path=f"/home/alice/Downloads/export/{SECRET_VALUE}-labs-{i}.csv",
            volume_mount="/", volume_encrypted=status.get("disk_encryption", "pass") == "pass",
            first_seen=seen, last_seen=seen)
        Finding.objects.filter(pk=f.pk).update(opened_at=(seen or now) - timedelta(hours=1))
    return d


def make_violation(device, rule: str, title: str, severity: str = "high",
                   hipaa: str = "164.312(a)(2)(iv)", status: str = "open"):
    from django.utils import timezone

    from server.violations.models import Violation

    v = Violation.objects.create(device=device, rule=rule, title=title, severity=severity,
                                 hipaa=hipaa, status=status, details={"files": 2},
                                 opened_at=timezone.now() - timedelta(hours=2))
    rank = ["", "low", "medium", "high", "critical"]
    device.open_violations += 1
    device.worst_severity = max(device.worst_severity, severity, key=rank.index)
    device.save(update_fields=["open_violations", "worst_severity"])
    return v


def seed_fleet() -> dict[str, Any]:
    """Five devices with known figures (see test_dashboard for the numbers)."""
    from django.utils import timezone

    from server.checkins.models import Event, Report

    ok = make_device("lap-ok-01")
    phi = make_device("lap-phi-02", os="darwin", status={"disk_encryption": "fail"},
                      phi_files=2)
    silent = make_device("lap-silent-03", os="windows", seen_days_ago=10,
                         status={"screen_lock": "fail", "auto_logoff": "unknown"})
    lost = make_device("lap-lost-04", state="lost", seen_days_ago=31)
    never = make_device("lap-new-05", seen_days_ago=None)
    rep = Report.objects.filter(device=phi).first()
    Event.objects.create(device=phi, report=rep, event_id=uuid.uuid4(), type="media_mounted",
                         at=timezone.now(), data={"vendor": "SanDisk", "model": "Ultra",
                                                  "serial": "4C53", "mount": "/Volumes/USB",
                                                  "size": 32000000000, "encrypted": False})
    v_phi = make_violation(phi, "phi_on_unencrypted_volume", "PHI on an unencrypted disk", "critical")
    v_enc = make_violation(phi, "disk_not_encrypted", "Disk not encrypted", "high")
    v_lock = make_violation(silent, "screen_lock", "Screen lock off", "medium", "164.310(c)")
    return {"ok": ok, "phi": phi, "silent": silent, "lost": lost, "never": never,
            "v_phi": v_phi, "v_enc": v_enc, "v_lock": v_lock}


def seed_trend(days: int = 90) -> None:
    """Daily fleet rows for the days before today, improving over time (charts have a
    shape to look at in the screenshots); today's row is the dashboard's to write."""
    import math

    from django.utils import timezone

    from server.console.models import DailyFleetStat

    today = timezone.now().date()
    for back in range(days - 1, 0, -1):
        t = 1 - back / days
        shares = {"disk_encryption": 0.6 + 0.3 * t, "screen_lock": 0.7 + 0.2 * t,
                  "auto_logoff": 0.5 + 0.25 * t + 0.03 * math.sin(back),
                  "no_phi": 0.8 + 0.15 * t, "checked_in": 0.9 + 0.05 * math.cos(back / 3)}
        DailyFleetStat.objects.create(
            day=today - timedelta(days=back), recorded_at=timezone.now(), devices=400,
            controls={k: {"pass": round(400 * v), "fail": 400 - round(400 * v),
                          "applicable": 400} for k, v in shares.items()},
            phi_devices=round(80 * (1 - t)) + 3,
            violations={"critical": round(10 * (1 - t)), "high": round(30 * (1 - t)) + 2})


def make_user(username: str, role: str, password: str = "correct horse battery 9"):
    from django.contrib.auth import get_user_model

    from server.accounts.roles import set_role

    user = get_user_model().objects.create_user(username=username, password=password)
    set_role(user, role)
    return user


if __name__ == "__main__":
    # `python -m tests.server.console.seed` with the server's environment: seeds its DB
    # and prints the ids the browser tests need, as JSON.
    import json
    import os

    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "server.settings")
    django.setup()
    fleet = seed_fleet()
    seed_trend()
    print(json.dumps({k: str(v.pk) for k, v in fleet.items()}))
