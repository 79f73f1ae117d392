"""The effective policy: rules/policy.yaml with the newest server override on top."""

from __future__ import annotations

import functools
import time
from typing import Any

import yaml

from server.errors import ConfigError
from server.home import rules_dir
from server.policy.models import PolicyRevision


@functools.cache
def base_policy() -> dict[str, Any]:
    path = rules_dir() / "policy.yaml"
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as e:
        raise ConfigError(f"cannot load {path}: {e}") from e
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: expected a mapping")
    return data


# Per-process cache: every check-in needs the policy, it changes rarely, and a change
# reaches the other server processes within CACHE_SECONDS (agents pick it up at their
# next check-in anyway).
CACHE_SECONDS = 5.0
_cache: tuple[float, dict[str, Any], int] | None = None


def effective() -> tuple[dict[str, Any], int]:
    """(policy, policy_version). The version grows with every server-side revision."""
    global _cache
    now = time.monotonic()
    if _cache is not None and now - _cache[0] < CACHE_SECONDS:
        return dict(_cache[1]), _cache[2]
    base = base_policy()
    rev = PolicyRevision.objects.order_by("-id").only("id", "overrides").first()
    policy = {**base, **(rev.overrides if rev else {})}
    version = int(base.get("version", 1)) + (rev.id if rev else 0)
    _cache = (now, policy, version)
    return dict(policy), version


def clear_cache() -> None:
    global _cache
    _cache = None


def set_overrides(overrides: dict[str, Any], actor: str, note: str = "") -> int:
    """Store a new revision (unknown keys refused) and audit it; returns the new version."""
    from server.audit import log

    base = base_policy()
    unknown = sorted(set(overrides) - set(base))
    if unknown:
        raise ConfigError(f"unknown policy keys: {', '.join(unknown)}")
    for key, value in overrides.items():
        # Same type as the shipped default (bool is not a number here): a threshold set
        # to "soon" must fail now, not in every check-in's violation evaluation.
        want = type(base[key])
        ok = isinstance(value, bool) if want is bool else (
            isinstance(value, int | float) and not isinstance(value, bool) and value >= 0
            if want in (int, float) else isinstance(value, want))
        if not ok:
            raise ConfigError(f"{key}: expected {want.__name__} like {base[key]!r}, "
                              f"got {value!r}")
    rev = PolicyRevision.objects.create(overrides=overrides, actor=actor, note=note)
    clear_cache()
    log.record(actor, "policy.update", f"policy:{rev.id}", {"keys": sorted(overrides)})
    return effective()[1]
