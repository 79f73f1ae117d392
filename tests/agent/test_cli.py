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


def test_a_closed_pipe_is_not_a_traceback():
    # A reader that leaves early (`phiwatch status | head -1`) must not get a traceback:
    # a command that prints more than the pipe holds, its reader closing after one line.
    code = (
        "import sys, types\n"
        "from agent import cli\n"
        "m = types.ModuleType('many')\n"
        "m.add_arguments = lambda p: None\n"
        "m.run = lambda a: [print('x' * 100) for _ in range(100000)] and 0\n"
        "cli.COMMANDS['many'] = m\n"
        "sys.exit(cli.main(['many']))\n"
    )
    proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE)
    proc.stdout.readline()
    proc.stdout.close()
    err = proc.stderr.read().decode()
    assert proc.wait(timeout=60) == 141
    assert "Traceback" not in err and "BrokenPipe" not in err
