"""Disk encryption: every fixed and mounted removable volume, each on its own.

The system volume decides the headline; every volume is listed in details.volumes with
its own status. HIPAA 164.312(a)(2)(iv); encrypted PHI per NIST SP 800-111 is not
"unsecured PHI" (45 CFR 164.402, reference 0.4).

- Linux: ``lsblk -J`` (any user). A filesystem is encrypted when it sits on a dm-crypt
  mapping, whatever the LVM layering (osquery#7207).
- macOS: ``fdesetup status`` for the boot volume (gate on FileVault, not on "encrypted":
  T2 and Apple silicon always encrypt at rest, osquery#5223); ``diskutil`` plists for
  the other volumes.
- Windows: CIM Win32_EncryptableVolume *methods* (the cached ProtectionStatus property
  can be stale, osquery bitlocker_info.cpp), admin only. Decision table: reference 1.2.
"""

from __future__ import annotations

import os
import re
import time
import weakref
from typing import Any

import psutil

from agent.posture import darwin, linux, windows
from agent.posture.errors import ProbeUnknown
from agent.posture.result import FAIL, IN_PROGRESS, NOT_APPLICABLE, PASS, UNKNOWN, CheckResult
from agent.runner import LiveRunner, Runner

ID = "disk_encryption"
HIPAA = "164.312(a)(2)(iv)"
FIX = {
    "linux": "Reinstall with full-disk encryption (installer: 'Encrypt the new installation', LUKS); "
             "data disks: cryptsetup luksFormat",
    "darwin": "Turn on FileVault: System Settings > Privacy & Security > FileVault "
              "(or: sudo fdesetup enable)",
    "windows": "Turn on BitLocker: Settings > Privacy & security > Device encryption "
               "(or: manage-bde -on C:)",
}
WINDOWS_RESUME = "Resume BitLocker protection: manage-bde -protectors -enable C:"


def policy_text(policy: dict) -> str:
    return "system volume encrypted"


def _status(encrypted: bool | None) -> str:
    return PASS if encrypted else (UNKNOWN if encrypted is None else FAIL)


# ---------------------------------------------------------------- Linux


def probe_linux(run: Runner) -> dict[str, Any]:
    volumes = []
    for v in linux.lsblk_volumes(run):
        exempt = linux.is_exempt(v)
        volumes.append({
            "mount": v["mount"],
            "device": v["device"],
            "fstype": v["fstype"],
            "size": v["size"],
            "encrypted": v["encrypted"],
            "status": NOT_APPLICABLE if exempt else _status(v["encrypted"]),
            "removable": v["removable"],
            "system": v["mount"] == "/",
            "layout": linux.layout_name(v["layout"]),
        })
    return {"volumes": volumes, "source": "lsblk"}


# ---------------------------------------------------------------- macOS


def parse_fdesetup(stdout: str) -> tuple[str, str]:
    """(status, observed) from ``fdesetup status`` (strings: rtrouton EA, reference 1.1).

    The exit code alone is not enough: 2 means "busy" for encryption and decryption alike.
    """
    if "Encryption in progress" in stdout:
        m = re.search(r"Percent completed = ([\d.]+)", stdout)
        return IN_PROGRESS, "FileVault encrypting" + (f" ({m.group(1)}%)" if m else "")
    if "Decryption in progress" in stdout:
        return FAIL, "FileVault decrypting"
    if "Deferred enablement" in stdout:
        return FAIL, "FileVault pending (deferred until next logout)"
    if "FileVault is On." in stdout:
        return PASS, "FileVault on"
    if "FileVault is Off." in stdout:
        return FAIL, "FileVault off"
    raise ProbeUnknown("fdesetup output not recognised")


# Partition contents that cannot hold FileVault/APFS encryption (diskutil "Content").
_PLAIN_CONTENT = ("Microsoft Basic Data", "DOS_FAT_12", "DOS_FAT_16", "DOS_FAT_32", "Windows_FAT_32",
                  "Windows_NTFS", "EFI", "Linux")


