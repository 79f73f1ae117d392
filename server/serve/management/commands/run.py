"""Migrate, make the TLS certificate on first start, and serve HTTPS with gunicorn."""

from __future__ import annotations

import os
import subprocess
import sys

from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.db import connections

from server.env import env_int
from server.home import data_dir
from server.serve import tls
from server.serve.gunicorn_app import ServerApp


def parse_bind(value: str) -> tuple[str, int]:
    host, sep, port = value.rpartition(":")
    if not sep or not port.isdigit() or not host:
        raise CommandError(f"--bind: expected HOST:PORT, got {value!r}")
    return host.strip("[]"), int(port)


class Command(BaseCommand):
    help = "Migrate and serve the API and console over HTTPS (default 127.0.0.1:8443)."

    def add_arguments(self, parser):
        parser.add_argument("--bind", default="127.0.0.1:8443", help="HOST:PORT")
        parser.add_argument("--workers", type=int, default=env_int("PHIWATCH_WORKERS",
                                                                   (os.cpu_count() or 1) * 2))
        parser.add_argument("--threads", type=int, default=env_int("PHIWATCH_THREADS", 4))
        parser.add_argument("--no-migrate", action="store_true",
                            help="skip migrate (several servers on one PostgreSQL: migrate once)")
        parser.add_argument("--sweep-every", type=float, default=900,
                            help="seconds between silent-device sweeps (0: none; use cron)")

    def handle(self, *args, bind, workers, threads, sweep_every, no_migrate, **opts):
        host, port = parse_bind(bind)
        home = data_dir()
        if no_migrate:
            call_command("check")
        else:
            call_command("migrate", interactive=False, verbosity=0)
        # Workers are forked after this: they must not share the master's connection.
        connections.close_all()
        cert, key = tls.ensure_certificate(home, [host])
        shown = f"[{host}]" if ":" in host else host
        self.stdout.write(f"phiwatch-server: https://{shown}:{port}/")
        self.stdout.write(f"certificate: {cert}")
        self.stdout.write(f"fingerprint SHA256: {tls.fingerprint(cert)}")
        self.stdout.flush()
        sys.stdout.flush()
        if sweep_every > 0:
            # A child process, so the sweep never runs inside a request worker; it exits
            # by itself when this process does.
            subprocess.Popen([sys.executable, "-m", "server", "sweep", "--every",
                              str(sweep_every)], stdout=subprocess.DEVNULL)
        ServerApp({
            "bind": f"{shown}:{port}",
            "workers": max(1, workers),
            "worker_class": "gthread",
            "threads": max(1, threads),
            "certfile": str(cert),
            "keyfile": str(key),
            "keepalive": 75,
            # Recycle workers now and then (staggered) so a slow leak cannot grow forever.
            "max_requests": 20000,
            "max_requests_jitter": 2000,
            "timeout": 60,
            "preload_app": True,
            "accesslog": None,  # access lines are not needed; no query strings in logs
            "errorlog": "-",
            "loglevel": "warning",
            "proc_name": "phiwatch-server",
        }).run()
