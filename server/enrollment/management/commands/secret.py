"""phiwatch-server secret create|list|revoke."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from server.enrollment import service
from server.enrollment.models import EnrollmentSecret
from server.errors import ServerError
from server.output import add_format, cli_actor, render


class Command(BaseCommand):
    help = "Create, list or revoke enrollment secrets (stored only as hashes)."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        c = sub.add_parser("create", help="create a secret; it is the last line of output")
        c.add_argument("--uses", type=int, default=None, help="number of enrollments allowed")
        c.add_argument("--expires", type=float, default=None, help="days until it expires")
        c.add_argument("--note", default="")
        add_format(sub.add_parser("list", help="list secrets (never the secrets themselves)"))
        r = sub.add_parser("revoke", help="revoke a secret by id")
        r.add_argument("id", type=int)

    def handle(self, *args, action, **opts):
        try:
            if action == "create":
                row, secret = service.create_secret(cli_actor(), opts["uses"], opts["expires"],
                                                    opts["note"])
                exp = row.expires_at.isoformat() if row.expires_at else "never"
                uses = row.uses_allowed if row.uses_allowed is not None else "unlimited"
                self.stdout.write(f"secret {row.id}: uses {uses}, expires {exp}")
                self.stdout.write(secret)
            elif action == "revoke":
                row = service.revoke_secret(cli_actor(), opts["id"])
                self.stdout.write(f"secret {row.id} revoked")
            else:
                now = timezone.now()
                rows = [{
                    "id": s.id, "prefix": s.prefix, "state": s.state(now), "uses_allowed":
                    s.uses_allowed, "uses_left": s.uses_left, "used": s.used_count,
                    "expires_at": s.expires_at, "created_at": s.created_at, "note": s.note,
                } for s in EnrollmentSecret.objects.order_by("id")]
                self.stdout.write(render(rows, ["id", "prefix", "state", "uses_allowed",
                                                "uses_left", "used", "expires_at", "note"],
                                         opts["format"]))
        except ServerError as e:
            raise CommandError(str(e)) from e
