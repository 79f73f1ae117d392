from __future__ import annotations

from django.apps import AppConfig


class ServeConfig(AppConfig):
    name = "server.serve"
    label = "serve"
