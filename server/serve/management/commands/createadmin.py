"""phiwatch-server createadmin USERNAME: an IT admin, without prompts.

The password comes from --password, --password-file, or PHIWATCH_ADMIN_PASSWORD(_FILE).
"""

from __future__ import annotations

from pathlib import Path

from django.contrib.auth import password_validation
from django.contrib.auth.models import Group, User
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from server.audit import log
from server.env import env_str
from server.output import cli_actor


class Command(BaseCommand):
    help = "Create (or reset the password of) an IT admin user in group it_admin."

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("--password")
        parser.add_argument("--password-file", type=Path)
        parser.add_argument("--email", default="")

    def handle(self, *args, username, password, password_file, email, **opts):
        if password_file:
            try:
                password = password_file.read_text(encoding="utf-8").strip()
            except OSError as e:
                raise CommandError(f"--password-file: {e.strerror}") from e
        password = password or env_str("PHIWATCH_ADMIN_PASSWORD")
        if not password:
            raise CommandError("no password: give --password, --password-file or "
                               "PHIWATCH_ADMIN_PASSWORD")
        with transaction.atomic():
            user, created = User.objects.get_or_create(username=username,
                                                       defaults={"email": email})
            try:
                password_validation.validate_password(password, user)
            except ValidationError as e:
                raise CommandError("password refused: " + " ".join(e.messages)) from e
            user.set_password(password)
            user.is_staff = True
            user.save()
            group, _ = Group.objects.get_or_create(name="it_admin")
            user.groups.add(group)
            log.record(cli_actor(), "user.create" if created else "user.password_reset",
                       f"user:{username}", {"group": "it_admin"})
        self.stdout.write(f"{'created' if created else 'updated'} admin {username} (it_admin)")
