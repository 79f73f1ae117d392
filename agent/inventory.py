"""Device inventory: the INVENTORY object of docs/protocol.md.

Hardware identity is read through the runner (so it records and replays); live facts
that psutil reports the same way on every OS (users, interfaces, boot time) come from
psutil. The record of hardware and its movements supports 164.310(d)(2)(iii).
"""

from __future__ import annotations

import datetime as dt
import re
import socket
from typing import Any

import psutil

from agent import __version__
from agent.posture import linux, windows
from agent.posture.disk_encryption import list_volumes
from agent.posture.errors import ProbeUnknown
from agent.runner import LiveRunner, ReplayRunner, Runner

# Firmware placeholders that are not serials (lf-edge/eve PR#6381, fusioninventory#2823,
# Fleet PR#27470; reference 7). Compared case-insensitively.
PLACEHOLDER_SERIALS = {
    "to be filled by o.e.m.", "default string", "system serial number", "default serial",
    "0123456789", "none", "not specified", "not applicable", "n/a", "unknown", "chassis serial number",
}


def clean_serial(value: str | None) -> str | None:
    """None for blank, placeholder or all-zero serials."""
    if value is None:
        return None
    value = value.strip()
    if not value or value.lower() in PLACEHOLDER_SERIALS or re.fullmatch(r"[0\s.-]+", value):
        return None
    return value


def _read(run: Runner, path: str) -> str | None:
    result = run.read(path)
    if not result.ok:
        return None
    return (result.text or "").strip() or None


def hardware_linux(run: Runner) -> dict[str, Any]:
    # product_serial is mode 0400 (root only, mondoo PR#10525): None for ordinary users.
    dmi = "/sys/class/dmi/id/"
    release = {}
    try:
        release = linux.os_release(run)
    except ProbeUnknown:
        pass
    return {
        "machine_id": _read(run, "/etc/machine-id") or _read(run, "/var/lib/dbus/machine-id"),
        "hardware_serial": clean_serial(_read(run, dmi + "product_serial"))
        or clean_serial(_read(run, dmi + "board_serial")),
        "hardware_model": _read(run, dmi + "product_name"),
        "manufacturer": _read(run, dmi + "sys_vendor"),
        "os": {"name": "linux", "distro": release.get("ID"), "version": release.get("VERSION_ID"),
               "kernel": _read(run, "/proc/sys/kernel/osrelease")},
    }


def parse_sphardware(data: dict[str, Any]) -> dict[str, Any]:
    items = data.get("SPHardwareDataType") or [{}]
    hw = items[0] if items else {}
    return {"machine_id": hw.get("platform_UUID"),
            "hardware_serial": clean_serial(hw.get("serial_number")),
            "hardware_model": hw.get("machine_model") or hw.get("machine_name"),
            "manufacturer": "Apple Inc."}


def hardware_darwin(run: Runner) -> dict[str, Any]:
    out: dict[str, Any] = {"machine_id": None, "hardware_serial": None, "hardware_model": None,
                           "manufacturer": "Apple Inc."}
    result = run.run(["system_profiler", "-json", "SPHardwareDataType"], timeout=20.0)
    if result.ok:
        try:
            out = parse_sphardware(windows.parse_json(result.stdout, "system_profiler") or {})
        except ProbeUnknown:
            pass
    version = run.run(["sw_vers", "-productVersion"])
    kernel = run.run(["uname", "-r"])
    out["os"] = {"name": "darwin", "distro": "macos",
                 "version": (version.stdout.strip() or None) if version.ok else None,
                 "kernel": (kernel.stdout.strip() or None) if kernel.ok else None}
    return out


