"""phiwatch-server device ACTION DEVICE ...: lifecycle changes for IT automation.

DEVICE is a device id, hardware serial or hostname. Every change needs --reason and is
recorded with who/when/why; `dispose` and `reissue` need a verified sanitization record
(`sanitize`), or --override "justification" (flagged for audit).
"""

from __future__ import annotations

import json
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from server.lifecycle import documents, service
from server.lifecycle.errors import LifecycleError
from server.lifecycle.lookup import find_device
from server.lifecycle.models import SanitizationRecord
from server.output import add_format, cli_actor, render


def history(asset, fmt: str) -> str:
    """The asset's moves, oldest first (shared with `media history`)."""
    rows = [{"at": t.at, "from": t.from_state, "to": t.to_state, "actor": t.actor,
             "reason": t.reason, "override": t.override}
            for t in asset.transitions.order_by("at")]
    return render(rows, ["at", "from", "to", "actor", "reason", "override"], fmt)


# action -> target state
MOVES = {"repair": "in_repair", "loan": "loaned", "return": "in_service",
         "recover": "in_service", "lost": "lost", "stolen": "stolen", "retire": "retired",
         "dispose": "disposed", "reissue": "reissued", "transition": None}


class Command(BaseCommand):
    help = "Device lifecycle: show, history, repair/loan/return, lost/stolen/recover, retire, " \
           "sanitize, dispose, reissue, certificate."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        for name in ("show", "history"):
            p = sub.add_parser(name)
            p.add_argument("device")
            add_format(p)
        for name, state in MOVES.items():
            p = sub.add_parser(name, help=f"move the device to {state}" if state else
                               "move the device to --to STATE")
            p.add_argument("device")
            if state is None:
                p.add_argument("--to", required=True)
            p.add_argument("--reason", required=True, help="why (recorded)")
            p.add_argument("--custodian", default="")
            p.add_argument("--location", default="")
            p.add_argument("--override", default="", metavar="JUSTIFICATION",
                           help="pass a failing guard (IT admin); flagged in the audit log")
            p.add_argument("--police-report", default="")
            add_format(p)
        p = sub.add_parser("sanitize", help="record a NIST SP 800-88 sanitization")
        p.add_argument("device")
        p.add_argument("--method", required=True, choices=["clear", "purge", "destroy"])
        p.add_argument("--technique", required=True)
        p.add_argument("--tool", required=True)
        p.add_argument("--tool-version", required=True)
        p.add_argument("--media-type", required=True)
        p.add_argument("--property-number", default="")
        p.add_argument("--verification", required=True, dest="verification_method",
                       choices=["full", "quick_sampling", "other"])
        p.add_argument("--result", required=True, dest="verification_result",
                       choices=["pass", "fail"])
        p.add_argument("--performed-by", required=True)
        p.add_argument("--performed-by-title", default="")
        p.add_argument("--performed-at", default=None, help="ISO 8601; default now")
        p.add_argument("--verified-by", required=True)
        p.add_argument("--verified-by-title", default="")
        p.add_argument("--verified-at", default=None, help="ISO 8601; default now")
        p.add_argument("--location", default="")
        p.add_argument("--destination", required=True,
                       choices=["internal_reuse", "external_reuse", "recycling", "manufacturer",
                                "destroyed", "other"])
        p.add_argument("--destination-details", default="")
        p.add_argument("--notes", default="")
        add_format(p)
        p = sub.add_parser("certificate", help="write a certificate of sanitization as PDF")
        p.add_argument("record", type=int, help="sanitization record number")
        p.add_argument("--out", required=True)

    def handle(self, *args, action, **o):
        try:
            self._handle(action, o)
        except LifecycleError as e:
            raise CommandError(str(e)) from e

    def _out(self, data: dict, fmt: str) -> None:
        if fmt == "json":
            self.stdout.write(json.dumps(data, indent=2, default=str))
        else:
            self.stdout.write("\n".join(f"{k}: {v}" for k, v in data.items()))

    def _handle(self, action: str, o: dict) -> None:
        actor = cli_actor()
        if action == "certificate":
            rec = SanitizationRecord.objects.filter(pk=o["record"]).first()
            if rec is None:
                raise LifecycleError(f"no sanitization record {o['record']}")
            Path(o["out"]).write_bytes(documents.certificate_pdf(rec, timezone.now()))
            self.stdout.write(o["out"])
            return
        device = find_device(o["device"])
        if action == "show":
            self._out({"id": device.pk, "hostname": device.hostname,
                       "serial": device.hardware_serial, "state": device.lifecycle_state,
                       "last_seen": device.last_seen, "disk_encrypted": device.disk_encrypted,
                       "phi_files": device.phi_files,
                       "sightings": [{"at": s.at, "state": s.state, "remote_addr": s.remote_addr,
                                      "hostname": s.hostname}
                                     for s in device.sightings.order_by("-at")[:20]]},
                      o["format"])
        elif action == "history":
            self.stdout.write(history(device, o["format"]))
        elif action == "sanitize":
            now = timezone.now().isoformat()
            fields = {k: o[k] for k in (
                "method", "technique", "tool", "tool_version", "media_type", "property_number",
                "verification_method", "verification_result", "performed_by",
                "performed_by_title", "verified_by", "verified_by_title", "location",
                "destination", "destination_details", "notes")}
            fields["performed_at"] = o["performed_at"] or now
            fields["verified_at"] = o["verified_at"] or now
            rec = service.record_sanitization(device, fields, actor=actor)
            device.refresh_from_db()
            self._out({"record": rec.pk, "verified": rec.verified,
                       "state": device.lifecycle_state}, o["format"])
        else:
            to = MOVES[action] or o["to"]
            t = service.transition(
                device, to, actor=actor, reason=o["reason"], custodian=o["custodian"],
                location=o["location"], override_justification=o["override"],
                may_override=True,  # the server's CLI is IT's admin tool
                police_report=o["police_report"])
            out = {"device": device.pk, "from": t.from_state, "to": t.to_state,
                   "override": t.override}
            inc = device.incidents.order_by("-reported_at").first() if to in (
                "lost", "stolen") else None
            if inc:
                out.update({"incident": inc.pk, "safe_harbour": inc.assessment["safe_harbour"],
                            "phi_files": inc.facts["phi"]["phi_files"],
                            "disk_encryption": inc.facts["encryption"]["status"]})
            self._out(out, o["format"])
