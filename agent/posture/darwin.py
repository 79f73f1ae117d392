"""macOS sources shared by several checks: plists from diskutil, NSUserDefaults.

Machine formats first (reference 0.3): ``diskutil ... -plist``, and NSUserDefaults read
through JavaScript for Automation, which returns managed (MDM-forced) values ahead of the
user's own - the way mSCP and Wazuh read them (reference 2.1).
"""

from __future__ import annotations

import json
import plistlib
from typing import Any

from agent.posture.errors import ProbeUnknown
from agent.posture.linux import command_failed
from agent.runner import Runner


def plist(run: Runner, argv: list[str], what: str | None = None) -> Any:
    result = run.run(argv, timeout=15.0)  # diskutil can take seconds (reference 8)
    if not result.ok:
        raise command_failed(result, what or argv[0])
    return parse_plist(result.stdout, what or argv[0])


def parse_plist(text: str, what: str = "plist") -> Any:
    try:
        return plistlib.loads(text.encode("utf-8"))
    except Exception as e:  # plistlib raises several types on bad input
        raise ProbeUnknown(f"{what} output did not parse") from e


def defaults_script(suite: str, keys: list[str]) -> str:
    keys_js = json.dumps(keys)
    return (
        "function run(){var d=$.NSUserDefaults.alloc.initWithSuiteName(" + json.dumps(suite) + ");"
        "var o={};" + keys_js + ".forEach(function(k){o[k]=ObjC.deepUnwrap(d.objectForKey(k));});"
        "return JSON.stringify(o);}"
    )


def defaults(run: Runner, suite: str, keys: list[str]) -> dict[str, Any]:
    """Effective values of ``keys`` in ``suite`` (managed first); absent keys map to None.

    Must run in the console user's context for per-user suites (reference 2.1).
    Replay key: ``osascript:<suite>``.
    """
    result = run.run(["osascript", "-l", "JavaScript", "-e", defaults_script(suite, keys)],
                     key=f"osascript:{suite}")
    if not result.ok:
        raise command_failed(result, "osascript")
    return parse_defaults(result.stdout, keys)


def parse_defaults(stdout: str, keys: list[str]) -> dict[str, Any]:
    try:
        data = json.loads(stdout.strip() or "{}")
    except ValueError as e:
        raise ProbeUnknown("osascript output did not parse") from e
    if not isinstance(data, dict):
        raise ProbeUnknown("osascript output did not parse")
    return {k: data.get(k) for k in keys}


def console_user(run: Runner) -> str | None:
    """The user at the console, or None at the login window (reference 8).

    Raises ProbeUnknown when the console owner cannot be read at all."""
    result = run.run(["stat", "-f%Su", "/dev/console"])
    if not result.ok:
        raise command_failed(result, "stat")
    user = result.stdout.strip()
    return None if user in ("", "root", "loginwindow") else user
