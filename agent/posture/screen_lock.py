"""Screen lock: on, password on wake, and seconds of idle before the screen locks.

HIPAA 164.310(c) workstation security (HHS accepts a password-protected screen saver
under 164.312(a)(2)(iii), reference 0.4). Managed values win where the OS lets them:
MDM profiles on macOS, the user-policy key over the user key on Windows, dconf locks on
GNOME (reported as ``managed``).

Every probe returns the same facts: enabled, idle_seconds, grace_seconds,
lock_after_seconds (None = never locks), managed, desktop/source.
"""

from __future__ import annotations

import re
from typing import Any

from agent.posture import darwin, linux, windows
from agent.posture.errors import ProbeUnknown
from agent.posture.result import FAIL, PASS, CheckResult
from agent.runner import Runner

ID = "screen_lock"
HIPAA = "164.310(c)"
FIX = {
    "gnome": "Settings > Privacy > Screen: Blank Screen Delay <= 15 min and Automatic Screen Lock on "
             "(gsettings set org.gnome.desktop.session idle-delay 300)",
    "kde": "System Settings > Screen Locking: Lock automatically after <= 15 minutes "
           "(kwriteconfig6 --file kscreenlockerrc --group Daemon --key Timeout 5)",
    "linux": "Turn on your desktop's automatic screen lock at 15 minutes of idle or less",
    "darwin": "System Settings > Lock Screen: start screen saver within 15 minutes and require "
              "password immediately",
    "windows": "Set 'Interactive logon: Machine inactivity limit' to 900 s or less "
               "(Group Policy or Intune), or a password-protected screen saver",
}


def policy_text(policy: dict) -> str:
    return f"locks with password within {policy.get('screen_lock_max_seconds', 900)} s of idle"


def _facts(enabled: bool | None, idle: int | None, grace: int | None, **extra: Any) -> dict[str, Any]:
    lock_after = None if not idle or idle <= 0 else idle + max(grace or 0, 0)
    return {"enabled": enabled, "idle_seconds": idle, "grace_seconds": grace,
            "lock_after_seconds": lock_after, **extra}


# ---------------------------------------------------------------- Linux

GNOME_SCHEMAS = ("org.gnome.desktop.screensaver", "org.gnome.desktop.session",
                 "org.gnome.desktop.lockdown")


def parse_gsettings(text: str) -> dict[str, str]:
    """``gsettings list-recursively`` lines "schema key value" -> {"schema key": value}.

    GVariant type prefixes such as ``uint32 `` are dropped (reference 2.3).
    """
    out: dict[str, str] = {}
    for line in text.splitlines():
        parts = line.strip().split(None, 2)
        if len(parts) == 3:
            value = re.sub(r"^(uint32|int32|uint64|int64|double)\s+", "", parts[2])
            out[f"{parts[0]} {parts[1]}"] = value.strip().strip("'")
    return out


def _int(value: Any) -> int | None:
    """Whole seconds from a setting: NSUserDefaults may give true/1/5.0, text gives "300"."""
    if isinstance(value, bool | int | float):
        return int(value)
    try:
        return int(float(str(value).strip()))
    except (TypeError, ValueError):
        return None


def parse_gnome(values: dict[str, str], writable: dict[str, str] | None = None) -> dict[str, Any]:
    """GNOME: lock-enabled, not disable-lock-screen, idle-delay > 0; lock = idle + lock-delay."""
    try:
        lock_enabled = values["org.gnome.desktop.screensaver lock-enabled"]
        idle = _int(values["org.gnome.desktop.session idle-delay"])
    except KeyError as e:
        raise ProbeUnknown("GNOME screensaver schema not installed") from e
    grace = _int(values.get("org.gnome.desktop.screensaver lock-delay", "0")) or 0
    disabled = values.get("org.gnome.desktop.lockdown disable-lock-screen") == "true"
    managed = any(v.strip() == "false" for v in (writable or {}).values())
    facts = _facts(lock_enabled == "true" and not disabled, idle, grace, desktop="gnome",
                   source="gsettings", managed=managed, lock_screen_disabled=disabled)
    if disabled and lock_enabled == "true":
        facts["off_reason"] = "lock screen disabled (org.gnome.desktop.lockdown)"
    return facts


