"""Where the agent keeps its files.

One root per DESIGN.md: ``PHIWATCH_HOME`` when set (tests, demos, support), else the
per-OS locations from platformdirs. Every other module asks here; none builds a path
of its own.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import platformdirs

APP = "phiwatch"


def _home() -> Path | None:
    value = os.environ.get("PHIWATCH_HOME")
    return Path(value).expanduser() if value else None


def _ensure(path: Path) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    if os.name == "posix":
        # Agent state describes where PHI sits on this machine: owner only.
        try:
            path.chmod(0o700)
        except OSError:
            pass
    return path


def config_dir() -> Path:
    home = _home()
    return _ensure(home / "config" if home else Path(platformdirs.user_config_dir(APP, False)))


def state_dir() -> Path:
    home = _home()
    return _ensure(home / "state" if home else Path(platformdirs.user_state_dir(APP, False)))


def cache_dir() -> Path:
    home = _home()
    return _ensure(home / "cache" if home else Path(platformdirs.user_cache_dir(APP, False)))


def log_dir() -> Path:
    home = _home()
    return _ensure(home / "logs" if home else Path(platformdirs.user_log_dir(APP, False)))


def rules_dir() -> Path:
    """The shipped rules/: inside a pyinstaller bundle, beside the source tree otherwise."""
    override = os.environ.get("PHIWATCH_RULES")
    if override:
        return Path(override)
    bundle = getattr(sys, "_MEIPASS", None)
    if bundle:
        return Path(bundle) / "rules"
    return Path(__file__).resolve().parent.parent / "rules"
