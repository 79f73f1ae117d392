"""The agent's command line (`python -m agent`) run from this checkout, as tests run it."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def run_agent(*args: str, env: dict | None = None, timeout: float = 120,
              **kw) -> subprocess.CompletedProcess:
    """`phiwatch ARGS` with ``env`` (this process's environment when None), output
    captured as text."""
    return subprocess.run([sys.executable, "-m", "agent", *args], cwd=REPO, env=env,
                          capture_output=True, text=True, timeout=timeout, **kw)
