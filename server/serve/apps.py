from __future__ import annotations

from django.apps import AppConfig


class ServeConfig(AppConfig):
    name = "server.serve"
    label = "serve"

    def ready(self) -> None:
        from server.serve import checks  # noqa: F401 - registers the system checks
