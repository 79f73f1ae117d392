"""Record today's fleet figures for the dashboard's 90-day trend (run daily from cron).

    phiwatch-server console_snapshot [--format json]

The dashboard also records the day on its first view (and refreshes it hourly); this
command makes sure days nobody opened the console still have a point on the chart.
"""

from __future__ import annotations

import json

from django.core.management.base import BaseCommand

from server.console import fleet


class Command(BaseCommand):
    help = "Record today's fleet figures (control shares, PHI devices, violations)."

    def add_arguments(self, parser):
        parser.add_argument("--format", choices=["text", "json"], default="text")

    def handle(self, *args, **opts):
        counts = fleet.control_counts()
        violations = fleet.violations_by_severity()
        stat = fleet.record_day(counts, violations)
        if opts["format"] == "json":
            self.stdout.write(json.dumps({"day": str(stat.day), "devices": stat.devices,
                                          "phi_devices": stat.phi_devices,
                                          "controls": stat.controls,
                                          "violations": stat.violations}))
        else:
            self.stdout.write(f"recorded {stat.day}: {stat.devices} active devices, "
                              f"{stat.phi_devices} holding PHI, "
                              f"{sum(violations.values())} open violations")
