"""phiwatch-server violations: open violations (or all, with --all)."""

from __future__ import annotations

from django.core.management.base import BaseCommand

from server.audit import log
from server.output import add_format, cli_actor, render
from server.violations.models import Violation

COLUMNS = ["id", "device", "hostname", "rule", "severity", "hipaa", "status", "opened_at",
           "resolved_at"]


class Command(BaseCommand):
    help = "List violations. Reading them is recorded in the audit log."

    def add_arguments(self, parser):
        add_format(parser)
        parser.add_argument("--all", action="store_true", help="include resolved ones")
        parser.add_argument("--device", help="only this device id")
        parser.add_argument("--severity", choices=["critical", "high", "medium", "low"])
        parser.add_argument("--limit", type=int, default=1000)

    def handle(self, *args, format, all, device, severity, limit, **opts):
        qs = Violation.objects.select_related("device").order_by("-opened_at", "-id")
        if not all:
            qs = qs.filter(resolved_at__isnull=True)
        if device:
            qs = qs.filter(device_id=device)
        if severity:
            qs = qs.filter(severity=severity)
        rows = [{
            "id": v.id, "device": str(v.device_id), "hostname": v.device.hostname,
            "rule": v.rule, "title": v.title, "severity": v.severity, "hipaa": v.hipaa,
            "status": v.status, "details": v.details, "opened_at": v.opened_at,
            "resolved_at": v.resolved_at,
        } for v in qs[:limit]]
        log.record(cli_actor(), "violations.list", "violations",
                   {"rows": len(rows), "filters": {"all": all, "device": device,
                                                   "severity": severity}})
        self.stdout.write(render(rows, COLUMNS, format))
