"""phiwatch-server media list|show|history|transition|sanitize: removable drives seen by
agents, with their own lifecycle and the devices they were mounted on."""

from __future__ import annotations

import json

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from server.lifecycle import service
from server.lifecycle.errors import LifecycleError
from server.lifecycle.lookup import find_medium
from server.lifecycle.management.commands.device import history
from server.lifecycle.models import Medium
from server.output import add_format, cli_actor, render

COLUMNS = ["id", "vendor", "model", "serial", "state", "last_seen", "last_host", "encrypted",
           "devices"]


class Command(BaseCommand):
    help = "Removable media: list, show, transition (lost, stolen, retired, ...), sanitize."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        p = sub.add_parser("list")
        add_format(p)
        for name in ("show", "history"):
            p = sub.add_parser(name)
            p.add_argument("medium", help="id or serial")
            add_format(p)
        p = sub.add_parser("transition")
        p.add_argument("medium")
        p.add_argument("--to", required=True)
        p.add_argument("--reason", required=True)
        p.add_argument("--override", default="", metavar="JUSTIFICATION")
        add_format(p)
        p = sub.add_parser("sanitize")
        p.add_argument("medium")
        for f in ("method", "technique", "tool", "tool-version", "media-type", "verification",
                  "result", "performed-by", "verified-by", "destination"):
            p.add_argument(f"--{f}", required=True)
        for f in ("performed-at", "verified-at", "notes", "location", "destination-details"):
            p.add_argument(f"--{f}", default=None)
        add_format(p)

    def handle(self, *args, action, **o):
        try:
            self._handle(action, o)
        except LifecycleError as e:
            raise CommandError(str(e)) from e

    @staticmethod
    def _row(m: Medium) -> dict:
        return {"id": m.pk, "vendor": m.vendor, "model": m.model, "serial": m.serial,
                "state": m.lifecycle_state, "last_seen": m.last_seen,
                "last_host": m.last_device.hostname if m.last_device else None,
                "encrypted": m.last_encrypted,
                "devices": m.mounts.values("device").distinct().count()}

    def _handle(self, action: str, o: dict) -> None:
        actor = cli_actor()
        if action == "list":
            rows = [self._row(m) for m in Medium.objects.select_related("last_device")
                    .order_by("-last_seen")[:1000]]
            self.stdout.write(render(rows, COLUMNS, o["format"]))
            return
        medium = find_medium(o["medium"])
        if action == "show":
            row = self._row(medium)
            row["mounted_on"] = [
                {"device": str(x.device_id), "hostname": x.device.hostname, "at": x.at,
                 "mount": x.mount, "encrypted": x.encrypted}
                for x in medium.mounts.select_related("device").order_by("-at")[:200]]
            self.stdout.write(json.dumps(row, indent=2, default=str) if o["format"] == "json"
                              else render(row["mounted_on"], ["hostname", "at", "mount",
                                                              "encrypted"], "table"))
        elif action == "history":
            self.stdout.write(history(medium, o["format"]))
        elif action == "transition":
            t = service.transition(medium, o["to"], actor=actor, reason=o["reason"],
                                   override_justification=o["override"], may_override=True)
            self.stdout.write(render([{"medium": medium.pk, "from": t.from_state,
                                       "to": t.to_state, "override": t.override}],
                                     ["medium", "from", "to", "override"], o["format"]))
        elif action == "sanitize":
            now = timezone.now().isoformat()
            rec = service.record_sanitization(medium, {
                "method": o["method"], "technique": o["technique"], "tool": o["tool"],
                "tool_version": o["tool_version"], "media_type": o["media_type"],
                "verification_method": o["verification"], "verification_result": o["result"],
                "performed_by": o["performed_by"], "verified_by": o["verified_by"],
                "performed_at": o["performed_at"] or now, "verified_at": o["verified_at"] or now,
                "destination": o["destination"], "notes": o["notes"],
                "location": o["location"], "destination_details": o["destination_details"],
            }, actor=actor)
            self.stdout.write(render([{"record": rec.pk, "verified": rec.verified}],
                                     ["record", "verified"], o["format"]))
