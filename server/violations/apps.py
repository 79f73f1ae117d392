from __future__ import annotations

from django.apps import AppConfig


class ViolationsConfig(AppConfig):
    name = "server.violations"
    label = "violations"
    default_auto_field = "django.db.models.BigAutoField"
