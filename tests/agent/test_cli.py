from __future__ import annotations

import subprocess
import sys

from agent import __version__
from agent.cli import build_parser, main


def test_version_flag_prints_version():
    out = subprocess.run(
        [sys.executable, "-m", "agent", "--version"], capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == f"phiwatch {__version__}"


def test_no_command_is_a_usage_error(capsys):
    assert main([]) == 2


def test_every_command_is_registered():
    parser = build_parser()
    sub = next(a for a in parser._actions if a.dest == "command")
    assert set(sub.choices) == {"scan", "posture", "enroll", "run", "status"}
