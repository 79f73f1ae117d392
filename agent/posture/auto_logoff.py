"""Automatic logoff: a session that stays idle is ended. HIPAA 164.312(a)(2)(iii).

The rule is addressable and HHS accepts a password-protected screen saver instead
(reference 3), so ``auto_logoff_accept_screen_lock`` in rules/policy.yaml lets a passing
screen_lock satisfy this check; the observed text then says so.

- Linux: systemd-logind ``StopIdleSessionSec=`` from logind.conf and its drop-ins (later
  files win, logind.conf(5)), or GNOME's power plugin set to log out when inactive;
  shell ``TMOUT`` is listed but only ends text shells.
- macOS: ``com.apple.autologout.AutoLogOutDelay`` in .GlobalPreferences (seconds, 0 = off).
- Windows: no built-in console idle logoff; Remote Desktop ``MaxIdleTime`` (ms) policy.
"""

from __future__ import annotations

import re
from typing import Any

from agent.posture import darwin, linux, windows
from agent.posture.errors import ProbeUnknown
from agent.posture.result import FAIL, PASS, UNKNOWN, CheckResult
from agent.runner import Runner

ID = "auto_logoff"
HIPAA = "164.312(a)(2)(iii)"
FIX = {
    "linux": "Set StopIdleSessionSec=900 in /etc/systemd/logind.conf.d/phiwatch.conf "
             "(systemd >= 252), or keep a password screen lock on",
    "darwin": "System Settings > Privacy & Security > Advanced: 'Log out automatically after "
              "inactivity' (or an MDM profile), or keep a password screen lock on",
    "windows": "Set a password-protected screen lock within policy (Interactive logon: Machine "
               "inactivity limit); for Remote Desktop set MaxIdleTime",
}


def policy_text(policy: dict) -> str:
    text = f"idle sessions end within {policy.get('auto_logoff_max_seconds', 900)} s"
    if policy.get("auto_logoff_accept_screen_lock", True):
        text += " (or password screen lock)"
    return text


# ---------------------------------------------------------------- Linux

LOGIND_MAIN = "/etc/systemd/logind.conf"
# Drop-in folders, lowest precedence first; a same-named file in a later folder masks
# the earlier one, and all drop-ins apply in file-name order (systemd.unit(5)).
LOGIND_DIRS = ("/usr/lib/systemd/logind.conf.d", "/usr/local/lib/systemd/logind.conf.d",
               "/run/systemd/logind.conf.d", "/etc/systemd/logind.conf.d")
SHELL_FILES = ("/etc/profile", "/etc/bash.bashrc", "/etc/bashrc")

_UNITS = {"us": 1e-6, "usec": 1e-6, "ms": 1e-3, "msec": 1e-3, "": 1, "s": 1, "sec": 1,
          "second": 1, "seconds": 1, "m": 60, "min": 60, "minute": 60, "minutes": 60,
          "h": 3600, "hr": 3600, "hour": 3600, "hours": 3600, "d": 86400, "day": 86400,
          "days": 86400, "w": 604800, "week": 604800, "weeks": 604800}


def parse_timespan(text: str) -> int | None:
    """systemd.time(7) span ("900", "15min", "1h 30min", "infinity") -> seconds; None = off."""
    text = text.strip().lower()
    if text in ("", "infinity"):
        return None
    parts = re.findall(r"(\d+(?:\.\d+)?)\s*([a-z]*)", text)
    if not parts or re.sub(r"[\d.\sa-z]", "", text):
        raise ProbeUnknown("logind time span not understood")
    total = 0.0
    for number, unit in parts:
        if unit not in _UNITS:
            raise ProbeUnknown("logind time span not understood")
        total += float(number) * _UNITS[unit]
    return int(total) or None


def parse_logind(texts: list[str]) -> dict[str, str]:
    """[Login] settings of logind.conf files applied in order (later wins)."""
    out: dict[str, str] = {}
    for text in texts:
        section = None
        for line in text.splitlines():
            line = line.strip()
            if not line or line[0] in "#;":
                continue
            if line.startswith("["):
                section = line.strip("[]").strip()
            elif section == "Login" and "=" in line:
                key, _, value = line.partition("=")
                out[key.strip()] = value.strip()
    return out


def parse_systemd_version(text: str) -> int | None:
    """``systemctl --version`` first line: "systemd 252 (252.22-1~deb12u1)"."""
    m = re.match(r"systemd (\d+)", text.strip())
    return int(m.group(1)) if m else None


def parse_tmout(text: str) -> int | None:
    m = re.search(r"^\s*(?:(?:readonly|export|declare\s+-\w+)\s+)*TMOUT=(\d+)", text, re.M)
    return int(m.group(1)) if m else None


