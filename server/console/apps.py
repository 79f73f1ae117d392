from __future__ import annotations

from django.apps import AppConfig


class ConsoleConfig(AppConfig):
    name = "server.console"
    label = "console"
    verbose_name = "Compliance and IT console"
    default_auto_field = "django.db.models.BigAutoField"