def parse_diskutil(listing: dict, apfs: dict | None, external: dict | None,
                   boot_status: str) -> list[dict[str, Any]]:
    """Volumes from ``diskutil list -plist`` joined with ``diskutil apfs list -plist``.

    The boot volume ("/") and its Data volume take the FileVault verdict; other system
    volumes (Preboot, VM, Update) hold no user data; other APFS volumes are judged by
    their own FileVault flag; FAT/exFAT/NTFS volumes cannot be encrypted.
    """
    flags: dict[str, dict] = {}
    for container in (apfs or {}).get("Containers", []):
        for vol in container.get("Volumes", []):
            flags[vol.get("DeviceIdentifier")] = vol
    external_ids: set[str] = set()
    for disk in (external or {}).get("AllDisksAndPartitions", []):
        external_ids.add(disk.get("DeviceIdentifier"))
        for part in disk.get("Partitions", []) + disk.get("APFSVolumes", []):
            external_ids.add(part.get("DeviceIdentifier"))
    volumes = []
    for disk in listing.get("AllDisksAndPartitions", []):
        disk_external = disk.get("DeviceIdentifier") in external_ids
        for part in [disk, *disk.get("Partitions", []), *disk.get("APFSVolumes", [])]:
            mount = part.get("MountPoint")
            ident = part.get("DeviceIdentifier")
            if not mount:
                continue
            removable = disk_external or ident in external_ids
            system = mount in ("/", "/System/Volumes/Data")
            if system:
                status = boot_status
                encrypted = {PASS: True, FAIL: False}.get(boot_status)
            elif mount.startswith("/System/Volumes/"):
                status, encrypted = NOT_APPLICABLE, None
            elif ident in flags:
                encrypted = bool(flags[ident].get("FileVault"))
                status = _status(encrypted)
            elif part.get("Content") in _PLAIN_CONTENT:
                status, encrypted = FAIL, False
            else:
                status, encrypted = UNKNOWN, None
            apfs_volume = part in disk.get("APFSVolumes", [])
            volumes.append({"mount": mount, "device": f"/dev/{ident}",
                            "fstype": "apfs" if apfs_volume else part.get("Content"),
                            "size": part.get("Size"), "encrypted": encrypted, "status": status,
                            "removable": removable, "system": mount == "/"})
    return volumes


def probe_darwin(run: Runner) -> dict[str, Any]:
    result = run.run(["fdesetup", "status"])
    if result.error or not result.stdout.strip():
        raise linux.command_failed(result, "fdesetup")
    boot_status, observed = parse_fdesetup(result.stdout)
    listing = darwin.plist(run, ["diskutil", "list", "-plist"], "diskutil list")
    try:
        apfs = darwin.plist(run, ["diskutil", "apfs", "list", "-plist"], "diskutil apfs list")
    except ProbeUnknown:
        apfs = None  # HFS+/CoreStorage Macs (<= 10.13) have no APFS list
    try:
        external = darwin.plist(run, ["diskutil", "list", "-plist", "external"], "diskutil list")
    except ProbeUnknown:
        external = None
    volumes = parse_diskutil(listing, apfs, external, boot_status)
    if not any(v["system"] for v in volumes):
        volumes.insert(0, {"mount": "/", "device": None, "fstype": None, "size": None,
                           "status": boot_status,
                           "encrypted": {PASS: True, FAIL: False}.get(boot_status),
                           "removable": False, "system": True})
    return {"volumes": volumes, "source": "fdesetup", "observed": observed}


# ---------------------------------------------------------------- Windows

# @($k | Where-Object {...}): @($null).Count is 1 in PowerShell, a protector that is not there.
BITLOCKER_SCRIPT = (
    "$out = @(Get-CimInstance -Namespace root/CIMV2/Security/MicrosoftVolumeEncryption "
    "-ClassName Win32_EncryptableVolume | ForEach-Object { "
    "$p = (Invoke-CimMethod -InputObject $_ -MethodName GetProtectionStatus).ProtectionStatus; "
    "$c = Invoke-CimMethod -InputObject $_ -MethodName GetConversionStatus; "
    "$k = (Invoke-CimMethod -InputObject $_ -MethodName GetKeyProtectors).VolumeKeyProtectorID; "
    "[pscustomobject]@{DriveLetter=$_.DriveLetter; VolumeType=[int]$_.VolumeType; "
    "Protection=[int]$p; Conversion=[int]$c.ConversionStatus; "
    "Percent=$c.EncryptionPercentage; Protectors=@($k | Where-Object { $_ }).Count} }); "
    "ConvertTo-Json -InputObject $out -Compress"
)


