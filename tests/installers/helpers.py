"""Helpers shared by the installer tests (fixtures are in conftest.py)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
VENV_BIN = Path(sys.executable).parent


def skip_if_not_implemented(command: str) -> None:
    """Skip while `phiwatch COMMAND` is still the skeleton's placeholder (others build it today)."""
    source = (ROOT / "agent" / "commands" / f"{command}.py").read_text()
    if "not implemented yet" in source:
        pytest.skip(f"phiwatch {command} is not implemented yet")
