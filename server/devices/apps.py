from __future__ import annotations

from django.apps import AppConfig


class DevicesConfig(AppConfig):
    name = "server.devices"
    label = "devices"
    default_auto_field = "django.db.models.BigAutoField"
