from __future__ import annotations

from django.apps import AppConfig


class EnrollmentConfig(AppConfig):
    name = "server.enrollment"
    label = "enrollment"
    default_auto_field = "django.db.models.BigAutoField"
