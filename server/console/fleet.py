"""Fleet figures from the denormalised latest-state columns of Device.

One aggregate query over devices (FILTERed counts, no join) answers every share on the
dashboard; violations by severity is one GROUP BY on the queue index.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

from django.db import transaction
from django.db.models import Count, Q
from django.utils import timezone

from server.console import policy
from server.console.controls import ACTIVE_STATES, CONTROLS, POSTURE_IDS, SEVERITIES
from server.console.models import DailyFleetStat
from server.devices.models import Device
from server.violations.models import Violation

# Violations that still need someone: open or acknowledged (excepted ones are accepted
# risk until their exception ends; resolved ones are history).
LIVE_STATUSES = ["open", "acknowledged"]


def active_devices():
    return Device.objects.filter(lifecycle_state__in=ACTIVE_STATES)


def control_counts(now: datetime | None = None) -> dict[str, Any]:
    """{"devices": N, "phi_devices": n, "controls": {id: {"pass", "fail", "applicable"}}}."""
    now = now or timezone.now()
    cutoff = now - timedelta(seconds=policy.silent_after_seconds())
    aggs: dict[str, Any] = {"total": Count("pk")}
    for cid in POSTURE_IDS:
        for status in ("pass", "fail", "not_applicable"):
            # ps_<check>: the database-generated status column (devices.models).
            aggs[f"{cid}__{status}"] = Count("pk", filter=Q(**{f"ps_{cid}": status}))
    aggs["phi"] = Count("pk", filter=Q(phi_present=True))
    aggs["recent"] = Count("pk", filter=Q(last_seen__gte=cutoff))
    row = active_devices().aggregate(**aggs)
    total = row["total"]
    controls: dict[str, dict[str, int]] = {}
    for c in CONTROLS:
        cid = c["id"]
        if c["kind"] == "posture":
            applicable = total - row[f"{cid}__not_applicable"]
            controls[cid] = {"pass": row[f"{cid}__pass"], "fail": row[f"{cid}__fail"],
                             "applicable": applicable}
        elif c["kind"] == "phi":
            controls[cid] = {"pass": total - row["phi"], "fail": row["phi"], "applicable": total}
        elif c["kind"] == "recent":
            controls[cid] = {"pass": row["recent"], "fail": total - row["recent"],
                             "applicable": total}
    return {"devices": total, "phi_devices": row["phi"], "controls": controls}


def violations_by_severity() -> dict[str, int]:
    counts = dict.fromkeys(SEVERITIES, 0)
    rows = (
        Violation.objects.filter(status__in=LIVE_STATUSES, resolved_at__isnull=True)
        .values("severity")
        .annotate(n=Count("id"))
        .order_by()
    )
    for r in rows:
        counts[r["severity"]] = counts.get(r["severity"], 0) + r["n"]
    return counts


def control_rows(counts: dict[str, Any]) -> list[dict[str, Any]]:
    """CONTROLS joined with their counts, for templates and reports."""
    rows = []
    for c in CONTROLS:
        n = counts["controls"][c["id"]]
        share = n["pass"] / n["applicable"] if n["applicable"] else None
        other = n["applicable"] - n["pass"] - n["fail"]
        rows.append({**c, **n, "other": other, "share": share})
    return rows


def record_day(counts: dict[str, Any], violations: dict[str, int],
               now: datetime | None = None) -> DailyFleetStat:
    """Upsert today's trend row from figures already computed."""
    now = now or timezone.now()
    with transaction.atomic():
        stat, _ = DailyFleetStat.objects.update_or_create(
            day=now.date(),
            defaults={"recorded_at": now, "devices": counts["devices"],
                      "controls": counts["controls"], "phi_devices": counts["phi_devices"],
                      "violations": violations},
        )
    return stat


def today_is_stale(now: datetime | None = None, max_age: timedelta = timedelta(hours=1)) -> bool:
    now = now or timezone.now()
    recorded = (
        DailyFleetStat.objects.filter(day=now.date()).values_list("recorded_at", flat=True).first()
    )
    return recorded is None or now - recorded > max_age


def trend(days: int = 90, today: date | None = None) -> list[DailyFleetStat]:
    today = today or timezone.now().date()
    return list(DailyFleetStat.objects.filter(day__gt=today - timedelta(days=days)).order_by("day"))
