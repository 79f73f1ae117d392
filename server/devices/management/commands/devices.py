"""phiwatch-server devices: the inventory with each device's latest state."""

from __future__ import annotations

from datetime import timedelta

from django.core.management.base import BaseCommand
from django.utils import timezone

from server.audit import log
from server.devices.models import Device
from server.output import add_format, cli_actor, render
from server.policy.effective import effective

COLUMNS = ["id", "hostname", "os", "lifecycle_state", "last_seen", "silent", "disk_encrypted",
           "phi_files", "pii_files", "open_violations", "worst_severity"]


class Command(BaseCommand):
    help = "List devices (latest state). Reading PHI counts is recorded in the audit log."

    def add_arguments(self, parser):
        add_format(parser)
        parser.add_argument("--phi", action="store_true", help="only devices holding PHI")
        parser.add_argument("--silent", action="store_true", help="only silent devices")
        parser.add_argument("--limit", type=int, default=1000)

    def handle(self, *args, format, phi, silent, limit, **opts):
        policy, _ = effective()
        cutoff = timezone.now() - timedelta(seconds=float(policy["silent_after_seconds"]))
        qs = Device.objects.order_by("hostname", "id")
        if phi:
            qs = qs.filter(phi_present=True)
        if silent:
            qs = qs.filter(last_seen__lt=cutoff)
        rows = []
        for d in qs[:limit]:
            rows.append({
                "id": str(d.id), "hostname": d.hostname, "machine_id": d.machine_id,
                "hardware_serial": d.hardware_serial, "os": d.os, "os_version": d.os_version,
                "agent_version": d.agent_version, "lifecycle_state": d.lifecycle_state,
                "enrolled_at": d.enrolled_at, "last_seen": d.last_seen,
                "silent": d.last_seen is None or d.last_seen < cutoff,
                "disk_encrypted": d.disk_encrypted, "posture_failing": d.posture_failing,
                "phi_files": d.phi_files, "pii_files": d.pii_files,
                "open_violations": d.open_violations, "worst_severity": d.worst_severity,
            })
        log.record(cli_actor(), "devices.list", "devices",
                   {"rows": len(rows), "filters": {"phi": phi, "silent": silent}})
        self.stdout.write(render(rows, COLUMNS, format))
