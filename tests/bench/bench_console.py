"""Console server time on a 100,000-device fleet with a year of history in PostgreSQL.

    .venv/bin/python tests/bench/bench_console.py [--devices 100000] [--keep] [--runs 15]

Builds a fresh database `phiwatch_bench` (or re-uses it with --keep), loads it with COPY,
then times the dashboard and the device list in-process through Django's test client
(the whole view: middleware, queries, template), median of --runs after warm-up. The
reference is a page that touches no table (the sign-in form), timed the same way, so the
figures read as "N ms, R x a plain request" on any machine.

History loaded per device: 12 monthly check-ins, each with a posture snapshot (a year),
finding episodes on the 3 % of devices that hold PHI (plus resolved ones on 10 %),
violations (open and resolved) for failing controls, and 365 daily fleet rows.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
DB = "phiwatch_bench_console"
PG_ADMIN = "postgresql://postgres@127.0.0.1:5432/postgres"

CHECKS = ["disk_encryption", "screen_lock", "auto_logoff", "removable_media", "firewall",
          "os_updates", "os_supported"]
PASS_RATE = {"disk_encryption": 0.93, "screen_lock": 0.9, "auto_logoff": 0.85,
             "removable_media": 0.97, "firewall": 0.9, "os_updates": 0.88, "os_supported": 0.95}
SEV = {"disk_encryption": "high", "screen_lock": "medium", "auto_logoff": "medium",
       "removable_media": "medium", "firewall": "low", "os_updates": "low",
       "os_supported": "low"}


def fresh_database() -> None:
    import psycopg

    with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{DB}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{DB}"')


def setup_django() -> None:
    os.environ["DATABASE_URL"] = f"postgres://postgres@127.0.0.1:5432/{DB}"
    os.environ.setdefault("PHIWATCH_SERVER_HOME", tempfile.mkdtemp(prefix="bench-console-"))
    os.environ["DJANGO_SETTINGS_MODULE"] = "server.settings"
    import django

    django.setup()


def copy(model, columns: list[str], rows) -> int:
    """COPY rows (tuples in `columns` order) into the model's table."""
    from django.db import connection
    from psycopg.types.json import Jsonb

    table = model._meta.db_table
    n = 0
    with connection.cursor() as c, c.cursor.copy(
            f'COPY "{table}" ({", ".join(columns)}) FROM STDIN') as cp:
        for row in rows:
            cp.write_row([Jsonb(v) if isinstance(v, dict | list) else v for v in row])
            n += 1
    return n


