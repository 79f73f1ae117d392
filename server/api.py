"""The agent API (django-ninja), mounted at /api/v1/. Routers live in each app's api.py."""

from __future__ import annotations

from ninja import NinjaAPI

api = NinjaAPI(title="phiwatch agent API", version="1", urls_namespace="api-v1")