def parse_kde(autolock: str, timeout_minutes: str, grace: str, lock_on_resume: str = "true"
              ) -> dict[str, Any]:
    """KDE kscreenlockerrc [Daemon]: Autolock, Timeout in *minutes*, LockGrace in seconds,
    LockOnResume (defaults true / 5 / 5 / true, KDE/kscreenlocker kcfg, reference 2.3)."""
    minutes = _int(timeout_minutes)
    if minutes is None:
        raise ProbeUnknown("kscreenlockerrc Timeout is not a number")
    resume = lock_on_resume.strip().lower() == "true"
    facts = _facts(autolock.strip().lower() == "true" and resume, minutes * 60, _int(grace) or 0,
                   desktop="kde", source="kscreenlockerrc", managed=False, lock_on_resume=resume)
    if not resume and autolock.strip().lower() == "true":
        facts["off_reason"] = "no lock on resume from sleep"
    return facts


def _gnome(run: Runner, prefix: list[str]) -> dict[str, Any]:
    text = []
    for schema in GNOME_SCHEMAS:
        result = run.run([*prefix, "gsettings", "list-recursively", schema])
        if result.error:
            raise linux.command_failed(result, "gsettings")
        if result.rc == 0:
            text.append(result.stdout)
    writable = {}
    for schema, key in (("org.gnome.desktop.session", "idle-delay"),
                        ("org.gnome.desktop.screensaver", "lock-enabled")):
        result = run.run([*prefix, "gsettings", "writable", schema, key])
        if result.ok:
            writable[f"{schema} {key}"] = result.stdout
    return parse_gnome(parse_gsettings("\n".join(text)), writable)


def _kde(run: Runner, prefix: list[str]) -> dict[str, Any]:
    for tool in ("kreadconfig6", "kreadconfig5"):
        values = []
        for key, default in (("Autolock", "true"), ("Timeout", "5"), ("LockGrace", "5"),
                             ("LockOnResume", "true")):
            result = run.run([*prefix, tool, "--file", "kscreenlockerrc", "--group", "Daemon", "--key", key,
                              "--default", default])
            if not result.ok:
                break
            values.append(result.stdout.strip() or default)
        else:
            return parse_kde(*values)
    raise ProbeUnknown("command not found: kreadconfig6 or kreadconfig5")


def probe_linux(run: Runner) -> dict[str, Any]:
    desktop, prefix, user = linux.desktop_session(run)
    if desktop is None:
        raise ProbeUnknown("no desktop session")
    if desktop == "gnome":
        facts = _gnome(run, prefix)
    elif desktop == "kde":
        facts = _kde(run, prefix)
    else:
        raise ProbeUnknown(f"desktop not supported: {desktop}")
    if user:
        facts["session_user"] = user
    return facts


# ---------------------------------------------------------------- macOS

SCREENSAVER_KEYS = ["askForPassword", "askForPasswordDelay", "idleTime"]


def parse_sysadminctl(text: str) -> tuple[bool | None, int | None]:
    """``sysadminctl -screenLock status`` (on stderr): (enabled, grace seconds)."""
    if "screenLock is off" in text:
        return False, None
    if "screenLock delay is immediate" in text:
        return True, 0
    m = re.search(r"screenLock delay is (\d+) seconds", text)
    if m:
        return True, int(m.group(1))
    return None, None


def parse_pmset_displaysleep(text: str) -> int | None:
    """Largest ``displaysleep`` (minutes) over the power sources of ``pmset -g custom``.

    The setting is stored per power source (nix-darwin#1850); we take the longest so
    the verdict holds on either. 0 means never.
    """
    values = [int(m) for m in re.findall(r"^\s*displaysleep\s+(\d+)", text, re.M)]
    if not values:
        return None
    return 0 if 0 in values else max(values)