def parse_bitlocker_volume(v: dict[str, Any]) -> dict[str, Any]:
    """One Win32_EncryptableVolume row through the decision table of reference 1.2."""
    conv, prot = v.get("Conversion"), v.get("Protection")
    protectors = int(v.get("Protectors") or 0)
    pct = v.get("Percent")
    vtype = v.get("VolumeType")
    note = None
    if prot == 2:
        # Locked: evidence of encryption for a data/removable drive; the OS volume
        # cannot be locked while running, so we cannot tell (Fleet normalises 2 to NULL).
        status, encrypted, note = (PASS, True, "locked") if vtype != 0 else (UNKNOWN, None, "locked")
    elif conv == 1 and prot == 1:
        status, encrypted = PASS, True
    elif conv == 1 and prot == 0 and protectors > 0:
        status, encrypted, note = FAIL, False, "suspended"
    elif conv == 1 and prot == 0:
        status, encrypted, note = FAIL, False, "waiting for activation"
    elif conv == 2:
        status, encrypted, note = IN_PROGRESS, False, f"encrypting {pct}%"
    elif conv == 4:
        # Fleet#52159: "a paused conversion is ignored indefinitely" - say it is paused.
        status, encrypted, note = IN_PROGRESS, False, f"encryption paused at {pct}%"
    elif conv in (0, 3, 5):
        status, encrypted = FAIL, False
        note = {0: "not encrypted", 3: "decrypting", 5: "decryption paused"}[conv]
    else:
        status, encrypted, note = UNKNOWN, None, "unrecognised BitLocker state"
    return {"mount": v.get("DriveLetter"), "device": v.get("DriveLetter"), "fstype": None,
            "encrypted": encrypted, "status": status, "removable": vtype == 2,
            "system": vtype == 0, "note": note, "protectors": protectors}


def parse_bitlocker(data: Any) -> list[dict[str, Any]]:
    return [parse_bitlocker_volume(v) for v in windows.as_list(data)
            if isinstance(v, dict) and v.get("DriveLetter")]


def probe_windows(run: Runner) -> dict[str, Any]:
    windows.require_admin(run)
    data = windows.powershell(run, "bitlocker", BITLOCKER_SCRIPT)
    return {"volumes": parse_bitlocker(data), "source": "Win32_EncryptableVolume"}


# ---------------------------------------------------------------- verdict


def _describe(v: dict[str, Any]) -> str:
    where = v["mount"] + (f" ({v['device']})" if v.get("device") and v["device"] != v["mount"] else "")
    where += " " if where.endswith(":") else ": "  # "C: encrypted", "/ (/dev/sda2): encrypted"
    if v.get("note"):
        return f"{where}BitLocker {v['note']}"
    if v["status"] == PASS:
        return f"{where}encrypted" + (f", {v['layout']}" if v.get("layout") else "")
    if v["status"] == FAIL:
        return f"{where}not encrypted"
    return f"{where}{v['status']}"


def evaluate(facts: dict[str, Any], policy: dict, os_name: str, context: dict) -> CheckResult:
    volumes = facts["volumes"]
    system = next((v for v in volumes if v["system"]), None)
    details = {"volumes": volumes, "source": facts["source"],
               "failing_volumes": [v["mount"] for v in volumes if v["status"] == FAIL]}
    fix = FIX[os_name]
    if system is None:
        return CheckResult(ID, UNKNOWN, "system volume not found", policy_text(policy), HIPAA,
                           reason="system volume is not a block device the OS lists "
                                  "(overlay, ZFS or network root)", fix=None, details=details)
    observed = facts.get("observed") or _describe(system)
    if system.get("note") == "suspended":
        fix = WINDOWS_RESUME
    status = system["status"]
    reason = "BitLocker reports the system volume locked" if status == UNKNOWN else None
    return CheckResult(ID, status, observed, policy_text(policy), HIPAA, reason=reason,
                       fix=None if status == PASS else fix, details=details)


