"""The agent API (django-ninja), mounted at /api/v1/. Routers live in each app's api.py.

Every error answers ``{"detail": "...", "field": "dotted.path" | null}`` (docs/protocol.md).
"""

from __future__ import annotations

from django.core.exceptions import RequestDataTooBig
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError, ValidationError

from server.errors import ApiError

api = NinjaAPI(title="phiwatch agent API", version="1", urls_namespace="api-v1")


def error(request, status: int, detail: str, field: str | None = None):
    return api.create_response(request, {"detail": detail, "field": field}, status=status)


def _field_of(loc: list) -> str | None:
    # ninja's loc is ("body", "payload", "findings", 0, "bytes"): drop the first two.
    parts = [str(p) for p in loc]
    if parts and parts[0] in ("body", "query", "path", "header"):
        parts = parts[1:]
        if parts and parts[0] == "payload":
            parts = parts[1:]
    return ".".join(parts) or None


@api.exception_handler(ValidationError)
def on_validation(request, exc: ValidationError):
    first = exc.errors[0] if exc.errors else {}
    field = _field_of(list(first.get("loc", [])))
    msg = first.get("msg", "invalid")
    if first.get("type") == "json_invalid" or "JSON" in msg and field is None:
        return error(request, 400, "malformed JSON body", None)
    detail = f"{field}: {msg}" if field else msg
    return error(request, 422, detail, field)


@api.exception_handler(AuthenticationError)
def on_auth(request, exc):
    return error(request, 401, "missing, unknown or revoked device token", None)


@api.exception_handler(ApiError)
def on_api_error(request, exc: ApiError):
    return error(request, exc.status, exc.detail, exc.field)


@api.exception_handler(RequestDataTooBig)
def on_too_big(request, exc):
    return error(request, 413, "body too large", None)


@api.exception_handler(HttpError)
def on_http_error(request, exc: HttpError):
    return error(request, exc.status_code, str(exc), None)


from server.checkins.api import router as checkins_router  # noqa: E402
from server.enrollment.api import router as enrollment_router  # noqa: E402
from server.lifecycle.api import router as lifecycle_router  # noqa: E402
from server.policy.api import router as policy_router  # noqa: E402

api.add_router("", enrollment_router)
api.add_router("", checkins_router)
api.add_router("", policy_router)
api.add_router("", lifecycle_router)
