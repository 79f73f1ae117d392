"""One row per day of fleet figures: the 90-day trend charts read these, not history.

Recomputing a past day from 100,000 devices' posture history on every dashboard view
would cost seconds; the day's figures are recorded once (by the dashboard when today's
row is missing or stale, and by `phiwatch-server console_snapshot` from cron) and the
chart reads at most 90 small rows.
"""

from __future__ import annotations

from django.db import models


class DailyFleetStat(models.Model):
    day = models.DateField(unique=True)  # unique: the trend query's range scan
    recorded_at = models.DateTimeField()
    devices = models.PositiveIntegerField(default=0)
    # {control_id: {"pass": n, "fail": n, "applicable": n}}
    controls = models.JSONField(default=dict)
    phi_devices = models.PositiveIntegerField(default=0)
    # {severity: n} of unresolved, unexcepted violations
    violations = models.JSONField(default=dict)

    def share(self, control_id: str) -> float | None:
        c = self.controls.get(control_id) or {}
        return c["pass"] / c["applicable"] if c.get("applicable") else None
