"""Windows sources shared by several checks: PowerShell / CIM objects as JSON.

``manage-bde`` and ``netsh`` print translated text; CIM objects serialised with
ConvertTo-Json do not (reference 0.3, Fleet: "The text is localized"). Enums are cast to
numbers or [string] in the scripts, so nothing depends on the display language.
"""

from __future__ import annotations

import json
from typing import Any

from agent.posture.errors import ProbeUnknown
from agent.posture.linux import command_failed
from agent.runner import Runner

POWERSHELL = ["powershell.exe", "-NoProfile", "-NonInteractive", "-ExecutionPolicy", "Bypass",
              "-Command"]


def powershell(run: Runner, name: str, script: str, timeout: float = 20.0) -> Any:
    """Run a PowerShell script that prints JSON; the replay key is ``powershell:<name>``."""
    # UTF-8 out: a model or profile name outside the OEM code page must survive.
    prologue = "$ErrorActionPreference='Stop'; [Console]::OutputEncoding=[Text.Encoding]::UTF8; "
    result = run.run([*POWERSHELL, prologue + script], timeout=timeout, key=f"powershell:{name}")
    if not result.ok:
        raise command_failed(result, f"PowerShell ({name})")
    return parse_json(result.stdout, name)


def parse_json(stdout: str, name: str = "PowerShell") -> Any:
    text = stdout.strip()
    if not text:
        return None
    try:
        return json.loads(text)
    except ValueError as e:
        raise ProbeUnknown(f"{name} output did not parse") from e


def as_list(value: Any) -> list[Any]:
    """ConvertTo-Json prints one object bare and several as an array."""
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def require_admin(run: Runner) -> None:
    if not run.is_admin():
        raise ProbeUnknown("needs administrator")
