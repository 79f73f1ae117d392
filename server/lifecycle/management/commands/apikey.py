"""phiwatch-server apikey create|list|revoke: tokens for IT automation of the lifecycle API.
The token is printed once, on the last line; only its hash is kept."""

from __future__ import annotations

from django.contrib.auth.models import User
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from server.audit import log
from server.lifecycle import service
from server.lifecycle.models import ApiKey
from server.output import add_format, cli_actor, render


class Command(BaseCommand):
    help = "API keys for the lifecycle API: create --user NAME, list, revoke ID."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        p = sub.add_parser("create")
        p.add_argument("--user", required=True)
        p.add_argument("--name", default="automation")
        p = sub.add_parser("list")
        add_format(p)
        p = sub.add_parser("revoke")
        p.add_argument("id", type=int)

    def handle(self, *args, action, **o):
        if action == "create":
            user = User.objects.filter(username=o["user"]).first()
            if user is None:
                raise CommandError(f"no console user {o['user']!r} (phiwatch-server createadmin)")
            token = service.create_api_key(user, o["name"], cli_actor())
            self.stdout.write(f"API key for {user.username} ({o['name']}); shown once:")
            self.stdout.write(token)
        elif action == "list":
            rows = [{"id": k.pk, "user": k.user.username, "name": k.name,
                     "created_at": k.created_at, "revoked_at": k.revoked_at}
                    for k in ApiKey.objects.select_related("user").order_by("id")]
            self.stdout.write(render(rows, ["id", "user", "name", "created_at", "revoked_at"],
                                     o["format"]))
        else:
            n = ApiKey.objects.filter(pk=o["id"], revoked_at__isnull=True).update(
                revoked_at=timezone.now())
            if not n:
                raise CommandError(f"no live API key {o['id']}")
            log.record(cli_actor(), "lifecycle.apikey.revoke", f"apikey:{o['id']}", {})
            self.stdout.write(f"revoked {o['id']}")
