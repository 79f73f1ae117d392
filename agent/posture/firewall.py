"""Firewall on. HIPAA 164.312(e)(1) transmission security; 164.308(a)(1)(ii)(B).

- Linux: ``systemctl is-active ufw firewalld nftables`` (any user; ``ufw status`` and
  ``firewall-cmd`` need root or polkit and a refusal looks like "off", mondoo PR#10416).
  ufw's unit stays "active" even when ufw is disabled, so /etc/ufw/ufw.conf must say
  ENABLED=yes; a bare nftables unit counts only when /etc/nftables.conf drops input by
  default (Wazuh RHEL 9 28077).
- macOS: ``socketfilterfw --getglobalstate``: parse ``State = N``, pass when N >= 1
  (state 2, "blocking all", has no "enabled" in it: Mac-Health-Check PR#8).
- Windows: Get-NetFirewallProfile from the ActiveStore (GPO wins there, OPSWAT KB).
"""

from __future__ import annotations

import re
from typing import Any

from agent.posture import windows
from agent.posture.errors import ProbeUnknown
from agent.posture.linux import command_failed
from agent.posture.result import FAIL, PASS, CheckResult
from agent.runner import Runner

ID = "firewall"
HIPAA = "164.312(e)(1)"
FIX = {
    "linux": "Turn the firewall on: sudo ufw enable (or: sudo systemctl enable --now firewalld)",
    "darwin": "System Settings > Network > Firewall: on "
              "(or: sudo /usr/libexec/ApplicationFirewall/socketfilterfw --setglobalstate on)",
    "windows": "Turn on Windows Defender Firewall for every profile: "
               "Set-NetFirewallProfile -All -Enabled True",
}
UNITS = ("ufw", "firewalld", "nftables")


def policy_text(policy: dict) -> str:
    return "firewall on"


# ---------------------------------------------------------------- Linux


def parse_is_active(stdout: str, units: tuple[str, ...] = UNITS) -> dict[str, str] | None:
    """One state per unit, in order; None when systemctl did not answer for each."""
    lines = [line.strip() for line in stdout.splitlines() if line.strip()]
    if len(lines) != len(units):
        return None
    return dict(zip(units, lines, strict=True))


def parse_ufw_conf(text: str) -> bool:
    return bool(re.search(r"^\s*ENABLED\s*=\s*yes\s*$", text, re.M | re.I))


def parse_nftables_conf(text: str) -> bool:
    """True when an input hook chain drops by default."""
    return bool(re.search(r"hook\s+input[^}]*policy\s+drop", text, re.S))


def probe_linux(run: Runner) -> dict[str, Any]:
    result = run.run(["systemctl", "is-active", *UNITS])
    if result.error:
        raise command_failed(result, "systemctl")
    states = parse_is_active(result.stdout)
    if states is None:
        # e.g. "System has not been booted with systemd as init system (PID 1)"
        raise ProbeUnknown("systemd not running: firewall service state not readable")
    ufw_conf = run.read("/etc/ufw/ufw.conf")
    nft_conf = run.read("/etc/nftables.conf")
    ufw_on = states["ufw"] == "active" and parse_ufw_conf(ufw_conf.text or "")
    nft_on = states["nftables"] == "active" and parse_nftables_conf(nft_conf.text or "")
    active = [n for n, on in (("ufw", ufw_on), ("firewalld", states["firewalld"] == "active"),
                               ("nftables", nft_on)) if on]
    return {"enabled": bool(active), "active": active, "units": states,
            "observed": f"{', '.join(active)} active" if active else
            "no firewall active (ufw, firewalld, nftables)"}


# ---------------------------------------------------------------- macOS

SOCKETFILTERFW = "/usr/libexec/ApplicationFirewall/socketfilterfw"


def parse_socketfilterfw(stdout: str) -> int:
    m = re.search(r"State = (\d)", stdout)
    if not m:
        raise ProbeUnknown("socketfilterfw output not recognised")
    return int(m.group(1))


def probe_darwin(run: Runner) -> dict[str, Any]:
    result = run.run([SOCKETFILTERFW, "--getglobalstate"])
    if result.error:
        raise command_failed(result, "socketfilterfw")
    state = parse_socketfilterfw(result.stdout)
    text = {0: "application firewall off", 1: "application firewall on",
            2: "application firewall on, blocking all incoming"}.get(state, f"state {state}")
    return {"enabled": state >= 1, "state": state, "observed": text}


# ---------------------------------------------------------------- Windows

FIREWALL_SCRIPT = (
    "$out = @(Get-NetFirewallProfile -PolicyStore ActiveStore | ForEach-Object { "
    "[pscustomobject]@{Name=[string]$_.Name; Enabled=[string]$_.Enabled} }); "
    "ConvertTo-Json -InputObject $out -Compress"
)


def parse_windows(data: Any) -> dict[str, Any]:
    profiles = {str(p.get("Name")): str(p.get("Enabled")) for p in windows.as_list(data)
                if isinstance(p, dict)}
    if not profiles:
        raise ProbeUnknown("no firewall profiles reported")
    off = [n for n, e in profiles.items() if e.lower() != "true"]
    return {"enabled": not off, "profiles": profiles,
            "observed": "on for all profiles" if not off else f"off for {', '.join(off)}"}


def probe_windows(run: Runner) -> dict[str, Any]:
    return parse_windows(windows.powershell(run, "firewall", FIREWALL_SCRIPT))


def evaluate(facts: dict[str, Any], policy: dict, os_name: str, context: dict) -> CheckResult:
    status = PASS if facts["enabled"] else FAIL
    details = {k: v for k, v in facts.items() if k != "observed"}
    return CheckResult(ID, status, facts["observed"], policy_text(policy), HIPAA,
                       fix=None if status == PASS else FIX[os_name], details=details)
