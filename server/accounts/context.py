"""Template context every console page needs: what the user may do, the idle limit."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from server.accounts import conf
from server.accounts.roles import PERMISSIONS, ROLES, perm, role_of


def nav(request: HttpRequest) -> dict[str, Any]:
    user = request.user
    role = role_of(user) if user.is_authenticated else None
    return {
        "can": {c: user.has_perm(perm(c)) for c in PERMISSIONS} if user.is_authenticated else {},
        "role_label": ROLES[role]["label"] if role else ("Superuser" if user.is_superuser else ""),
        "idle_seconds": conf.idle_seconds(),
        "idle_minutes": max(1, conf.idle_seconds() // 60),
        "idle_text": idle_text(conf.idle_seconds()),
    }


def idle_text(seconds: int) -> str:
    """"15 minutes", or "20 seconds" when a test or a demo shortens the limit."""
    if seconds % 60 == 0:
        n = seconds // 60
        return f"{n} minute{'s' if n != 1 else ''}"
    return f"{seconds} second{'s' if seconds != 1 else ''}"
