from __future__ import annotations

from django.apps import AppConfig


class CheckinsConfig(AppConfig):
    name = "server.checkins"
    label = "checkins"
    default_auto_field = "django.db.models.BigAutoField"
