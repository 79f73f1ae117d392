"""The effective workstation policy: rules/policy.yaml merged with the server's override.

The server may send a replacement policy at check-in (docs/protocol.md); keys it leaves
out keep the shipped values, nested mappings (``os_supported``) merge key by key.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import yaml

from agent.paths import rules_dir
from agent.posture.errors import PolicyError

# Keys the agent reads, with the type each must have. Unknown keys pass through (the
# server reads some that the agent does not).
_INT_KEYS = (
    "screen_lock_max_seconds",
    "auto_logoff_max_seconds",
    "checkin_interval_seconds",
    "posture_interval_seconds",
    "rescan_interval_seconds",
)
_BOOL_KEYS = ("auto_logoff_accept_screen_lock", "removable_media_allowed")


def _merge(base: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    out = copy.deepcopy(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = _merge(out[key], value)
        else:
            out[key] = copy.deepcopy(value)
    return out


def _validate(policy: dict[str, Any], source: str) -> None:
    for key in _INT_KEYS:
        value = policy.get(key)
        if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < 0):
            raise PolicyError(f"{source}: {key} must be a whole number of seconds >= 0")
    for key in _BOOL_KEYS:
        value = policy.get(key)
        if value is not None and not isinstance(value, bool):
            raise PolicyError(f"{source}: {key} must be true or false")
    supported = policy.get("os_supported")
    if supported is not None and not (
        isinstance(supported, dict) and all(isinstance(v, str) for v in supported.values())
    ):
        raise PolicyError(f"{source}: os_supported must map an OS or distro to a version string")


def read_policy_file(path: str | Path) -> dict:
    """A policy file (YAML, so JSON too) as a mapping; raises PolicyError saying why not."""
    try:
        data = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except OSError as e:
        raise PolicyError(f"{path}: cannot read ({e.strerror or type(e).__name__})") from e
    except yaml.YAMLError as e:
        raise PolicyError(f"{path}: not valid YAML or JSON") from e
    if not isinstance(data, dict):
        raise PolicyError(f"{path}: must be a mapping of policy keys to values")
    return data


def load_policy(override: dict | None = None, path: str | Path | None = None) -> dict:
    """rules/policy.yaml (or ``path``) merged with ``override``; raises PolicyError."""
    path = Path(path) if path else rules_dir() / "policy.yaml"
    data = read_policy_file(path)
    _validate(data, str(path))
    if override is None:
        return data
    if not isinstance(override, dict):
        raise PolicyError("policy override must be a mapping of keys to values")
    merged = _merge(data, override)
    _validate(merged, "policy override")
    return merged