def seed(n_devices: int) -> None:
    from django.core.management import call_command
    from django.db import connection

    from server.checkins.models import PostureSnapshot, Report
    from server.console.models import DailyFleetStat
    from server.devices.models import Device
    from server.findings.models import Finding
    from server.violations.models import Violation

    call_command("migrate", verbosity=0)
    rnd = random.Random(7)
    now = datetime.now(UTC)
    t0 = time.perf_counter()
    devices = []
    for i in range(n_devices):
        os_ = rnd.choices(["darwin", "windows", "linux"], [50, 35, 15])[0]
        r = rnd.random()
        seen = (None if r < 0.01 else now - timedelta(days=rnd.uniform(30, 200)) if r < 0.03
                else now - timedelta(days=rnd.uniform(1, 30)) if r < 0.10
                else now - timedelta(minutes=rnd.uniform(0, 1440)))
        status = {c: ("pass" if rnd.random() < PASS_RATE[c] else rnd.choice(
            ["fail", "fail", "fail", "unknown"])) for c in CHECKS} if seen else {}
        phi = rnd.random() < 0.03
        fails = [c for c, s in status.items() if s == "fail"]
        state = rnd.choices(["in_service", "in_repair", "loaned", "lost", "retired",
                             "disposed"], [94, 2, 1, 0.5, 1.5, 1])[0]
        devices.append({
            "id": uuid.UUID(int=rnd.getrandbits(128)), "i": i, "os": os_, "seen": seen,
            "status": status, "phi": phi, "fails": fails, "state": state,
            "phi_files": rnd.randint(1, 40) if phi else 0,
        })
    cols = ["id", "machine_id", "hostname", "hardware_serial", "hardware_model", "manufacturer",
            "os", "os_version", "agent_version", "enrolled_at", "lifecycle_state", "last_seen",
            "last_report_id", "inventory", "posture", "posture_checked_at", "posture_failing",
            "disk_encrypted", "phi_files", "pii_files", "phi_present", "open_violations",
            "worst_severity", "outbox_depth", "outbox_dropped"]
    rank = ["", "low", "medium", "high", "critical"]

    def device_rows():
        for d in devices:
            sevs = [SEV[c] for c in d["fails"]] + (["critical"] if d["phi"] else [])
            yield (d["id"], f"mid-{d['i']:06d}", f"lap-{d['i']:06d}", f"SN{d['i']:08d}",
                   "MacBookPro18,3" if d["os"] == "darwin" else "Latitude 7440",
                   "Apple" if d["os"] == "darwin" else "Dell", d["os"], "14.5", "0.1.0",
                   now - timedelta(days=400), d["state"], d["seen"], None,
                   {"hostname": f"lap-{d['i']:06d}", "users": ["user"]},
                   {c: {"status": s, "seconds": None} for c, s in d["status"].items()},
                   d["seen"], len(d["fails"]),
                   {"pass": True, "fail": False}.get(d["status"].get("disk_encryption")),
                   d["phi_files"], 0, d["phi"], len(sevs),
                   max(sevs, key=rank.index) if sevs else "", 0, {})

    print(f"devices: {copy(Device, cols, device_rows())} rows", file=sys.stderr)

    report_ids: list[tuple] = []

    def report_rows():
        for d in devices:
            if d["seen"] is None:
                continue
            for m in range(12):
                at = d["seen"] - timedelta(days=30 * m)
                rid = uuid.UUID(int=rnd.getrandbits(128))
                report_ids.append((rid, d, at))
                yield (rid, d["id"], at, at, "0.1.0", 0, True, {})

    n = copy(Report, ["report_id", "device_id", "created_at", "received_at", "agent_version",
                      "findings_count", "findings_complete", "outbox"], report_rows())
    print(f"reports: {n} rows ({time.perf_counter() - t0:.0f} s)", file=sys.stderr)
    with connection.cursor() as c:
        c.execute(f'SELECT report_id, id FROM "{Report._meta.db_table}"')
        pk_of = dict(c.fetchall())

    def snapshot_rows():
        for rid, d, at in report_ids:
            checks = [{"id": c, "status": s, "hipaa": ""} for c, s in d["status"].items()]
            yield (d["id"], pk_of[rid], at, checks, len(d["fails"]))

    n = copy(PostureSnapshot, ["device_id", "report_id", "checked_at", "checks", "failing"],
             snapshot_rows())
    print(f"posture snapshots: {n} rows ({time.perf_counter() - t0:.0f} s)", file=sys.stderr)

    def finding_rows():
        for d in devices:
            if d["phi"]:
                for k in range(d["phi_files"]):
                    yield (d["id"], f"{d['i']:06d}{k:058d}", "phi", {"ssn": 3}, {"icd10": 2},
                           "csv", 1000, None, "/Users/u/Downloads", f"{k:064x}", "/", True,
                           False, None, d["seen"], d["seen"], d["seen"] or now, None, "")
            if d["i"] % 10 == 0:
                at = now - timedelta(days=rnd.uniform(30, 360))
                yield (d["id"], f"r{d['i']:06d}".ljust(64, "0"), "phi", {"mrn": 1},
                       {"icd10": 1}, "xlsx", 2000, None, "/Users/u/Desktop", "0" * 64, "/",
                       True, False, None, at, at, at, at + timedelta(days=2), "deleted")

    n = copy(Finding, ["device_id", "finding_id", "classification", "identifiers", "health",
                       "format", "bytes", "path", "folder", "name_hash", "volume_mount",
                       "volume_encrypted", "volume_removable", "volume_cloud", "first_seen",
                       "last_seen", "opened_at", "resolved_at", "resolved_reason"],
             finding_rows())
    print(f"findings: {n} rows", file=sys.stderr)

    def violation_rows():
        for d in devices:
            opened = (d["seen"] or now) - timedelta(days=rnd.uniform(0, 60))
            for c in d["fails"]:
                yield (d["id"], c, f"{c} failing", SEV[c], "164.310(c)",
                       rnd.choice(["open", "open", "acknowledged"]), {}, opened, None, opened, "")
            if d["phi"]:
                yield (d["id"], "phi_present", "PHI on workstation", "critical",
                       "164.310(d)(1)", "open", {"files": d["phi_files"]}, opened, None, opened, "")
            for k in range(2):  # resolved history: a year of closed episodes
                at = now - timedelta(days=rnd.uniform(60, 365))
                yield (d["id"], CHECKS[k], "old", "medium", "164.310(c)", "resolved", {}, at,
                       at + timedelta(days=3), at, "")

    n = copy(Violation, ["device_id", "rule", "title", "severity", "hipaa", "status",
                         "details", "opened_at", "resolved_at", "last_checked_at",
                         "exception_justification"],
             violation_rows())
    print(f"violations: {n} rows", file=sys.stderr)

    def day_rows():
        for back in range(365, 0, -1):
            yield ((now - timedelta(days=back)).date(), now, n_devices,
                   {c: {"pass": int(n_devices * PASS_RATE[c]), "fail": 1000,
                        "applicable": n_devices} for c in CHECKS}, 3000, {"high": 900})

    copy(DailyFleetStat, ["day", "recorded_at", "devices", "controls", "phi_devices",
                          "violations"], day_rows())
    with connection.cursor() as c:
        c.execute("VACUUM ANALYZE") if connection.get_autocommit() else c.execute("ANALYZE")
    print(f"seeded in {time.perf_counter() - t0:.0f} s", file=sys.stderr)


