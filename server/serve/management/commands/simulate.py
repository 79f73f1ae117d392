"""phiwatch-server simulate: a fleet of N simulated agents checking in over HTTPS."""

from __future__ import annotations

import json

from django.core.management.base import BaseCommand, CommandError

from server.enrollment.service import create_secret
from server.home import data_dir
from server.output import cli_actor
from server.serve import tls
from server.serve.simulate import simulate


class Command(BaseCommand):
    help = ("Enroll N simulated devices and check them in concurrently over real HTTPS; "
            "prints check-ins/s and p50/p95 latency (capacity planning).")

    def add_arguments(self, parser):
        parser.add_argument("--url", default="https://127.0.0.1:8443")
        parser.add_argument("--ca-cert", help="server certificate (default: this data dir's)")
        parser.add_argument("--secret", help="enrollment secret (default: a new one, uses=N)")
        parser.add_argument("--devices", type=int, default=200)
        parser.add_argument("--concurrency", type=int, default=16)
        parser.add_argument("--reports", type=int, default=3, help="check-ins per device")
        parser.add_argument("--phi-share", type=float, default=0.1)
        parser.add_argument("--seed", type=int, default=1)
        parser.add_argument("--format", choices=["table", "json"], default="table")

    def handle(self, *args, **o):
        if o["devices"] < 1 or o["concurrency"] < 1 or o["reports"] < 1:
            raise CommandError("--devices, --concurrency and --reports must be at least 1")
        ca = o["ca_cert"] or str(tls.paths(data_dir())[0])
        secret = o["secret"]
        if not secret:
            _, secret = create_secret(cli_actor(), uses=o["devices"], expires_days=1,
                                      note="simulate")
        result = simulate(o["url"].rstrip("/"), ca, secret, o["devices"], o["concurrency"],
                          o["reports"], o["phi_share"], o["seed"])
        if o["format"] == "json":
            self.stdout.write(json.dumps(result, indent=2))
            return
        self.stdout.write(
            f"enrolled {result['enrolled']}/{result['devices']} devices "
            f"({result['enroll_per_s']}/s)\n"
            f"check-ins: {result['checkins_ok']}/{result['checkins']} ok, "
            f"{result['checkins_per_s']} reports/s, p50 {result['p50_ms']} ms, "
            f"p95 {result['p95_ms']} ms, p99 {result['p99_ms']} ms "
            f"(concurrency {result['concurrency']}, {result['wall_s']} s)")