def probe_darwin(run: Runner) -> dict[str, Any]:
    if darwin.console_user(run) is None:
        raise ProbeUnknown("no console user (login window)")
    if run.is_admin():
        # The keybag value exists only in the console user's context; root reads
        # nothing (osquery#6451, Fleet#6282). The agent is a per-user LaunchAgent.
        raise ProbeUnknown("run as the console user: root cannot read the screen lock")
    # Since 10.13 the user's own lock settings live in the keybag, not in this domain
    # (mathiasbynens/dotfiles#922), so an askForPassword found here was forced by a profile.
    managed = darwin.defaults(run, "com.apple.screensaver", SCREENSAVER_KEYS)
    result = run.run(["sysadminctl", "-screenLock", "status"])
    keybag_enabled, keybag_grace = parse_sysadminctl(result.stdout + result.stderr)
    enabled = keybag_enabled if managed["askForPassword"] is None else bool(managed["askForPassword"])
    grace = _int(managed["askForPasswordDelay"]) if managed["askForPasswordDelay"] is not None \
        else keybag_grace
    if enabled is None:
        raise ProbeUnknown("screen lock setting not readable (run in the console user's session)")
    idle_time = _int(managed["idleTime"])
    if idle_time is None:
        r = run.run(["defaults", "-currentHost", "read", "com.apple.screensaver", "idleTime"])
        idle_time = _int(r.stdout) if r.ok else None
    r = run.run(["pmset", "-g", "custom"])
    display = parse_pmset_displaysleep(r.stdout) if r.ok else None
    candidates = [s for s in (idle_time, display * 60 if display else None) if s]
    if not candidates and idle_time is None:
        # No screen saver time of our own (the OS default applies, undocumented) and no
        # display sleep to fall back on: "never" would be a guess.
        raise ProbeUnknown("screen saver idle time not set and display sleep not readable"
                           if display is None else
                           "screen saver idle time not set and display never sleeps")
    idle = min(candidates) if candidates else 0
    return _facts(enabled, idle, grace, source="mdm" if managed["askForPassword"] is not None
                  else "keybag", managed=managed["askForPassword"] is not None,
                  screensaver_idle_seconds=idle_time,
                  display_sleep_seconds=display * 60 if display is not None else None)


# ---------------------------------------------------------------- Windows

SCREEN_SCRIPT = (
    "$m = Get-ItemProperty -Path 'HKLM:\\SOFTWARE\\Microsoft\\Windows\\CurrentVersion\\Policies\\System' "
    "-ErrorAction SilentlyContinue; "
    "$w = Get-ItemProperty -Path 'HKLM:\\SOFTWARE\\Microsoft\\Windows NT\\CurrentVersion\\Winlogon' "
    "-ErrorAction SilentlyContinue; "
    "$k = Get-ItemProperty -Path 'HKLM:\\SOFTWARE\\Policies\\Microsoft\\Power\\PowerSettings\\"
    "0e796bdb-100d-47d6-a2d5-f7d2daa51f51' -ErrorAction SilentlyContinue; "
    "$names = 'ScreenSaveActive','ScreenSaverIsSecure','ScreenSaveTimeOut','SCRNSAVE.EXE'; "
    "function pick($path) { $p = Get-ItemProperty -Path $path -ErrorAction SilentlyContinue; $o = @{}; "
    "foreach ($n in $names) { if ($p -and $null -ne $p.$n) { $o[$n] = [string]$p.$n } }; $o }; "
    "$users = @(Get-ChildItem Registry::HKEY_USERS | Where-Object { $_.PSChildName -match '^S-1-5-21-[0-9-]+$' } "
    "| ForEach-Object { $s = $_.PSChildName; [pscustomobject]@{Sid=$s; "
    "Policy=(pick \"Registry::HKEY_USERS\\$s\\Software\\Policies\\Microsoft\\Windows\\Control Panel\\Desktop\"); "
    "User=(pick \"Registry::HKEY_USERS\\$s\\Control Panel\\Desktop\")} }); "
    "ConvertTo-Json -Depth 4 -Compress -InputObject @{InactivityTimeoutSecs=$m.InactivityTimeoutSecs; "
    "ScreenSaverGracePeriod=[string]$w.ScreenSaverGracePeriod; Users=$users; "
    "WakeAC=$k.ACSettingIndex; WakeDC=$k.DCSettingIndex}"
)


