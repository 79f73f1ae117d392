"""Evidence for auditors: fleet posture as of a date, and the "no PHI on endpoints"
attestation (the BAA's return-or-destroy obligation, 45 CFR 164.504(e)(2)(ii)(J)).

Both walk every device in keyset-paged chunks (by primary key), so memory stays flat on
a 100,000-device fleet; each chunk is two or three indexed queries, never one per device.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from typing import Any

from django.db.models import Count, Min, OuterRef, Q, Subquery
from django.utils import timezone

from server.checkins.models import PostureSnapshot, Report
from server.console.controls import BY_ID, POSTURE_IDS
from server.devices.models import Device
from server.findings.models import Finding

CHUNK = 2000
PASSING = {"pass", "not_applicable"}


def day_end(d: date) -> datetime:
    return datetime.combine(d, time.max, tzinfo=UTC)


DEVICE_FIELDS = ["id", "hostname", "hardware_serial", "os", "os_version", "lifecycle_state"]


def _devices(end: datetime):
    return Device.objects.filter(enrolled_at__lte=end).only(*DEVICE_FIELDS)


def _chunks(qs) -> Iterator[list[Device]]:
    last = None
    while True:
        page = qs.order_by("pk")
        if last is not None:
            page = page.filter(pk__gt=last)
        rows = list(page[:CHUNK])
        if not rows:
            return
        yield rows
        last = rows[-1].pk


def phi_files_at(end: datetime, device_ids: list | None = None) -> dict[Any, int]:
    """{device_id: PHI files open at `end`}, from finding episodes (opened <= end < resolved)."""
    qs = Finding.objects.filter(classification="phi", opened_at__lte=end).filter(
        Q(resolved_at__isnull=True) | Q(resolved_at__gt=end))
    if device_ids is not None:
        qs = qs.filter(device_id__in=device_ids)
    return dict(qs.values("device_id").annotate(n=Count("id")).values_list("device_id", "n"))


@dataclass
class PostureReport:
    as_of: date
    devices: int = 0
    # {control: {"pass": n, "fail": n, "other": n}}
    summary: dict[str, dict[str, int]] = field(default_factory=dict)
    phi_devices: int = 0
    no_posture: int = 0


POSTURE_COLUMNS = (
    ["device_id", "hostname", "serial", "os", "os_version", "lifecycle_state",
     "posture_checked_at"]
    + [f"{cid} [{BY_ID[cid]['hipaa']}]" for cid in POSTURE_IDS]
    + [f"phi_files [{BY_ID['no_phi']['hipaa']}]", "failing_controls"]
)


def _from_history(chunk: list[Device], end: datetime) -> dict[Any, tuple]:
    """{device_id: (checked_at, {check: status}, phi_files)} as of `end`, from history."""
    snaps = PostureSnapshot.objects.filter(
        id__in=[d.snap_id for d in chunk if d.snap_id]).only("id", "checked_at", "checks")
    snaps = {s.id: s for s in snaps}
    phi = phi_files_at(end, [d.pk for d in chunk])
    out = {}
    for d in chunk:
        snap = snaps.get(d.snap_id)
        status = {c.get("id"): c.get("status", "") for c in snap.checks} if snap else {}
        out[d.pk] = (snap.checked_at if snap else None, status, phi.get(d.pk, 0))
    return out


def _from_latest(chunk: list[Device]) -> dict[Any, tuple]:
    """The same from the device rows' latest state: today's report needs no history
    (the check-in keeps these columns equal to the newest snapshot and open findings)."""
    return {d.pk: (d.posture_checked_at,
                   {cid: getattr(d, f"ps_{cid}") or "" for cid in POSTURE_IDS}
                   if d.posture_checked_at else {}, d.phi_files) for d in chunk}


def posture_rows(as_of: date, report: PostureReport | None = None,
                 today: date | None = None) -> Iterator[list[str]]:
    """One row per device enrolled by `as_of`: its latest posture at or before that day."""
    end = day_end(as_of)
    report = report or PostureReport(as_of)
    report.summary = {cid: {"pass": 0, "fail": 0, "other": 0} for cid in [*POSTURE_IDS, "no_phi"]}
    current = as_of == (today or timezone.now().date())
    if current:
        qs = _devices(end).only(*DEVICE_FIELDS, "posture_checked_at", "phi_files",
                                *[f"ps_{cid}" for cid in POSTURE_IDS])
    else:
        latest = (PostureSnapshot.objects.filter(device=OuterRef("pk"), checked_at__lte=end)
                  .order_by("-checked_at").values("id")[:1])
        qs = _devices(end).annotate(snap_id=Subquery(latest))
    for chunk in _chunks(qs):
        state = _from_latest(chunk) if current else _from_history(chunk, end)
        for d in chunk:
            report.devices += 1
            checked_at, status, n_phi = state[d.pk]
            if checked_at is None:
                report.no_posture += 1
            failing = []
            for cid in POSTURE_IDS:
                s = status.get(cid, "")
                bucket = "pass" if s in PASSING else "fail" if s == "fail" else "other"
                report.summary[cid][bucket] += 1
                if s == "fail":
                    failing.append(cid)
            report.summary["no_phi"]["fail" if n_phi else "pass"] += 1
            if n_phi:
                report.phi_devices += 1
                failing.append("no_phi")
            yield ([str(d.pk), d.hostname, d.hardware_serial, d.os, d.os_version,
                    d.lifecycle_state, checked_at.isoformat() if checked_at else "never"]
                   + [status.get(cid, "") or "not reported" for cid in POSTURE_IDS]
                   + [str(n_phi), " ".join(failing)])


ATTESTATION_COLUMNS = ["device_id", "hostname", "serial", "os", "lifecycle_state",
                       "last_complete_scan", "last_clean_scan", "phi_files", "status"]


@dataclass
class Attestation:
    as_of: date
    devices: int = 0
    clean: int = 0
    phi: int = 0
    unscanned: int = 0


def attestation_rows(as_of: date, att: Attestation | None = None) -> Iterator[list[str]]:
    """Every device enrolled by `as_of`, its last complete scan, and its last clean one.

    A complete scan is a check-in whose findings were the device's full set
    (findings_complete). The last clean scan is the last complete scan while the device
    held no PHI: the last complete scan itself when it holds none at `as_of`, else the
    last complete scan before its oldest PHI finding that is still open.
    """
    end = day_end(as_of)
    att = att or Attestation(as_of)
    complete = Report.objects.filter(device=OuterRef("pk"), findings_complete=True,
                                     received_at__lte=end)
    qs = _devices(end).annotate(
        last_complete=Subquery(complete.order_by("-received_at").values("received_at")[:1]))
    for chunk in _chunks(qs):
        ids = [d.pk for d in chunk]
        phi = phi_files_at(end, ids)
        clean_before: dict[Any, datetime | None] = {}
        if phi:
            first_open = dict(
                Finding.objects.filter(device_id__in=list(phi), classification="phi",
                                       opened_at__lte=end)
                .filter(Q(resolved_at__isnull=True) | Q(resolved_at__gt=end))
                .values("device_id").annotate(first=Min("opened_at"))
                .values_list("device_id", "first"))
            for dev_id, first in first_open.items():
                clean_before[dev_id] = (
                    Report.objects.filter(device_id=dev_id, findings_complete=True,
                                          received_at__lt=first)
                    .order_by("-received_at").values_list("received_at", flat=True).first())
        for d in chunk:
            att.devices += 1
            n_phi = phi.get(d.pk, 0)
            if n_phi:
                att.phi += 1
                status, clean = "PHI present", clean_before.get(d.pk)
            elif d.last_complete is None:
                att.unscanned += 1
                status, clean = "no complete scan", None
            else:
                att.clean += 1
                status, clean = "clean", d.last_complete
            yield [str(d.pk), d.hostname, d.hardware_serial, d.os, d.lifecycle_state,
                   d.last_complete.isoformat() if d.last_complete else "never",
                   clean.isoformat() if clean else "never", str(n_phi), status]
