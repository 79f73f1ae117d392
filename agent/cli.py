"""`phiwatch` command line: one module per sub-command under agent/commands/.

Each command module exposes ``add_arguments(parser)`` and ``run(args) -> int``, so a
new command is one new module and one line in COMMANDS.
"""

from __future__ import annotations

import argparse
import os
import sys

from agent import __version__
from agent.commands import enroll, posture, run, scan, status

COMMANDS = {
    "scan": scan,
    "posture": posture,
    "enroll": enroll,
    "run": run,
    "status": status,
}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="phiwatch",
        description="Find PHI on this workstation, check its safeguards, report to the server.",
    )
    parser.add_argument("--version", action="version", version=f"phiwatch {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name, module in COMMANDS.items():
        doc = (module.__doc__ or "").strip().splitlines()
        p = sub.add_parser(name, help=doc[0] if doc else None, description=module.__doc__)
        module.add_arguments(p)
        p.set_defaults(_run=module.run)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "_run", None):
        parser.print_help(sys.stderr)
        return 2
    try:
        return int(args._run(args) or 0)
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        # `phiwatch status | head`: the reader left. Point stdout at devnull so the
        # interpreter's final flush does not raise again (Python docs, "Note on SIGPIPE").
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 141


if __name__ == "__main__":
    sys.exit(main())
