"""The few policy values the console reads (rules/policy.yaml plus the server's overrides)."""

from __future__ import annotations

from functools import lru_cache
from typing import Any

import yaml

from server.home import rules_dir


@lru_cache(maxsize=1)
def _defaults() -> dict[str, Any]:
    return yaml.safe_load((rules_dir() / "policy.yaml").read_text(encoding="utf-8")) or {}


def value(key: str, default: Any = None) -> Any:
    from server.policy.models import PolicyRevision

    latest = PolicyRevision.objects.order_by("-id").values_list("overrides", flat=True).first()
    if latest and key in latest:
        return latest[key]
    return _defaults().get(key, default)


def silent_after_seconds() -> int:
    return int(value("silent_after_seconds", 259200))
