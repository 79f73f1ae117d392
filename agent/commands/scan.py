"""`phiwatch scan PATH...`: classify files and folders now (not implemented yet)."""

from __future__ import annotations

import argparse
import sys


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("paths", nargs="+", metavar="PATH")
    parser.add_argument("--format", choices=("table", "jsonl"), default="table")


def run(args: argparse.Namespace) -> int:
    print("phiwatch scan: not implemented yet", file=sys.stderr)
    return 2
