"""OS version still supported: the oldest release per OS/distro comes from
rules/policy.yaml ``os_supported``. HIPAA 164.308(a)(1)(ii)(B) risk management: an OS past
end of life gets no security patches (same section as the server console's control).

- Linux: /etc/os-release ID and VERSION_ID (os-release(5)); a distro the policy does not
  name is unknown, not a pass.
- macOS: ``sw_vers -productVersion``.
- Windows: Win32_OperatingSystem.Version (10.0.<build>; Windows 11 is 10.0.22000+).
"""

from __future__ import annotations

import re
from typing import Any

from agent.posture import linux, windows
from agent.posture.errors import ProbeUnknown
from agent.posture.result import FAIL, PASS, UNKNOWN, CheckResult
from agent.runner import Runner

ID = "os_supported"
HIPAA = "164.308(a)(1)(ii)(B)"
FIX = {
    "linux": "Upgrade to a supported release of your distribution",
    "darwin": "Upgrade macOS: System Settings > General > Software Update",
    "windows": "Upgrade Windows: Settings > Windows Update (feature update)",
}


def policy_text(policy: dict) -> str:
    supported = policy.get("os_supported") or {}
    return "supported release (" + ", ".join(f"{k} >= {v}" for k, v in supported.items()) + ")"


def version_tuple(text: str) -> tuple[int, ...]:
    return tuple(int(n) for n in re.findall(r"\d+", text))


def probe_linux(run: Runner) -> dict[str, Any]:
    release = linux.os_release(run)
    distro = release.get("ID", "")
    version = release.get("VERSION_ID", "")
    if not version:
        raise ProbeUnknown(f"no VERSION_ID for {distro or 'this distribution'} (rolling release?)")
    return {"key": distro, "version": version,
            "name": release.get("PRETTY_NAME") or f"{distro} {version}"}


def probe_darwin(run: Runner) -> dict[str, Any]:
    result = run.run(["sw_vers", "-productVersion"])
    if not result.ok or not result.stdout.strip():
        raise linux.command_failed(result, "sw_vers")
    version = result.stdout.strip()
    return {"key": "darwin", "version": version, "name": f"macOS {version}"}


OS_SCRIPT = (
    "$o = Get-CimInstance Win32_OperatingSystem; "
    "ConvertTo-Json -Compress -InputObject @{Version=$o.Version; Caption=$o.Caption}"
)


def probe_windows(run: Runner) -> dict[str, Any]:
    data = windows.powershell(run, "os_version", OS_SCRIPT)
    if not isinstance(data, dict) or not data.get("Version"):
        raise ProbeUnknown("Windows version not reported")
    return {"key": "windows", "version": str(data["Version"]),
            "name": f"{data.get('Caption') or 'Windows'} {data['Version']}"}


def evaluate(facts: dict[str, Any], policy: dict, os_name: str, context: dict) -> CheckResult:
    minimum = (policy.get("os_supported") or {}).get(facts["key"])
    details = dict(facts, minimum=minimum)
    if minimum is None:
        return CheckResult(ID, UNKNOWN, facts["name"], policy_text(policy), HIPAA,
                           reason=f"no supported-version policy for {facts['key']}", details=details)
    ok = version_tuple(facts["version"]) >= version_tuple(minimum)
    return CheckResult(ID, PASS if ok else FAIL, facts["name"], f"{facts['key']} >= {minimum}",
                       HIPAA, fix=None if ok else FIX[os_name], details=details)
