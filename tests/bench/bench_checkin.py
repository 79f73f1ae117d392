"""Check-in throughput over real HTTPS: `phiwatch-server run` + the fleet simulator.

Run by hand:  .venv/bin/python tests/bench/bench_checkin.py [--db sqlite|postgres|both]
              [--devices 1000] [--concurrency 32] [--reports 5] [--workers 4] [--threads 4]

For each database: start a real server (gunicorn, TLS) on a fresh database, enroll N
devices and send R check-ins each from C keep-alive HTTPS connections; then, as the
reference in the same session, the same number of plain authenticated requests
(GET /api/v1/policy: token look-up, no writes). Prints reports/s, p50/p95 and the ratio.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from server.serve.simulate import Conn, _pct, _run_pool, simulate  # noqa: E402
from tests.server.conftest import start_server, stop_server  # noqa: E402


def plain_requests(url: str, cert: str, token: str, n: int, concurrency: int) -> dict:
    import queue
    import ssl

    ctx = ssl.create_default_context(cafile=cert)
    jobs: queue.Queue = queue.Queue()
    for i in range(n):
        jobs.put(i)

    def get(conn: Conn, _):
        if conn.conn is None:
            import http.client

            conn.conn = http.client.HTTPSConnection(conn.host, conn.port, context=conn.ctx)
        conn.conn.request("GET", "/api/v1/policy", headers={"Authorization": f"Bearer {token}"})
        r = conn.conn.getresponse()
        r.read()
        return r.status

    lat, statuses, wall = _run_pool(url, ctx, jobs, concurrency, get)
    return {"requests": n, "per_s": round(n / wall, 1), "p50_ms": round(_pct(lat, 50), 1),
            "p95_ms": round(_pct(lat, 95), 1), "statuses": {str(k): v for k, v in statuses.items()}}


def server_cpu_seconds(server, db_name: str | None) -> tuple[float, float]:
    """CPU time of the server's gunicorn processes plus, with PostgreSQL, the backends
    serving its database (their process title names the database)."""
    import psutil

    total = db = 0.0
    master = psutil.Process(server.proc.pid)
    for p in [master, *master.children(recursive=True)]:
        t = p.cpu_times()
        total += t.user + t.system
    if db_name:
        for p in psutil.process_iter(["cmdline"]):
            try:
                if db_name in " ".join(p.info["cmdline"] or []):
                    t = p.cpu_times()
                    db += t.user + t.system
            except psutil.Error:
                pass
    return total, db


def bench(postgres: bool, a) -> dict:
    with tempfile.TemporaryDirectory() as home:
        server = start_server(Path(home), workers=a.workers, threads=a.threads, postgres=postgres)
        db_name = server.env["DATABASE_URL"].rsplit("/", 1)[1] if postgres else None
        cpu: dict[str, tuple[float, float]] = {}

        def on_phase(name: str) -> None:
            cpu[name] = server_cpu_seconds(server, db_name)

        try:
            secret = server.new_secret("--uses", str(a.devices + 1))
            result = simulate(server.url, str(server.cert), secret, a.devices, a.concurrency,
                              a.reports, on_phase=on_phase)
            # Server-side CPU per check-in, and what it implies for 2 otherwise idle cores:
            # a projection that holds when other jobs share the machine (they do in CI).
            n = max(1, result["checkins"])
            app_ms = (cpu["done"][0] - cpu["checkins"][0]) * 1000 / n
            db_ms = (cpu["done"][1] - cpu["checkins"][1]) * 1000 / n
            cpu_ms = app_ms + db_ms
            result["server_cpu_ms_per_checkin"] = round(cpu_ms, 2)
            result["app_cpu_ms_per_checkin"] = round(app_ms, 2)
            result["db_cpu_ms_per_checkin"] = round(db_ms, 2)
            result["projected_per_s_on_2_idle_cores"] = round(2000 / cpu_ms, 0) if cpu_ms else 0
            import requests

            token = requests.post(server.url + "/api/v1/enroll", verify=str(server.cert), json={
                "secret": secret, "hostname": "ref", "machine_id": "bench-ref",
                "os": "linux"}).json()["token"]
            ref = plain_requests(server.url, str(server.cert), token, result["checkins"],
                                 a.concurrency)
        finally:
            stop_server(server)
    result["reference_plain_get"] = ref
    result["ratio_to_plain"] = round(result["checkins_per_s"] / ref["per_s"], 2)
    return result


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--db", choices=["sqlite", "postgres", "both"], default="both")
    p.add_argument("--devices", type=int, default=1000)
    p.add_argument("--concurrency", type=int, default=32)
    p.add_argument("--reports", type=int, default=5)
    p.add_argument("--workers", type=int, default=4)
    p.add_argument("--threads", type=int, default=4)
    a = p.parse_args()
    dbs = ["sqlite", "postgres"] if a.db == "both" else [a.db]
    for db in dbs:
        r = bench(db == "postgres", a)
        print(f"== {db}: {r['checkins_ok']}/{r['checkins']} check-ins ok, "
              f"{r['checkins_per_s']} reports/s, p50 {r['p50_ms']} ms, p95 {r['p95_ms']} ms; "
              f"enroll {r['enroll_per_s']}/s; plain GET {r['reference_plain_get']['per_s']}/s "
              f"(check-in/plain = {r['ratio_to_plain']}); server+db CPU "
              f"{r['server_cpu_ms_per_checkin']} ms/check-in -> "
              f"~{r['projected_per_s_on_2_idle_cores']}/s on 2 idle cores")
        print(json.dumps(r, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
