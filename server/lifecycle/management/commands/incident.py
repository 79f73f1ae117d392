"""phiwatch-server incident list|show|pdf|sign-off: lost and stolen assets, with the facts
and the first draft of the breach risk assessment, exportable for counsel."""

from __future__ import annotations

import json
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from server.audit import log
from server.lifecycle import documents, service
from server.lifecycle.models import Incident
from server.lifecycle.records import incident_json
from server.output import add_format, cli_actor, render


class Command(BaseCommand):
    help = "Lost/stolen incidents: list, show (JSON for counsel), pdf, sign-off."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        p = sub.add_parser("list")
        add_format(p)
        p = sub.add_parser("show")
        p.add_argument("incident", type=int)
        p = sub.add_parser("pdf")
        p.add_argument("incident", type=int)
        p.add_argument("--out", required=True)
        p = sub.add_parser("sign-off")
        p.add_argument("incident", type=int)

    def handle(self, *args, action, **o):
        actor = cli_actor()
        if action == "list":
            rows = [{"id": i.pk, "kind": i.kind, "reported_at": i.reported_at,
                     "asset": i.facts.get("asset", {}).get("hostname")
                     or i.facts.get("asset", {}).get("serial"),
                     "phi_files": i.facts.get("phi", {}).get("phi_files"),
                     "safe_harbour": i.assessment.get("safe_harbour")}
                    for i in Incident.objects.order_by("-reported_at")[:1000]]
            self.stdout.write(render(rows, ["id", "kind", "reported_at", "asset", "phi_files",
                                            "safe_harbour"], o["format"]))
            return
        inc = Incident.objects.filter(pk=o["incident"]).first()
        if inc is None:
            raise CommandError(f"no incident {o['incident']}")
        if action == "show":
            log.record(actor, "lifecycle.incident.read", f"incident:{inc.pk}", {})
            self.stdout.write(json.dumps(incident_json(inc), indent=2, default=str))
        elif action == "pdf":
            log.record(actor, "lifecycle.incident.export", f"incident:{inc.pk}", {"as": "pdf"})
            Path(o["out"]).write_bytes(documents.incident_pdf(inc, timezone.now()))
            self.stdout.write(o["out"])
        elif action == "sign-off":
            service.sign_off(inc, actor)
            self.stdout.write(f"incident {inc.pk} signed off by {actor}")