def parse_windows(data: dict[str, Any]) -> dict[str, Any]:
    """Machine inactivity limit and each loaded user's screen saver; the stricter wins.

    Reference 2.2: t_machine = InactivityTimeoutSecs when 1..599940; per user, the
    screen saver counts only when active, secure and a .scr is set, each value taken
    from the policy key first. The worst user decides.
    """
    if not isinstance(data, dict):
        raise ProbeUnknown("PowerShell (screen lock) output did not parse")
    t_machine = _int(data.get("InactivityTimeoutSecs"))
    if t_machine is not None and not 1 <= t_machine <= 599940:
        t_machine = None
    grace = _int(data.get("ScreenSaverGracePeriod")) or 0
    users = []
    for u in windows.as_list(data.get("Users")):
        policy, own = u.get("Policy") or {}, u.get("User") or {}

        def val(name: str, policy=policy, own=own) -> str:
            return str(policy.get(name, own.get(name, ""))).strip()

        secure = val("ScreenSaveActive") == "1" and val("ScreenSaverIsSecure") == "1" \
            and bool(val("SCRNSAVE.EXE"))
        t_ss = _int(val("ScreenSaveTimeOut")) if secure else None
        t_ss = t_ss + grace if t_ss else None
        times = [t for t in (t_machine, t_ss) if t]
        users.append({"sid": u.get("Sid"), "lock_after_seconds": min(times) if times else None,
                      "screen_saver_secure": secure, "managed": bool(policy)})
    # "Require a password when a computer wakes" policy: 0 on either power source means
    # waking from sleep skips the password; absent is the default, on (Wazuh 26285/26286).
    no_wake_password = 0 in (data.get("WakeAC"), data.get("WakeDC"))
    if not users:
        if t_machine is None:
            raise ProbeUnknown("no user logged on and no machine inactivity limit")
        lock = t_machine
    else:  # the worst logged-on user decides
        lock = max(users, key=lambda x: x["lock_after_seconds"] or 10**9)["lock_after_seconds"]
    facts = _facts(lock is not None and not no_wake_password, lock, 0, source="registry",
                   managed=t_machine is not None or any(x["managed"] for x in users),
                   machine_inactivity_seconds=t_machine, users=users,
                   password_on_wake=not no_wake_password)
    if no_wake_password:
        facts["off_reason"] = "no password on wake from sleep (policy)"
    return facts


def probe_windows(run: Runner) -> dict[str, Any]:
    return parse_windows(windows.powershell(run, "screen_lock", SCREEN_SCRIPT))


# ---------------------------------------------------------------- verdict


def evaluate(facts: dict[str, Any], policy: dict, os_name: str, context: dict) -> CheckResult:
    limit = int(policy.get("screen_lock_max_seconds", 900))
    fix = FIX.get(facts.get("desktop") or os_name, FIX.get(os_name))
    lock = facts["lock_after_seconds"]
    where = " (managed)" if facts.get("managed") else ""
    if not facts["enabled"]:
        status, observed = FAIL, facts.get("off_reason", "screen lock off") + where
    elif lock is None:
        status, observed = FAIL, "screen never locks when idle" + where
    else:
        observed = f"locks after {lock} s idle" + where
        status = PASS if lock <= limit else FAIL
    return CheckResult(ID, status, observed, policy_text(policy), HIPAA,
                       fix=None if status == PASS else fix, details=dict(facts))