HARDWARE_SCRIPT = (
    "$b = Get-CimInstance Win32_BIOS; $c = Get-CimInstance Win32_ComputerSystem; "
    "$p = Get-CimInstance Win32_ComputerSystemProduct; $o = Get-CimInstance Win32_OperatingSystem; "
    "$g = (Get-ItemProperty -Path 'HKLM:\\SOFTWARE\\Microsoft\\Cryptography' -ErrorAction "
    "SilentlyContinue).MachineGuid; "
    "ConvertTo-Json -Compress -InputObject @{Serial=$b.SerialNumber; Manufacturer=$c.Manufacturer; "
    "Model=$c.Model; ProductVersion=$p.Version; UUID=$p.UUID; MachineGuid=$g; Version=$o.Version; "
    "Caption=$o.Caption}"
)


def parse_windows_hardware(data: dict[str, Any]) -> dict[str, Any]:
    model = data.get("Model")
    # Lenovo puts the marketing name in Win32_ComputerSystemProduct.Version (osquery, ref. 7).
    if (data.get("Manufacturer") or "").upper() == "LENOVO" and data.get("ProductVersion"):
        model = data["ProductVersion"]
    return {"machine_id": data.get("MachineGuid") or data.get("UUID"),
            "hardware_serial": clean_serial(data.get("Serial")), "hardware_model": model,
            "manufacturer": data.get("Manufacturer"),
            "os": {"name": "windows", "distro": data.get("Caption"), "version": data.get("Version"),
                   "kernel": data.get("Version")}}


def hardware_windows(run: Runner) -> dict[str, Any]:
    try:
        data = windows.powershell(run, "hardware", HARDWARE_SCRIPT) or {}
    except ProbeUnknown:
        data = {}
    return parse_windows_hardware(data if isinstance(data, dict) else {})


_HARDWARE = {"linux": hardware_linux, "darwin": hardware_darwin, "windows": hardware_windows}


def _disks(run: Runner) -> list[dict[str, Any]]:
    try:
        volumes = list_volumes(run)
    except ProbeUnknown:
        volumes = []
    if volumes:
        return [{"device": v.get("device"), "mount": v.get("mount"), "fstype": v.get("fstype"),
                 "size": v.get("size"), "removable": bool(v.get("removable")),
                 "encrypted": v.get("encrypted")} for v in volumes]
    if isinstance(run, ReplayRunner):
        return []  # psutil would describe this machine, not the recorded one
    # e.g. Windows without admin: the volumes are known, their encryption is not.
    disks = []
    for part in psutil.disk_partitions(all=False):
        try:
            size = psutil.disk_usage(part.mountpoint).total
        except OSError:
            size = None
        disks.append({"device": part.device, "mount": part.mountpoint, "fstype": part.fstype,
                      "size": size, "removable": "removable" in part.opts, "encrypted": None})
    return disks


def _interfaces() -> list[dict[str, Any]]:
    out = []
    for name, addrs in sorted(psutil.net_if_addrs().items()):
        mac = next((a.address for a in addrs if a.family == psutil.AF_LINK), None)
        ips = [a.address.split("%")[0] for a in addrs
               if a.family in (socket.AF_INET, socket.AF_INET6)]
        if name == "lo" or (ips and all(ip in ("127.0.0.1", "::1") for ip in ips)):
            continue
        out.append({"name": name, "mac": mac, "addresses": ips})
    return out


def collect(runner: Runner | None = None) -> dict[str, Any]:
    """The INVENTORY object. Missing facts are None, never a guess."""
    runner = runner or LiveRunner()
    hardware = _HARDWARE[runner.os](runner)
    users = sorted({u.name for u in psutil.users() if u.name})
    return {
        "hostname": socket.gethostname(),
        "machine_id": hardware["machine_id"],
        "hardware_serial": hardware["hardware_serial"],
        "hardware_model": hardware["hardware_model"],
        "manufacturer": hardware["manufacturer"],
        "os": hardware["os"],
        "users": users,
        "disks": _disks(runner),
        "interfaces": _interfaces(),
        "boot_time": dt.datetime.fromtimestamp(psutil.boot_time(), dt.UTC)
        .strftime("%Y-%m-%dT%H:%M:%SZ"),
        "agent_version": __version__,
    }
