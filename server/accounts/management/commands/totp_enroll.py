"""Give a console user a new TOTP secret and print it for their authenticator app.

    phiwatch-server totp_enroll alice [--format json]

Prints the otpauth:// provisioning URI (paste it into a QR generator the user trusts, or
type the secret by hand); the secret is the last line. The old secret stops working.
"""

from __future__ import annotations

import json

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from server.accounts import totp


class Command(BaseCommand):
    help = "Enrol (or re-enrol) TOTP for a console user; prints the URI and the secret."

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("--format", choices=["text", "json"], default="text")

    def handle(self, *args, **opts):
        user = get_user_model().objects.filter(username=opts["username"]).first()
        if user is None:
            raise CommandError(f"no console user named {opts['username']!r}")
        secret, uri = totp.enrol(user)
        if opts["format"] == "json":
            self.stdout.write(json.dumps({"username": user.username, "uri": uri, "secret": secret}))
        else:
            self.stdout.write(f"provisioning URI: {uri}")
            self.stdout.write(secret)
