"""Table or JSON output for the command line's list commands."""

from __future__ import annotations

import getpass
import json
from datetime import datetime
from typing import Any


def cli_actor() -> str:
    try:
        return f"cli:{getpass.getuser()}"
    except Exception:  # no user name in this environment (containers)
        return "cli"


def _cell(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value)


def render(rows: list[dict[str, Any]], columns: list[str], fmt: str) -> str:
    if fmt == "json":
        return json.dumps(rows, indent=2, default=str)
    widths = {c: max([len(c)] + [len(_cell(r.get(c))) for r in rows]) for c in columns}
    lines = ["  ".join(c.upper().ljust(widths[c]) for c in columns).rstrip()]
    lines += ["  ".join(_cell(r.get(c)).ljust(widths[c]) for c in columns).rstrip() for r in rows]
    return "\n".join(lines)


def add_format(parser) -> None:
    parser.add_argument("--format", choices=["table", "json"], default="table")
