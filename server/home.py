"""Where the server keeps its files: one data dir.

``PHIWATCH_SERVER_HOME`` when set (tests, demos, containers), else platformdirs' per-OS
user data dir. Holds the SQLite database, the TLS certificate and the generated secret key.
"""

from __future__ import annotations

import os
from pathlib import Path

import platformdirs

APP = "phiwatch-server"


def data_dir(create: bool = True) -> Path:
    value = os.environ.get("PHIWATCH_SERVER_HOME")
    path = Path(value).expanduser() if value else Path(platformdirs.user_data_dir(APP, False))
    if create:
        path.mkdir(parents=True, exist_ok=True)
        if os.name == "posix":
            try:
                # The database describes where PHI sits on the fleet: owner only.
                path.chmod(0o700)
            except OSError:
                pass
    return path


def rules_dir() -> Path:
    """rules/ shared with the agent: ``PHIWATCH_RULES`` or the source tree's rules/."""
    override = os.environ.get("PHIWATCH_RULES")
    if override:
        return Path(override)
    return Path(__file__).resolve().parent.parent / "rules"
