"""The few policy values the console reads, from the server's effective policy
(rules/policy.yaml plus overrides; cached per process by server.policy.effective)."""

from __future__ import annotations

from typing import Any


def value(key: str, default: Any = None) -> Any:
    from server.policy.effective import effective

    return effective()[0].get(key, default)


def silent_after_seconds() -> int:
    return int(value("silent_after_seconds", 259200))
