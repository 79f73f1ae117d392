"""Open and resolve violations from a device's state.

``evaluate`` runs inside the check-in transaction (device row locked); ``reevaluate``
is for state changes outside a check-in (the silent sweep, a lifecycle change).
One audit entry per device per evaluation lists what opened and what resolved.
"""

from __future__ import annotations

from datetime import datetime

from django.db import transaction
from django.utils import timezone

from server.audit import log
from server.devices.models import Device
from server.findings.models import Finding
from server.policy.effective import effective
from server.violations.conditions import Context
from server.violations.conditions import evaluate as holds
from server.violations.models import SEVERITY_RANK, Violation
from server.violations.rules import rules


def evaluate(device: Device, findings: list, events: list, now: datetime,
             at_checkin: bool, policy: dict | None = None) -> list[str]:
    """Reconcile the device's violations; returns the device fields it changed."""
    if policy is None:
        policy = effective()[0]
    ctx = Context(device=device, policy=policy, now=now, findings=findings, events=events)
    # device.open_violations is kept by this function alone, under the device row lock:
    # zero means no unresolved row, and most check-ins skip the query.
    open_rows = {} if device.open_violations == 0 else {
        v.rule: v for v in Violation.objects.filter(device=device, resolved_at__isnull=True)}
    opened, resolved, to_update = [], [], []
    for rule in rules():
        evidence = holds(rule.when, ctx)
        row = open_rows.get(rule.id)
        if evidence is not None and row is None:
            if rule.checkin_only and not at_checkin:
                continue
            opened.append(Violation(
                device=device, rule=rule.id, title=rule.title, severity=rule.severity,
                hipaa=rule.hipaa, details=evidence, opened_at=now, last_checked_at=now))
        elif evidence is not None and row is not None:
            dirty = False
            if row.details != evidence:
                row.details, dirty = evidence, True
            if row.status == "excepted" and row.exception_until and row.exception_until <= now:
                row.status, dirty = "open", True  # the exception ran out
            if dirty:
                row.last_checked_at = now
                to_update.append(row)
        elif evidence is None and row is not None:
            row.resolved_at, row.status, row.last_checked_at = now, "resolved", now
            resolved.append(row)
            to_update.append(row)
    if opened:
        Violation.objects.bulk_create(opened)
    if to_update:
        Violation.objects.bulk_update(
            to_update, ["details", "status", "resolved_at", "last_checked_at"])
    if opened or resolved:
        log.record("system", "violations.change", f"device:{device.id}", {
            "opened": sorted(v.rule for v in opened),
            "resolved": sorted(v.rule for v in resolved),
        })
    still_open = [v for r, v in open_rows.items() if v.resolved_at is None] + opened
    device.open_violations = len(still_open)
    device.worst_severity = max((v.severity for v in still_open),
                                key=lambda s: SEVERITY_RANK[s], default="")
    return ["open_violations", "worst_severity"]


def reevaluate(device_id, at_checkin: bool = False, policy: dict | None = None) -> Device:
    """Re-run the rules on a device's stored state (lifecycle change, silent sweep)."""
    with transaction.atomic():
        device = Device.objects.select_for_update().get(pk=device_id)
        findings = list(Finding.objects.filter(device=device, resolved_at__isnull=True))
        fields = evaluate(device, findings, [], timezone.now(), at_checkin, policy)
        device.save(update_fields=fields)
    return device
