"""phiwatch-server sweep: open 'device silent' violations and close stale ones.

Run it periodically (cron / systemd timer, e.g. every 15 minutes).
"""

from __future__ import annotations

from django.core.management.base import BaseCommand

from server.violations.sweep import sweep


class Command(BaseCommand):
    help = "Re-evaluate silent devices, found-again devices and expired exceptions."

    def handle(self, *args, **opts):
        result = sweep()
        self.stdout.write(f"re-evaluated {result['devices_reevaluated']} device(s)")
