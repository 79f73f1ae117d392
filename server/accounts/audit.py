"""The console's one door to the audit chain (server.audit.log, owned by the audit app).

Actors are written as "user:<username>"; details never hold a finding's path or value.
"""

from __future__ import annotations

from typing import Any


def actor_of(user: Any) -> str:
    return f"user:{user.get_username()}" if user is not None else "user:anonymous"


def record(user: Any, action: str, target: str, details: dict | None = None) -> None:
    from server.audit import log  # imported late: the audit app is another engineer's

    log.record(actor_of(user), action, target, details or {})
