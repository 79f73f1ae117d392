"""New volumes: notice a mount within seconds and tell the daemon whether it is removable.

One code path for every OS: :class:`MountMonitor` compares the mount table (psutil, which
reads /proc/self/mounts, getfsstat() or GetLogicalDriveStrings()) with the previous poll;
only when it changed does it ask which of the new mounts are removable. Asking is the
posture module's ``list_removable()`` (lsblk/diskutil/WMI) where it is available, else a
cheap local rule. Polling the table costs well under a millisecond, so a 2-second poll
keeps idle CPU negligible.
"""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Callable
from dataclasses import asdict, dataclass

import psutil

log = logging.getLogger("phiwatch.watch")


@dataclass(frozen=True)
class Volume:
    mount: str
    device: str = ""
    fstype: str = ""
    removable: bool = False
    encrypted: bool | None = None
    vendor: str | None = None
    model: str | None = None
    serial: str | None = None
    size: int | None = None

    def to_event(self) -> dict:
        """The media event payload of docs/protocol.md."""
        d = asdict(self)
        return {k: d[k] for k in ("vendor", "model", "serial", "mount", "size", "encrypted")}


def mount_table() -> dict[str, Volume]:
    """Mounted filesystems (real devices only), keyed by mount point."""
    out: dict[str, Volume] = {}
    for p in psutil.disk_partitions(all=False):
        out[p.mountpoint] = Volume(
            mount=p.mountpoint,
            device=p.device,
            fstype=p.fstype,
            removable="removable" in (p.opts or ""),
        )
    return out


def _sys_block_removable(device: str) -> bool:
    # Linux: /sys/block/<disk>/removable is 1 for removable media; USB disks that claim
    # to be fixed still hang off a "usb" bus in their sysfs device path.
    name = os.path.basename(os.path.realpath(device))
    for disk in os.listdir("/sys/block") if os.path.isdir("/sys/block") else []:
        if name.startswith(disk):
            base = f"/sys/block/{disk}"
            try:
                with open(f"{base}/removable") as f:
                    if f.read().strip() == "1":
                        return True
                return "/usb" in os.path.realpath(f"{base}/device")
            except OSError:
                return False
    return False


def default_is_removable(vol: Volume) -> bool:
    """Removable without the posture module: Windows drive type, macOS /Volumes/*
    (other than the system volume), Linux sysfs."""
    if vol.removable:
        return True
    if sys.platform == "darwin":
        return vol.mount.startswith("/Volumes/")
    if sys.platform.startswith("linux"):
        return _sys_block_removable(vol.device)
    return False


def removable_from_posture() -> Callable[[Volume], Volume | None] | None:
    """A classifier backed by agent.posture.removable_media.list_removable(), if present."""
    try:
        from agent.posture.removable_media import list_removable
    except ImportError:
        return None

    def classify(vol: Volume) -> Volume | None:
        try:
            found = list_removable()
        except Exception as e:
            log.info("list_removable failed: %s", type(e).__name__)
            return None
        for item in found or []:
            d = item if isinstance(item, dict) else getattr(item, "__dict__", {})
            mounts = d.get("mounts") or [d.get("mount")]
            if vol.mount in mounts:
                return Volume(
                    mount=vol.mount,
                    device=vol.device,
                    fstype=vol.fstype,
                    removable=True,
                    encrypted=d.get("encrypted"),
                    vendor=d.get("vendor"),
                    model=d.get("model"),
                    serial=d.get("serial"),
                    size=d.get("size"),
                )
        return None

    return classify


class MountMonitor:
    """Calls ``on_mount(volume)`` for each new removable volume and ``on_unmount(volume)``
    when one goes. ``table`` and ``is_removable`` are the two OS touch points, injectable
    so a test can point them at a tmpfs it mounted (the rest is the same path)."""

    def __init__(
        self,
        on_mount: Callable[[Volume], None],
        on_unmount: Callable[[Volume], None],
        *,
        table: Callable[[], dict[str, Volume]] = mount_table,
        is_removable: Callable[[Volume], bool] | None = None,
    ) -> None:
        self.on_mount = on_mount
        self.on_unmount = on_unmount
        self.table = table
        self._posture = None if is_removable else removable_from_posture()
        self.is_removable = is_removable or default_is_removable
        self._known: dict[str, Volume] = {}
        self.removable: dict[str, Volume] = {}
        self._primed = False

    def poll(self) -> None:
        """Compare the mount table with the last poll. The first poll reports every
        removable volume already mounted (the agent starting with a USB disk in)."""
        try:
            now = self.table()
        except Exception as e:  # never crash the daemon over a mount table read
            log.info("mount table unreadable: %s", type(e).__name__)
            return
        if self._primed and now.keys() == self._known.keys():
            return
        for mount in sorted(now.keys() - self._known.keys()):
            vol = now[mount]
            rich = self._posture(vol) if self._posture else None
            if rich is None and self.is_removable(vol):
                rich = Volume(**{**asdict(vol), "removable": True})
            if rich is not None:
                self.removable[mount] = rich
                log.info("removable volume mounted at %s", mount)
                self.on_mount(rich)
        for mount in sorted(self._known.keys() - now.keys()):
            vol = self.removable.pop(mount, None)
            if vol is not None:
                log.info("removable volume removed from %s", mount)
                self.on_unmount(vol)
        self._known = dict(now)
        self._primed = True
