"""Console security settings: a Django setting wins, else the environment, else the default.

The environment variant lets a test or an operator change them for a real
`phiwatch-server run` process without touching settings.py.
"""

from __future__ import annotations

import os

from django.conf import settings


def _int(name: str, default: int) -> int:
    value = getattr(settings, name, None)
    if value is None:
        value = os.environ.get(f"PHIWATCH_{name}", default)
    return int(value)


def idle_seconds() -> int:
    """Console sessions end after this much inactivity: 164.312(a)(2)(iii) applies here too."""
    return _int("CONSOLE_IDLE_SECONDS", 900)


def lockout_threshold() -> int:
    """Consecutive failures (password or code) that lock an account."""
    return _int("CONSOLE_LOCKOUT_THRESHOLD", 5)


def lockout_seconds() -> int:
    return _int("CONSOLE_LOCKOUT_SECONDS", 900)


def throttle_per_ip() -> int:
    """Failures from one address within lockout_seconds() before it is refused outright."""
    return _int("CONSOLE_THROTTLE_PER_IP", 20)


def totp_for_all() -> bool:
    """TOTP is always required for IT admins; this extends it to every console user."""
    value = getattr(settings, "CONSOLE_TOTP_REQUIRED_FOR_ALL", None)
    if value is None:
        value = os.environ.get("PHIWATCH_CONSOLE_TOTP_REQUIRED_FOR_ALL", "0")
    return str(value).lower() in {"1", "true", "yes", "on"}
