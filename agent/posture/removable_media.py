"""Removable media: which mass-storage volumes are mounted now. HIPAA 164.310(d)(1).

Removable means "on a USB/SD bus or hot-pluggable", not the OS's "removable media" bit:
USB disks and SSDs call themselves fixed (Windows DriveType 3, macOS "Removable Media:
Fixed"; unetbootin#3, balena drivelist#213, reference 4).

``list_removable()`` is also what the running agent polls to see new mounts.
"""

from __future__ import annotations

import re
from typing import Any

from agent.posture import darwin, linux, windows
from agent.posture.errors import ProbeUnknown
from agent.posture.result import FAIL, PASS, CheckResult
from agent.runner import LiveRunner, Runner

ID = "removable_media"
HIPAA = "164.310(d)(1)"
FIX = {
    "linux": "Unmount and remove it (udisksctl unmount -b DEVICE), or ask IT for an exception",
    "darwin": "Eject it in Finder (or: diskutil eject DISK), or ask IT for an exception",
    "windows": "Eject it (Safely Remove Hardware), or ask IT for an exception",
}


def policy_text(policy: dict) -> str:
    return "removable storage allowed" if policy.get("removable_media_allowed") else \
        "no removable storage mounted"


def _volume(mount: str, device: str | None, vendor: str | None = None, model: str | None = None,
            serial: str | None = None, size: int | None = None, fstype: str | None = None,
            encrypted: bool | None = None) -> dict[str, Any]:
    return {"mount": mount, "device": device, "vendor": vendor, "model": model, "serial": serial,
            "size": size, "fstype": fstype, "encrypted": encrypted}


# ---------------------------------------------------------------- Linux

# Wazuh CIS Ubuntu 24.04 35508: usb-storage blocked by modprobe config (reference 4).
_BLOCKED = re.compile(r"^\s*(blacklist\s+usb[-_]storage\b|install\s+usb[-_]storage\s+/bin/(false|true))",
                      re.M)


def parse_modprobe_blocked(texts: list[str]) -> bool:
    return any(_BLOCKED.search(t) for t in texts)


def probe_linux(run: Runner) -> dict[str, Any]:
    volumes = [
        _volume(v["mount"], v["device"], v["vendor"], v["model"], v["serial"], v["size"],
                v["fstype"], v["encrypted"])
        for v in linux.lsblk_volumes(run) if v["removable"]
    ]
    texts = []
    for name in run.listdir("/etc/modprobe.d") or []:
        if name.endswith(".conf"):
            result = run.read(f"/etc/modprobe.d/{name}")
            texts.append((result.text or "") if result.ok else "")
    return {"volumes": volumes, "storage_blocked": parse_modprobe_blocked(texts)}


# ---------------------------------------------------------------- macOS


def parse_darwin(external: dict, infos: dict[str, dict]) -> list[dict[str, Any]]:
    """Mounted volumes of ``diskutil list -plist external`` with ``diskutil info -plist``."""
    out = []
    for disk in external.get("AllDisksAndPartitions", []):
        disk_info = infos.get(disk.get("DeviceIdentifier"), {})
        for part in [disk, *disk.get("Partitions", []), *disk.get("APFSVolumes", [])]:
            if not part.get("MountPoint"):
                continue
            info = infos.get(part.get("DeviceIdentifier"), {})
            out.append(_volume(
                part["MountPoint"], f"/dev/{part.get('DeviceIdentifier')}",
                None, disk_info.get("MediaName"), None,
                info.get("TotalSize") or part.get("Size"),
                info.get("FilesystemType") or part.get("Content"),
                # mSCP os_external_apfs_hfs_volumes_encrypted: "FileVault: Yes" = encrypted.
                bool(info["FileVault"]) if "FileVault" in info else None,
            ))
    return out


