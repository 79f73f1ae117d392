"""phiwatch-server token revoke DEVICE: the agent gets 401 until it enrolls again."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from server.devices.lookup import find_device
from server.enrollment import service
from server.errors import ServerError
from server.output import cli_actor


class Command(BaseCommand):
    help = "Revoke a device's tokens."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        r = sub.add_parser("revoke", help="revoke every live token of a device")
        r.add_argument("device", help="device id, machine id or hostname")

    def handle(self, *args, action, device, **opts):
        try:
            d = find_device(device)
        except ServerError as e:
            raise CommandError(str(e)) from e
        n = service.revoke_tokens(cli_actor(), d)
        self.stdout.write(f"revoked {n} token(s) of device {d.id}")
