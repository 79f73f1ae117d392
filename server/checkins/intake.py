"""Store one check-in: idempotent, one transaction, the device row locked.

Order matters: the device row lock comes first so two reports of the same device never
reconcile findings and violations at the same time; the Report insert comes next, and
its unique report_id makes a replay store nothing.
"""

from __future__ import annotations

from django.db import IntegrityError, transaction
from django.utils import timezone

from server.checkins.models import Event, PostureSnapshot, Report
from server.checkins.schemas import CheckinIn
from server.devices.models import Device
from server.errors import ApiError
from server.findings.reconcile import reconcile as reconcile_findings
from server.violations import engine

# Inventory keys copied onto the device row (strings only, truncated to the column).
_INVENTORY_FIELDS = {"hostname": 255, "hardware_serial": 200, "hardware_model": 200,
                     "manufacturer": 200}


def _posture_state(checks) -> dict:
    """{check_id: {"status", "values"}}: the verdict plus the check's numeric details
    (e.g. lock_after_seconds), which server-side thresholds in rules/violations.yaml read."""
    state = {}
    for c in checks:
        values = {k: v for k, v in (c.details or {}).items()
                  if isinstance(v, int | float) and not isinstance(v, bool)}
        state[c.id] = {"status": c.status, "values": values}
    return state


def _disk_encrypted(posture: dict) -> bool | None:
    status = posture.get("disk_encryption", {}).get("status")
    return {"pass": True, "fail": False, "in_progress": False}.get(status)


def store(device_id, data: CheckinIn) -> tuple[str, Device | None]:
    """Returns ("stored", device) or ("duplicate", None)."""
    if data.device_id != device_id:
        # Never confirm that another device exists: same answer as an unknown id.
        raise ApiError(404, "no such device for this token", "device_id")
    now = timezone.now()
    try:
        return "stored", _store(device_id, data, now)
    except IntegrityError:
        # The unique report_id: this report was stored before (or is being stored right
        # now by a racing retry, whose commit we waited for). Nothing of ours was kept.
        owner = Report.objects.filter(report_id=data.report_id).values_list(
            "device_id", flat=True).first()
        if owner == device_id:
            return "duplicate", None
        if owner is not None:
            raise ApiError(422, "report_id already used", "report_id") from None
        raise


def _store(device_id, data: CheckinIn, now) -> Device:
    with transaction.atomic():
        # Row lock: two reports of one device never reconcile findings/violations at once.
        device = Device.objects.select_for_update().get(pk=device_id)
        report = Report.objects.create(
            report_id=data.report_id, device=device, created_at=data.created_at,
            agent_version=data.agent_version,
            findings_count=len(data.findings or []),
            findings_complete=bool(data.findings_complete and data.findings is not None),
            posture_checked_at=data.posture.checked_at if data.posture else None,
            outbox=data.outbox.model_dump() if data.outbox else {},
        )

        changed = ["last_seen", "last_report_id", "agent_version"]
        device.last_seen = now
        device.last_report_id = data.report_id
        if data.agent_version:
            device.agent_version = data.agent_version

        if data.inventory is not None:
            device.inventory = data.inventory
            changed.append("inventory")
            for key, limit in _INVENTORY_FIELDS.items():
                value = data.inventory.get(key)
                if isinstance(value, str) and value:
                    setattr(device, key, value[:limit])
                    changed.append(key)
            os_info = data.inventory.get("os")
            if isinstance(os_info, dict) and isinstance(os_info.get("version"), str):
                device.os_version = os_info["version"][:100]
                changed.append("os_version")

        if data.posture is not None:
            checks = data.posture.checks
            state = _posture_state(checks)
            if state != device.posture:
                # History on change only; Report.posture_checked_at covers the rest.
                PostureSnapshot.objects.create(
                    device=device, report=report, checked_at=data.posture.checked_at,
                    checks=[c.model_dump() for c in checks],
                    failing=sum(1 for c in checks if c.status == "fail"),
                )
            device.posture = state
            device.posture_checked_at = data.posture.checked_at
            device.posture_failing = sum(1 for c in checks if c.status == "fail")
            device.disk_encrypted = _disk_encrypted(device.posture)
            changed += ["posture", "posture_checked_at", "posture_failing", "disk_encrypted"]

        if data.events:
            Event.objects.bulk_create(
                [Event(device=device, report=report, event_id=e.event_id, type=e.type, at=e.at,
                       data=e.data) for e in data.events],
                ignore_conflicts=True,  # an event re-sent in a later report is kept once
            )

        if data.outbox is not None:
            device.outbox_depth = data.outbox.depth
            device.outbox_dropped = data.outbox.dropped
            changed += ["outbox_depth", "outbox_dropped"]

        open_findings = reconcile_findings(device, data, now)
        device.phi_files = sum(1 for f in open_findings if f.classification == "phi")
        device.pii_files = sum(1 for f in open_findings if f.classification == "pii")
        device.phi_present = device.phi_files > 0
        changed += ["phi_files", "pii_files", "phi_present"]

        changed += engine.evaluate(device, open_findings, data.events, now, at_checkin=True)
        device.save(update_fields=sorted(set(changed)))
    return device
