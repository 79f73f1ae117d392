"""phiwatch-server sweep [--every SECONDS]: open 'device silent' violations and close
stale ones. `phiwatch-server run` starts it with --every; or run it from cron."""

from __future__ import annotations

import os
import time

from django.core.management.base import BaseCommand
from django.db import close_old_connections

from server.violations.sweep import sweep


class Command(BaseCommand):
    help = "Re-evaluate silent devices, found-again devices and expired exceptions."

    def add_arguments(self, parser):
        parser.add_argument("--every", type=float, default=0,
                            help="repeat every SECONDS until the parent process exits")

    def handle(self, *args, every, **opts):
        parent = os.getppid()
        while True:
            result = sweep()
            if not every:
                self.stdout.write(f"re-evaluated {result['devices_reevaluated']} device(s)")
                return
            close_old_connections()
            # Sleep in short steps and stop when `run` (our parent) is gone: no orphan.
            deadline = time.monotonic() + every
            while time.monotonic() < deadline:
                if os.getppid() != parent:
                    return
                time.sleep(min(1.0, every))
