"""Create or update a console user with one role, without prompts.

    phiwatch-server console_user alice --role compliance_officer --password-stdin
    phiwatch-server console_user alice --unlock
    phiwatch-server console_user alice --require-totp

The password comes from stdin or PHIWATCH_CONSOLE_PASSWORD, never from argv (argv is
visible to every local user in `ps`).
"""

from __future__ import annotations

import os
import sys

from django.contrib.auth import get_user_model
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from server.accounts import lockout, totp
from server.accounts.roles import ROLES, set_role


class Command(BaseCommand):
    help = "Create or update a console user (role, password, unlock, TOTP requirement)."

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("--role", choices=list(ROLES))
        parser.add_argument("--email", default="")
        parser.add_argument("--password-stdin", action="store_true",
                            help="read the password from the first line of stdin")
        parser.add_argument("--unlock", action="store_true", help="clear a lock-out")
        parser.add_argument("--require-totp", action="store_true",
                            help="require a second factor even if the role does not")
        parser.add_argument("--deactivate", action="store_true")

    def handle(self, *args, **opts):
        User = get_user_model()
        user, created = User.objects.get_or_create(username=opts["username"])
        if created and not opts["role"]:
            user.delete()
            raise CommandError("a new user needs --role")
        password = None
        if opts["password_stdin"]:
            password = sys.stdin.readline().rstrip("\n")
        elif os.environ.get("PHIWATCH_CONSOLE_PASSWORD"):
            password = os.environ["PHIWATCH_CONSOLE_PASSWORD"]
        if password is not None:
            try:
                validate_password(password, user)
            except ValidationError as e:
                if created:
                    user.delete()
                raise CommandError("; ".join(e.messages)) from e
            user.set_password(password)
        elif created:
            user.set_unusable_password()
        if opts["email"]:
            user.email = opts["email"]
        if opts["deactivate"]:
            user.is_active = False
        user.save()
        if opts["role"]:
            set_role(user, opts["role"])
        if opts["unlock"]:
            lockout.unlock(user)
        if opts["require_totp"]:
            sec = totp.security_of(user)
            sec.totp_required = True
            sec.save(update_fields=["totp_required"])
        verb = "created" if created else "updated"
        self.stdout.write(f"{verb} console user {user.username}")
