"""`phiwatch` command line: one module per sub-command under agent/commands/.

Each command module exposes ``add_arguments(parser)`` and ``run(args) -> int``, so a
new command is one new module and its name in COMMANDS.

Command modules are imported when first needed: `phiwatch scan` loads the scan command
only, not enroll's HTTPS stack or posture's psutil (start-up time counts for every scan).
`phiwatch --help` (or anything that is not ``COMMAND ...``) still loads them all.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from collections.abc import Callable, Iterator, MutableMapping
from functools import partial
from types import ModuleType

from agent import __version__


def _loader(name: str) -> Callable[[], ModuleType]:
    # By name, as the format readers are: the binary's spec bundles every agent module
    # (collect_submodules("agent") in installers/phiwatch.spec).
    return partial(importlib.import_module, f"agent.commands.{name}")


class _Commands(MutableMapping):
    """Command name -> command module, imported on first lookup; ordered as registered."""

    def __init__(self, loaders: dict[str, Callable[[], ModuleType]]) -> None:
        self._loaders = dict(loaders)
        self._modules: dict[str, ModuleType] = {}

    def __getitem__(self, name: str) -> ModuleType:
        if name not in self._modules:
            self._modules[name] = self._loaders[name]()
        return self._modules[name]

    def __setitem__(self, name: str, module: ModuleType) -> None:
        self._loaders[name] = lambda: module
        self._modules[name] = module

    def __delitem__(self, name: str) -> None:
        del self._loaders[name]
        self._modules.pop(name, None)

    def __iter__(self) -> Iterator[str]:
        return iter(self._loaders)

    def __len__(self) -> int:
        return len(self._loaders)

    def __contains__(self, name: object) -> bool:
        return name in self._loaders


COMMANDS: MutableMapping[str, ModuleType] = _Commands(
    {name: _loader(name) for name in ("scan", "posture", "enroll", "run", "status")})


def build_parser(only: str | None = None) -> argparse.ArgumentParser:
    """The full parser; with ``only``, the same parser with that one command's sub-parser
    (what parsing ``only ...`` needs: the other commands are not imported)."""
    parser = argparse.ArgumentParser(
        prog="phiwatch",
        description="Find PHI on this workstation, check its safeguards, report to the server.",
    )
    parser.add_argument("--version", action="version", version=f"phiwatch {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMANDS:
        if only is not None and name != only:
            continue
        module = COMMANDS[name]
        doc = (module.__doc__ or "").strip().splitlines()
        p = sub.add_parser(name, help=doc[0] if doc else None, description=module.__doc__)
        module.add_arguments(p)
        p.set_defaults(_run=module.run)
    return parser


def main(argv: list[str] | None = None) -> int:
    if argv is None:
        argv = sys.argv[1:]
    # `phiwatch COMMAND ...`: argparse hands everything after COMMAND to its sub-parser,
    # so only that command's module is needed. Anything else (--help, --version, no or an
    # unknown command) gets the full parser and its usual help and errors.
    only = argv[0] if argv and argv[0] in COMMANDS else None
    parser = build_parser(only)
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
