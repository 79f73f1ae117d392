"""Automatic OS updates on. HIPAA 164.308(a)(5)(ii)(B) protection from malicious software.

- Debian/Ubuntu: ``apt-config dump`` gives APT::Periodic::Unattended-Upgrade "1" and the
  unattended-upgrades package is installed (reference 6).
- Fedora/RHEL: dnf-automatic-install.timer enabled, or dnf-automatic.timer with
  ``apply_updates = yes`` in /etc/dnf/automatic.conf (dnf-automatic(8)).
- macOS: com.apple.SoftwareUpdate keys through NSUserDefaults (managed values count); an
  absent key is the OS default, on (Wazuh CIS macOS 35000-35002 pass on absent).
- Windows: policy NoAutoUpdate=1 fails; else the Windows Update agent's
  NotificationLevel (4 = scheduled install; 1 disabled; 2/3 only notify).
"""

from __future__ import annotations

import re
from typing import Any

from agent.posture import darwin, linux, windows
from agent.posture.errors import ProbeUnknown
from agent.posture.result import FAIL, PASS, CheckResult
from agent.runner import Runner

ID = "os_updates"
HIPAA = "164.308(a)(5)(ii)(B)"
FIX = {
    "debian": "sudo apt install unattended-upgrades && sudo dpkg-reconfigure -plow unattended-upgrades",
    "fedora": "sudo dnf install dnf-automatic && sudo systemctl enable --now dnf-automatic-install.timer",
    "linux": "Turn on your distribution's automatic security updates",
    "darwin": "System Settings > General > Software Update > Automatic updates: turn all on",
    "windows": "Settings > Windows Update: let updates install automatically "
               "(remove the NoAutoUpdate policy)",
}
DEBIAN_LIKE = ("debian", "ubuntu")
FEDORA_LIKE = ("fedora", "rhel", "centos")


def policy_text(policy: dict) -> str:
    return "automatic updates on"


# ---------------------------------------------------------------- Linux


def parse_apt_periodic(stdout: str) -> bool:
    m = re.search(r'^APT::Periodic::Unattended-Upgrade\s+"(\d+)";', stdout, re.M)
    return bool(m and int(m.group(1)) > 0)


def parse_dnf_automatic_conf(text: str) -> bool:
    return bool(re.search(r"^\s*apply_updates\s*=\s*(yes|true|1)\s*$", text, re.M | re.I))


def _family(release: dict[str, str]) -> str | None:
    ids = [release.get("ID", "")] + release.get("ID_LIKE", "").split()
    if any(i in DEBIAN_LIKE for i in ids):
        return "debian"
    if any(i in FEDORA_LIKE for i in ids):
        return "fedora"
    return None


def probe_linux(run: Runner) -> dict[str, Any]:
    release = linux.os_release(run)
    family = _family(release)
    if family == "debian":
        dump = run.run(["apt-config", "dump", "APT::Periodic::Unattended-Upgrade"])
        if not dump.ok:
            raise linux.command_failed(dump, "apt-config")
        pkg = run.run(["dpkg-query", "-W", "-f=${Status}", "unattended-upgrades"])
        installed = pkg.ok and pkg.stdout.strip().endswith("installed") and "not-installed" \
            not in pkg.stdout
        periodic = parse_apt_periodic(dump.stdout)
        # apt-daily-upgrade.timer is what runs unattended-upgrade; a disabled or masked
        # timer means it never runs (reference 6). Without systemd we cannot tell: None.
        timer = run.run(["systemctl", "is-enabled", "apt-daily-upgrade.timer"])
        state = timer.stdout.strip() if timer.error is None else ""
        timer_on = None if state not in ("enabled", "static", "disabled", "masked") \
            else state in ("enabled", "static")
        enabled = installed and periodic and timer_on is not False
        if enabled:
            observed = "unattended-upgrades on"
        elif not installed:
            observed = "unattended-upgrades not installed"
        elif not periodic:
            observed = "unattended-upgrades installed but APT::Periodic::Unattended-Upgrade is off"
        else:
            observed = f"apt-daily-upgrade.timer {state}"
        return {"enabled": enabled, "family": family, "observed": observed,
                "package_installed": installed, "periodic": periodic, "timer_enabled": timer_on}
    if family == "fedora":
        units = ("dnf-automatic-install.timer", "dnf-automatic.timer")
        result = run.run(["systemctl", "is-enabled", *units])
        if result.error:
            raise linux.command_failed(result, "systemctl")
        states = [line.strip() for line in result.stdout.splitlines() if line.strip()]
        if len(states) != 2:
            raise ProbeUnknown("systemd not running: timer state not readable")
        conf = run.read("/etc/dnf/automatic.conf")
        applies = parse_dnf_automatic_conf(conf.text or "")
        enabled = states[0] == "enabled" or (states[1] == "enabled" and applies)
        observed = "dnf-automatic installs updates" if enabled else (
            "dnf-automatic only downloads (apply_updates = no)" if states[1] == "enabled"
            else "dnf-automatic timers not enabled")
        return {"enabled": enabled, "family": family, "observed": observed,
                "timers": dict(zip(units, states, strict=True))}
    raise ProbeUnknown(f"distribution not supported: {release.get('ID', 'unknown')}")