def probe_linux(run: Runner) -> dict[str, Any]:
    files: dict[str, str] = {}
    for folder in LOGIND_DIRS:
        for name in run.listdir(folder) or []:
            if name.endswith(".conf"):
                files[name] = f"{folder}/{name}"
    paths = [LOGIND_MAIN] + [files[n] for n in sorted(files)]
    texts = []
    for path in paths:
        result = run.read(path)
        if result.ok:
            texts.append(result.text or "")
        elif result.error not in ("not_found",):
            raise ProbeUnknown(f"cannot read {path}")
    settings = parse_logind(texts)
    stop = parse_timespan(settings.get("StopIdleSessionSec", "infinity"))
    note = None
    if stop is not None:
        # StopIdleSessionSec= exists since systemd 252; older logind ignores it.
        version = parse_systemd_version(run.run(["systemctl", "--version"]).stdout)
        if version is None or version < 252:
            stop, note = None, "StopIdleSessionSec set but needs systemd >= 252"
    tmout = None
    shell_files = list(SHELL_FILES) + [f"/etc/profile.d/{n}" for n in run.listdir("/etc/profile.d") or []
                                       if n.endswith(".sh")]
    for path in shell_files:
        result = run.read(path)
        if result.ok:
            tmout = parse_tmout(result.text or "") or tmout
    facts = {"logoff_seconds": stop, "mechanism": "logind StopIdleSessionSec",
             "idle_action": settings.get("IdleAction", "ignore"), "shell_tmout_seconds": tmout,
             "files": paths}
    if note:
        facts["note"] = note
    gnome = _gnome_power_logout(run)
    if gnome and (stop is None or gnome < stop):
        facts.update(logoff_seconds=gnome, mechanism="GNOME power: log out when inactive")
    return facts


def parse_gnome_power(text: str) -> int | None:
    """Seconds after which GNOME logs out an idle session, or None.

    ``org.gnome.settings-daemon.plugins.power sleep-inactive-{ac,battery}-type 'logout'``
    with its ``-timeout`` (reference 3). Both power sources must log out, else a laptop on
    the other source never does; the longer timeout counts.
    """
    values: dict[str, str] = {}
    for line in text.splitlines():
        parts = line.split(None, 2)
        if len(parts) == 3:
            values[parts[1]] = parts[2].strip().strip("'").replace("int32 ", "").replace("uint32 ", "")
    timeouts = []
    for source in ("ac", "battery"):
        if values.get(f"sleep-inactive-{source}-type") != "logout":
            return None
        try:
            timeouts.append(int(values.get(f"sleep-inactive-{source}-timeout", "")))
        except ValueError:
            return None
    return max(timeouts) if all(t > 0 for t in timeouts) else None


def _gnome_power_logout(run: Runner) -> int | None:
    try:
        desktop, prefix, _ = linux.desktop_session(run)
    except ProbeUnknown:
        return None
    if desktop != "gnome":
        return None
    result = run.run([*prefix, "gsettings", "list-recursively",
                      "org.gnome.settings-daemon.plugins.power"])
    return parse_gnome_power(result.stdout) if result.ok else None


# ---------------------------------------------------------------- macOS

AUTOLOGOUT_KEY = "com.apple.autologout.AutoLogOutDelay"


def probe_darwin(run: Runner) -> dict[str, Any]:
    value = darwin.defaults(run, ".GlobalPreferences", [AUTOLOGOUT_KEY])[AUTOLOGOUT_KEY]
    try:
        seconds = int(value) if value is not None else None
    except (TypeError, ValueError) as e:
        raise ProbeUnknown("AutoLogOutDelay is not a number") from e
    return {"logoff_seconds": seconds or None, "mechanism": "macOS AutoLogOutDelay"}


# ---------------------------------------------------------------- Windows

LOGOFF_SCRIPT = (
    "$t = Get-ItemProperty -Path 'HKLM:\\SOFTWARE\\Policies\\Microsoft\\Windows NT\\Terminal Services' "
    "-ErrorAction SilentlyContinue; "
    "ConvertTo-Json -Compress -InputObject @{MaxIdleTime=$t.MaxIdleTime; "
    "MaxDisconnectionTime=$t.MaxDisconnectionTime}"
)


def parse_windows(data: Any) -> dict[str, Any]:
    if not isinstance(data, dict):
        raise ProbeUnknown("PowerShell (auto logoff) output did not parse")
    ms = data.get("MaxIdleTime")
    # MaxIdleTime is milliseconds; 0 or absent means never (Wazuh 26428, reference 3).
    seconds = int(ms) // 1000 if isinstance(ms, int) and ms > 0 else None
    return {"logoff_seconds": seconds, "mechanism": "Remote Desktop MaxIdleTime",
            "max_disconnection_ms": data.get("MaxDisconnectionTime")}


def probe_windows(run: Runner) -> dict[str, Any]:
    return parse_windows(windows.powershell(run, "auto_logoff", LOGOFF_SCRIPT))


# ---------------------------------------------------------------- verdict


def evaluate(facts: dict[str, Any], policy: dict, os_name: str, context: dict) -> CheckResult:
    limit = int(policy.get("auto_logoff_max_seconds", 900))
    seconds = facts.get("logoff_seconds")
    details = dict(facts)
    if seconds and seconds <= limit:
        return CheckResult(ID, PASS, f"idle sessions end after {seconds} s ({facts['mechanism']})",
                           policy_text(policy), HIPAA, details=details)
    base = "no automatic logoff" if not seconds else f"idle sessions end after {seconds} s"
    lock = context.get("screen_lock")
    if policy.get("auto_logoff_accept_screen_lock", True) and lock is not None:
        details["screen_lock_status"] = lock.status
        if lock.status == PASS:
            return CheckResult(ID, PASS, f"{base}; password screen lock accepted ({lock.observed})",
                               policy_text(policy), HIPAA, details=details)
        if lock.status == UNKNOWN:
            return CheckResult(ID, UNKNOWN, base, policy_text(policy), HIPAA,
                               reason=f"screen lock unknown: {lock.reason}", details=details)
    return CheckResult(ID, FAIL, base, policy_text(policy), HIPAA, fix=FIX[os_name], details=details)
