"""phiwatch-server audit verify | list."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from server.audit import log
from server.audit.models import AuditEntry
from server.output import add_format, render


class Command(BaseCommand):
    help = "Verify the audit log's hash chain, or list its newest entries."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        sub.add_parser("verify", help="exit 0 when intact, 1 naming the first bad entry")
        ls = sub.add_parser("list", help="newest entries")
        add_format(ls)
        ls.add_argument("--limit", type=int, default=50)

    def handle(self, *args, action, **opts):
        if action == "verify":
            ok, bad = log.verify()
            n = AuditEntry.objects.count()
            if ok:
                self.stdout.write(f"audit log intact: {n} entries")
                return
            raise CommandError(f"audit log tampered: first bad entry is id {bad}")
        rows = [{"id": e.id, "at": e.at, "actor": e.actor, "action": e.action,
                 "target": e.target, "details": e.details}
                for e in AuditEntry.objects.order_by("-id")[: opts["limit"]]]
        self.stdout.write(render(rows, ["id", "at", "actor", "action", "target"], opts["format"]))
