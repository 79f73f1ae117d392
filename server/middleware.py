"""Refuse oversized bodies before Django reads them (docs/protocol.md: 1 MiB, 413)."""

from __future__ import annotations

from django.conf import settings
from django.http import JsonResponse

DRAIN_LIMIT = 64 * 1024 * 1024  # beyond this, just close: not worth the bandwidth


class BodyLimitMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        length = request.META.get("CONTENT_LENGTH") or "0"
        try:
            size = int(length)
        except ValueError:
            return JsonResponse({"detail": "bad Content-Length", "field": None}, status=400)
        if size > settings.MAX_BODY_BYTES:
            if size <= DRAIN_LIMIT:
                # Read and drop the body first: answering while the client still sends
                # makes it see a reset (an SSL EOF) instead of the 413, and an agent would
                # retry a network error forever instead of dead-lettering the report.
                while request.read(65536):
                    pass
            return JsonResponse(
                {"detail": f"body too large: at most {settings.MAX_BODY_BYTES} bytes",
                 "field": None},
                status=413,
            )
        return self.get_response(request)
