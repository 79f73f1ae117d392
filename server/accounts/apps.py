from __future__ import annotations

from django.apps import AppConfig
from django.db.models.signals import post_migrate


class AccountsConfig(AppConfig):
    name = "server.accounts"
    label = "accounts"
    verbose_name = "Console accounts"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from server.accounts import checks  # noqa: F401  (registers the system checks)
        from server.accounts.roles import sync_groups

        # Groups hold permissions, which exist only after migrate: rebuild them then, so a
        # change to ROLES reaches every database on its next migrate.
        post_migrate.connect(sync_groups, sender=self)
