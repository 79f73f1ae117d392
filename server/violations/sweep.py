"""The periodic sweep: devices that went silent, and violations whose cause went away
without a check-in (a lost device found again, an expired exception)."""

from __future__ import annotations

from datetime import timedelta

from django.db.models import Q
from django.utils import timezone

from server.devices.models import GONE_STATES, Device
from server.policy.effective import effective
from server.violations.engine import reevaluate
from server.violations.models import Violation


def sweep() -> dict[str, int]:
    policy, _ = effective()
    now = timezone.now()
    cutoff = now - timedelta(seconds=float(policy.get("silent_after_seconds", 259200)))
    silent_open = Violation.objects.filter(rule="device_silent", resolved_at__isnull=True)
    # Served by device_last_seen: silent devices without an open silent violation.
    newly_silent = (
        Device.objects.filter(Q(last_seen__lt=cutoff) | Q(last_seen__isnull=True,
                                                          enrolled_at__lt=cutoff))
        .exclude(id__in=silent_open.values("device_id"))
        .values_list("id", flat=True)
    )
    back = Device.objects.filter(last_seen__gte=cutoff, id__in=silent_open.values("device_id"))
    found_again = Violation.objects.filter(rule="gone_device_checked_in", resolved_at__isnull=True
                                           ).exclude(device__lifecycle_state__in=GONE_STATES)
    expired = Violation.objects.filter(status="excepted", exception_until__lte=now,
                                       resolved_at__isnull=True)
    ids = set(newly_silent) | set(back.values_list("id", flat=True))
    ids |= set(found_again.values_list("device_id", flat=True))
    ids |= set(expired.values_list("device_id", flat=True))
    for device_id in ids:
        reevaluate(device_id, policy=policy)
    return {"devices_reevaluated": len(ids)}