def probe_darwin(run: Runner) -> dict[str, Any]:
    external = darwin.plist(run, ["diskutil", "list", "-plist", "external"], "diskutil list")
    infos: dict[str, dict] = {}
    for disk in external.get("AllDisksAndPartitions", []):
        ids = [disk.get("DeviceIdentifier")] + [
            p.get("DeviceIdentifier") for p in disk.get("Partitions", []) + disk.get("APFSVolumes", [])
            if p.get("MountPoint")]
        for ident in ids:
            try:
                infos[ident] = darwin.plist(run, ["diskutil", "info", "-plist", ident], "diskutil info")
            except ProbeUnknown:
                infos[ident] = {}
    return {"volumes": parse_darwin(external, infos), "storage_blocked": None}


# ---------------------------------------------------------------- Windows

# BusType, not DriveType: USB disks report DriveType 3 "Local Fixed Disk" (reference 4).
# BusType may surface as its name or as the STORAGE_BUS_TYPE number (USB 7, SD 12, MMC 13).
REMOVABLE_SCRIPT = (
    "$bus = @('USB','SD','MMC','7','12','13'); "
    "$out = @(Get-Disk | Where-Object { $bus -contains [string]$_.BusType } | "
    "ForEach-Object { $d = $_; Get-Partition -DiskNumber $d.Number -ErrorAction SilentlyContinue | "
    "Where-Object { [string]$_.DriveLetter -match '^[A-Za-z]$' } | ForEach-Object { "
    "$v = $_ | Get-Volume; "
    "[pscustomobject]@{Mount=([string]$_.DriveLetter + ':'); Model=$d.FriendlyName; "
    "Serial=$d.SerialNumber; BusType=[string]$d.BusType; Size=$v.Size; "
    "FileSystem=[string]$v.FileSystem} } }); "
    "ConvertTo-Json -InputObject $out -Compress"
)


def parse_windows(data: Any) -> list[dict[str, Any]]:
    out = []
    for v in windows.as_list(data):
        if isinstance(v, dict) and v.get("Mount"):
            model = (v.get("Model") or "").strip() or None
            serial = (v.get("Serial") or "").strip() or None
            out.append(_volume(v["Mount"], v["Mount"], None, model, serial, v.get("Size"),
                               v.get("FileSystem") or None, None))
    return out


def probe_windows(run: Runner) -> dict[str, Any]:
    volumes = parse_windows(windows.powershell(run, "removable", REMOVABLE_SCRIPT))
    if volumes and run.is_admin():
        # BitLocker To Go status needs admin; without it encryption stays None.
        from agent.posture import disk_encryption

        try:
            bitlocker = {v["mount"]: v["encrypted"] for v in disk_encryption.parse_bitlocker(
                windows.powershell(run, "bitlocker", disk_encryption.BITLOCKER_SCRIPT))}
        except ProbeUnknown:
            bitlocker = {}
        for v in volumes:
            v["encrypted"] = bitlocker.get(v["mount"])
    return {"volumes": volumes, "storage_blocked": None}


# ---------------------------------------------------------------- API and verdict

_PROBES = {"linux": probe_linux, "darwin": probe_darwin, "windows": probe_windows}


def list_removable(runner: Runner | None = None) -> list[dict[str, Any]]:
    """Mounted removable mass-storage volumes: mount, device, vendor, model, serial, size,
    fstype, encrypted. Raises ProbeUnknown when the OS could not be asked."""
    runner = runner or LiveRunner()
    return _PROBES[runner.os](runner)["volumes"]


def evaluate(facts: dict[str, Any], policy: dict, os_name: str, context: dict) -> CheckResult:
    volumes = facts["volumes"]
    allowed = bool(policy.get("removable_media_allowed", False))
    details = {"volumes": volumes, "allowed": allowed, "storage_blocked": facts.get("storage_blocked")}
    if not volumes:
        return CheckResult(ID, PASS, "no removable volume mounted", policy_text(policy), HIPAA,
                           details=details)
    names = ", ".join(v["mount"] for v in volumes)
    observed = f"{len(volumes)} removable volume{'s' if len(volumes) > 1 else ''} mounted: {names}"
    status = PASS if allowed else FAIL
    return CheckResult(ID, status, observed, policy_text(policy), HIPAA,
                       fix=None if allowed else FIX[os_name], details=details)
