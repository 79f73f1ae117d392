"""URL map. The agent API lives under /api/v1/ (server/api.py); the console adds its own."""

from __future__ import annotations

from django.http import JsonResponse
from django.urls import include, path, re_path

from server.api import api


def unknown_api_version(request, version: str):
    return JsonResponse(
        {"detail": f"unknown API version {version!r}; this server speaks v1", "field": None},
        status=404,
    )


urlpatterns = [
    path("api/v1/", api.urls),
    path("accounts/", include("server.accounts.urls")),
    path("console/lifecycle/", include("server.lifecycle.urls")),
    path("console/", include("server.console.urls")),
    re_path(r"^api/(?P<version>(?!v1/)[^/]+)/", unknown_api_version),
]
