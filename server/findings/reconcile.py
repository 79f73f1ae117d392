"""Merge a report's findings into the device's open findings."""

from __future__ import annotations

from datetime import datetime

from server.devices.models import Device
from server.findings.models import Finding

_RESOLVE_REASONS = {"deleted", "moved", "cleaned"}
FIELDS = ["classification", "identifiers", "health", "format", "bytes", "path", "folder",
          "name_hash", "volume_mount", "volume_encrypted", "volume_removable", "volume_cloud",
          "first_seen", "last_seen"]


def _values(f) -> dict:
    vol = f.volume
    return {
        "classification": f.classification, "identifiers": f.identifiers, "health": f.health,
        "format": f.format, "bytes": f.bytes, "path": f.path, "folder": f.folder,
        "name_hash": f.name_hash,
        "volume_mount": (vol.mount or "") if vol else "",
        "volume_encrypted": vol.encrypted if vol else None,
        "volume_removable": bool(vol.removable) if vol else False,
        "volume_cloud": vol.cloud if vol else None,
        "first_seen": f.first_seen, "last_seen": f.last_seen,
    }


def reconcile(device: Device, data, now: datetime) -> list[Finding]:
    """Open new findings, update known ones, resolve missing/resolved ones.

    Returns the device's open findings afterwards. The caller holds the device row lock.
    """
    resolve: dict[str, str] = {}
    for e in data.events or []:
        if e.type == "finding_resolved":
            fid = e.data.get("finding_id")
            reason = e.data.get("reason")
            if isinstance(fid, str):
                resolve[fid] = reason if reason in _RESOLVE_REASONS else "resolved"
    if device.phi_files + device.pii_files == 0 and not data.findings:
        # The counts on the device row are kept in this same locked transaction, so zero
        # means no open finding: most check-ins skip the query.
        return []
    open_rows = {f.finding_id: f for f in Finding.objects.filter(device=device,
                                                                 resolved_at__isnull=True)}

    incoming = {f.finding_id: f for f in (data.findings or [])}
    new, changed = [], []
    for fid, f in incoming.items():
        values = _values(f)
        row = open_rows.get(fid)
        if row is None:
            new.append(Finding(device=device, finding_id=fid, **values))
        else:
            diff = {k: v for k, v in values.items() if getattr(row, k) != v}
            if diff:
                for k, v in diff.items():
                    setattr(row, k, v)
                changed.append(row)
    if data.findings is not None and data.findings_complete:
        for fid in open_rows:
            if fid not in incoming:
                resolve.setdefault(fid, "absent")
    # A finding listed in this report stays open even if an older event resolved it.
    gone = {fid: reason for fid, reason in resolve.items() if fid in open_rows
            and fid not in incoming}

    if new:
        Finding.objects.bulk_create(new)
    if changed:
        Finding.objects.bulk_update(changed, FIELDS)
    for reason in set(gone.values()):
        ids = [open_rows[fid].pk for fid, r in gone.items() if r == reason]
        Finding.objects.filter(pk__in=ids).update(resolved_at=now, resolved_reason=reason)
    return [row for fid, row in open_rows.items() if fid not in gone] + new
