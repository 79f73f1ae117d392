"""The fleet summary: one aggregate over the devices table (latest state only).

At 100,000 devices this is a single sequential scan of one narrow table with
conditional counts: no join, no history (tests/bench/bench_fleet_query.py).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db.models import Count, Q

from server.devices.models import GONE_STATES, Device


def fleet_summary(now: datetime, silent_after_seconds: float) -> dict[str, int]:
    cutoff = now - timedelta(seconds=silent_after_seconds)
    active = ~Q(lifecycle_state__in=GONE_STATES + ("retired", "sanitized"))
    return Device.objects.aggregate(
        total=Count("id"),
        active=Count("id", filter=active),
        phi_present=Count("id", filter=Q(phi_present=True)),
        disk_unencrypted=Count("id", filter=Q(disk_encrypted=False)),
        disk_unknown=Count("id", filter=Q(disk_encrypted__isnull=True)),
        posture_failing=Count("id", filter=Q(posture_failing__gt=0)),
        silent=Count("id", filter=active & (Q(last_seen__lt=cutoff) | Q(last_seen__isnull=True))),
        with_violations=Count("id", filter=Q(open_violations__gt=0)),
        critical=Count("id", filter=Q(worst_severity="critical")),
        high=Count("id", filter=Q(worst_severity="high")),
        lost_or_stolen=Count("id", filter=Q(lifecycle_state__in=("lost", "stolen"))),
    )