# ---------------------------------------------------------------- macOS

SU_KEYS = ["AutomaticCheckEnabled", "AutomaticDownload", "AutomaticallyInstallMacOSUpdates",
           "CriticalUpdateInstall", "ConfigDataInstall"]


def parse_darwin(values: dict[str, Any]) -> dict[str, Any]:
    off = [k for k in SU_KEYS if values.get(k) is not None and not values[k]]
    return {"enabled": not off, "settings": values,
            "observed": "automatic updates on" if not off else f"off: {', '.join(off)}"}


def probe_darwin(run: Runner) -> dict[str, Any]:
    return parse_darwin(darwin.defaults(run, "com.apple.SoftwareUpdate", SU_KEYS))


# ---------------------------------------------------------------- Windows

UPDATES_SCRIPT = (
    "$p = Get-ItemProperty -Path 'HKLM:\\SOFTWARE\\Policies\\Microsoft\\Windows\\WindowsUpdate\\AU' "
    "-ErrorAction SilentlyContinue; $n = $null; "
    "try { $n = [int](New-Object -ComObject Microsoft.Update.AutoUpdate).Settings.NotificationLevel } "
    "catch { }; "
    "ConvertTo-Json -Compress -InputObject @{NoAutoUpdate=$p.NoAutoUpdate; AUOptions=$p.AUOptions; "
    "NotificationLevel=$n}"
)
# AutomaticUpdatesNotificationLevel enumeration (wuapi.h, reference 6).
_LEVELS = {0: "not configured", 1: "disabled", 2: "notify before download",
           3: "notify before installation", 4: "scheduled installation"}


def parse_windows(data: Any) -> dict[str, Any]:
    if not isinstance(data, dict):
        raise ProbeUnknown("PowerShell (updates) output did not parse")
    if data.get("NoAutoUpdate") == 1:
        return {"enabled": False, "observed": "disabled by policy (NoAutoUpdate=1)", **data}
    level = data.get("NotificationLevel")
    if level in (1, 2, 3):
        return {"enabled": False, "observed": f"Windows Update: {_LEVELS[level]}", **data}
    if level == 4:
        return {"enabled": True, "observed": "Windows Update installs automatically", **data}
    # Not configured: Windows 10/11 install updates automatically unless a policy says not.
    return {"enabled": True, "observed": "Windows Update default (automatic)", **data}


def probe_windows(run: Runner) -> dict[str, Any]:
    return parse_windows(windows.powershell(run, "os_updates", UPDATES_SCRIPT))


def evaluate(facts: dict[str, Any], policy: dict, os_name: str, context: dict) -> CheckResult:
    status = PASS if facts["enabled"] else FAIL
    fix = FIX.get(facts.get("family") or os_name, FIX[os_name])
    details = {k: v for k, v in facts.items() if k != "observed"}
    return CheckResult(ID, status, facts["observed"], policy_text(policy), HIPAA,
                       fix=None if status == PASS else fix, details=details)