def timed(client, url: str, runs: int) -> tuple[float, float]:
    for _ in range(3):
        r = client.get(url)
        assert r.status_code == 200, (url, r.status_code)
    samples = []
    for _ in range(runs):
        t = time.perf_counter()
        r = client.get(url)
        samples.append((time.perf_counter() - t) * 1000)
        assert r.status_code == 200
    samples.sort()
    return statistics.median(samples), samples[int(len(samples) * 0.9) - 1]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--devices", type=int, default=100_000)
    ap.add_argument("--runs", type=int, default=15)
    ap.add_argument("--keep", action="store_true", help="re-use an already seeded database")
    args = ap.parse_args()
    if not args.keep:
        fresh_database()
    setup_django()
    if not args.keep:
        seed(args.devices)

    import time as _t

    from django.contrib.auth import get_user_model
    from django.db import connection
    from django.test import Client

    from server.accounts.guard import MFA, SEEN
    from server.accounts.roles import set_role
    from server.devices.models import Device

    user, _ = get_user_model().objects.get_or_create(username="bench-officer")
    set_role(user, "compliance_officer")
    client = Client()
    client.force_login(user)
    s = client.session
    s[MFA] = True
    s[SEEN] = _t.time()
    s.save()

    n = Device.objects.count()
    with connection.cursor() as c:
        c.execute("SELECT version()")
        pg = c.fetchone()[0].split(" on ")[0]
    print(f"fleet: {n} devices; {pg}")
    ref, _ = timed(client, "/accounts/login/", args.runs)
    print(f"{'page':58} {'median ms':>10} {'p90 ms':>8} {'x ref':>7}")
    print(f"{'reference: sign-in form (no table read)':58} {ref:10.1f} {'':>8} {1:7.1f}")
    cases = [
        ("dashboard", "/console/"),
        ("device list (default: last seen)", "/console/devices/"),
        ("device list, failing disk encryption", "/console/devices/?failing=disk_encryption"),
        ("device list, macOS + PHI present", "/console/devices/?os=darwin&phi=yes"),
        ("device list, search 'lap-0421'", "/console/devices/?q=lap-0421"),
        ("device list, sort by violations", "/console/devices/?sort=violations"),
        ("device list, page 1000", "/console/devices/?page=1000"),
        ("violations queue (live)", "/console/violations/"),
    ]
    phi_device = Device.objects.filter(phi_present=True).order_by("pk").values_list(
        "pk", flat=True).first()
    cases.append(("device page (PHI device, a year of history)",
                  f"/console/devices/{phi_device}/"))
    for label, url in cases:
        med, p90 = timed(client, url, args.runs)
        print(f"{label:58} {med:10.1f} {p90:8.1f} {med / ref:7.1f}")
    # Exports walk every device: timed once each, whole response consumed.
    past = (datetime.now(UTC) - timedelta(days=30)).date()
    for label, url in (("posture report CSV, every device", "/console/reports/posture.csv"),
                       ("posture report CSV, 30 days ago (from history)",
                        f"/console/reports/posture.csv?date={past}"),
                       ("attestation CSV, every device", "/console/reports/attestation.csv"),
                       ("posture report PDF", "/console/reports/posture.pdf")):
        t = time.perf_counter()
        r = client.get(url)
        size = len(b"".join(r.streaming_content)) if r.streaming else len(r.content)
        print(f"{label:58} {(time.perf_counter() - t) * 1000:10.0f}   ({size / 1e6:.1f} MB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