# ---------------------------------------------------------------- per-path lookup

_PROBES = {"linux": probe_linux, "darwin": probe_darwin, "windows": probe_windows}
_CACHE_SECONDS = 60.0
_Entry = tuple[float, list[dict[str, Any]], list[tuple[str, str, str]]]
# One entry per runner object (weak: a replay runner's cache dies with it), plus the live one.
_cache: weakref.WeakKeyDictionary[Runner, _Entry] = weakref.WeakKeyDictionary()
_live: dict[str, _Entry] = {}


def list_volumes(runner: Runner | None = None) -> list[dict[str, Any]]:
    """Every mounted volume with its encryption status (the probe of this runner's OS)."""
    runner = runner or LiveRunner()
    return _PROBES[runner.os](runner)["volumes"]


def _contains(mount: str, path: str, os_name: str) -> bool:
    if os_name == "windows":
        m, p = mount.rstrip("\\/").lower(), path.replace("/", "\\").lower()
        return p == m or p.startswith(m + "\\")
    if mount == "/":
        return path.startswith("/")
    return path == mount or path.startswith(mount.rstrip("/") + "/")


def _cached(runner: Runner, live: bool) -> tuple[list[dict[str, Any]], list[tuple[str, str, str]]]:
    now = time.monotonic()
    hit = _live.get("live") if live else _cache.get(runner)
    if hit and now - hit[0] < _CACHE_SECONDS:
        return hit[1], hit[2]
    try:
        volumes = list_volumes(runner)
    except ProbeUnknown:
        volumes = []
    if not volumes and live:
        # e.g. Windows without admin: the mounts are still known, their encryption is not.
        volumes = [{"mount": p.mountpoint, "device": p.device, "encrypted": None,
                    "removable": "removable" in p.opts}
                   for p in psutil.disk_partitions(all=False)]
    mounts: list[tuple[str, str, str]] = []
    if runner.os == "linux":
        info = runner.read("/proc/self/mountinfo")
        mounts = linux.parse_mountinfo(info.text or "") if info.ok else []
    if live:
        _live["live"] = (now, volumes, mounts)
    else:
        _cache[runner] = (now, volumes, mounts)
    return volumes, mounts


def volume_for_path(path: str, runner: Runner | None = None) -> dict[str, Any]:
    """The volume holding ``path``: {"mount", "device", "encrypted", "removable"}.

    ``encrypted`` is None when the OS did not tell (not admin on Windows, tmpfs, network
    shares). The volume list is cached for a minute: this runs once per finding.
    """
    live = runner is None
    runner = runner or LiveRunner()
    if live:
        path = os.path.realpath(path)
    volumes, mounts = _cached(runner, live)
    best = None
    for v in volumes:
        if v.get("mount") and _contains(v["mount"], path, runner.os):
            if best is None or len(v["mount"]) > len(best["mount"]):
                best = v
    # A non-block mount (tmpfs, NFS, FUSE) nearer to the path than any block volume.
    mount_hit = None
    for mount, fstype, source in mounts:
        if _contains(mount, path, runner.os) and (mount_hit is None or len(mount) > len(mount_hit[0])):
            mount_hit = (mount, fstype, source)
    if mount_hit and (best is None or len(mount_hit[0]) > len(best["mount"])):
        # eCryptfs / gocryptfs encrypt the files of that folder at rest (not full-disk
        # encryption, so they never pass the check, but a finding there is encrypted).
        encrypted = True if mount_hit[1] in ("ecryptfs", "fuse.gocryptfs") else None
        return {"mount": mount_hit[0], "device": mount_hit[2], "encrypted": encrypted,
                "removable": False}
    if best is None:
        return {"mount": None, "device": None, "encrypted": None, "removable": False}
    return {"mount": best["mount"], "device": best.get("device"), "encrypted": best["encrypted"],
            "removable": bool(best["removable"])}


def clear_cache() -> None:
    _cache.clear()
    _live.clear()
