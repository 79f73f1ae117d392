"""Fleet-summary query at 100,000 devices, SQLite and PostgreSQL.

Run by hand:  .venv/bin/python tests/bench/bench_fleet_query.py [--db sqlite|postgres|both]
              [--devices 100000] [--runs 15]

Seeds a fresh database with N devices (bulk_create, realistic spread of posture, PHI,
violations, lifecycle states and last-seen times), then times
server.devices.summary.fleet_summary() (median and max of --runs, after one warm-up),
with `SELECT count(*)` over the same table as the reference in the same session.
Target: fleet summary < 200 ms at 100,000 devices.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PG_ADMIN = "postgresql://postgres@127.0.0.1:5432/postgres"
PG_DB = "phiwatch_bench_fleet"


def seed(n: int) -> None:
    from django.utils import timezone

    from server.devices.models import Device

    rng = random.Random(7)
    now = timezone.now()
    checks = ["disk_encryption", "screen_lock", "auto_logoff", "removable_media", "firewall",
              "os_updates", "os_supported"]
    batch = []
    for i in range(n):
        posture = {c: {"status": "fail" if rng.random() < 0.04 else "pass", "seconds": None}
                   for c in checks}
        phi = rng.random() < 0.05
        failing = sum(1 for v in posture.values() if v["status"] == "fail")
        sev = "critical" if phi and rng.random() < 0.3 else ("high" if failing else "")
        state = rng.choices(["in_service", "in_repair", "loaned", "lost", "retired"],
                            [0.95, 0.02, 0.015, 0.005, 0.01])[0]
        batch.append(Device(
            id=uuid.UUID(int=rng.getrandbits(128)), machine_id=f"bench-{i}",
            hostname=f"lap-{i:06d}", hardware_serial=f"SER{i:08d}", os=rng.choice(
                ["linux", "darwin", "windows"]), agent_version="0.1.0",
            lifecycle_state=state,
            last_seen=None if rng.random() < 0.01 else now - timedelta(
                seconds=rng.expovariate(1 / 3600) if rng.random() < 0.97 else 5 * 86400),
            posture=posture, posture_failing=failing,
            disk_encrypted=posture["disk_encryption"]["status"] == "pass",
            phi_files=rng.randint(1, 20) if phi else 0, phi_present=phi,
            pii_files=rng.randint(0, 5), open_violations=(1 if sev else 0) + failing,
            worst_severity=sev,
        ))
        if len(batch) == 5000:
            Device.objects.bulk_create(batch)
            batch = []
    if batch:
        Device.objects.bulk_create(batch)


def child(n: int, runs: int) -> dict:
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection
    from django.utils import timezone

    from server.devices.models import Device
    from server.devices.summary import fleet_summary

    call_command("migrate", verbosity=0)
    t0 = time.perf_counter()
    seed(n)
    seed_s = time.perf_counter() - t0
    with connection.cursor() as c:
        c.execute("ANALYZE")  # planner statistics, as autovacuum would have them

    def timed(fn) -> list[float]:
        fn()  # warm-up
        out = []
        for _ in range(runs):
            t = time.perf_counter()
            fn()
            out.append((time.perf_counter() - t) * 1000)
        return out

    summary = fleet_summary(timezone.now(), 259200)
    ms = timed(lambda: fleet_summary(timezone.now(), 259200))
    ref = timed(lambda: Device.objects.count())
    return {"vendor": connection.vendor, "devices": Device.objects.count(),
            "seed_s": round(seed_s, 1), "summary": summary,
            "fleet_summary_ms_median": round(statistics.median(ms), 1),
            "fleet_summary_ms_max": round(max(ms), 1),
            "count_star_ms_median": round(statistics.median(ref), 1),
            "ratio_to_count_star": round(statistics.median(ms) / statistics.median(ref), 2)}


def run_db(db: str, n: int, runs: int) -> dict:
    with tempfile.TemporaryDirectory() as home:
        env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL",
                                                                "PHIWATCH_TEST_DB")}
        env.update(PHIWATCH_SERVER_HOME=home, DJANGO_SETTINGS_MODULE="server.settings")
        if db == "postgres":
            import psycopg

            with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{PG_DB}" WITH (FORCE)')
                conn.execute(f'CREATE DATABASE "{PG_DB}"')
            env["DATABASE_URL"] = f"postgres://postgres@127.0.0.1:5432/{PG_DB}"
        try:
            out = subprocess.run([sys.executable, __file__, "--child", "--devices", str(n),
                                  "--runs", str(runs)], env=env, cwd=ROOT, check=True,
                                 capture_output=True, text=True)
        finally:
            if db == "postgres":
                with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
                    conn.execute(f'DROP DATABASE IF EXISTS "{PG_DB}" WITH (FORCE)')
        return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--db", choices=["sqlite", "postgres", "both"], default="both")
    p.add_argument("--devices", type=int, default=100_000)
    p.add_argument("--runs", type=int, default=15)
    p.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    a = p.parse_args()
    if a.child:
        sys.path.insert(0, str(ROOT))
        print(json.dumps(child(a.devices, a.runs)))
        return 0
    for db in (["sqlite", "postgres"] if a.db == "both" else [a.db]):
        r = run_db(db, a.devices, a.runs)
        print(f"== {db}: {r['devices']} devices, fleet summary median "
              f"{r['fleet_summary_ms_median']} ms (max {r['fleet_summary_ms_max']} ms); "
              f"count(*) {r['count_star_ms_median']} ms; ratio {r['ratio_to_count_star']}")
        print(json.dumps(r, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
