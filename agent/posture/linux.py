"""Linux sources shared by several checks: lsblk volumes, os-release, the desktop session.

Only machine-readable sources: ``lsblk -J`` (JSON), /etc/os-release (shell-style
key=value), environment variables. Everything here reads through the runner.
"""

from __future__ import annotations

import json
import re
import shlex
from typing import Any

from agent.posture.errors import ProbeUnknown
from agent.runner import CommandResult, Runner

# util-linux >= 2.37 has MOUNTPOINTS (an array; karlicoss/kobuddy#15). Older builds reject
# unknown columns and print nothing ("lsblk: unknown column: TRAN",
# sebhildebrandt/systeminformation#16), so we retry with fewer columns (reference 1.3).
LSBLK = ["lsblk", "-J", "-b", "-o",
         "NAME,PATH,TYPE,FSTYPE,MOUNTPOINTS,TRAN,RM,HOTPLUG,SIZE,MODEL,SERIAL,VENDOR"]
LSBLK_OLD = ["lsblk", "-J", "-b", "-o", "NAME,TYPE,FSTYPE,MOUNTPOINT,RM,SIZE,MODEL"]

# Not user data: the boot partition and the ESP are exempt (reference 1.3), squashfs is a
# read-only image (snaps), [SWAP] is listed but does not decide the headline.
EXEMPT_MOUNTS = ("/boot", "/boot/efi", "/efi")
EXEMPT_FSTYPES = ("squashfs", "iso9660")


def command_failed(result: CommandResult, what: str) -> ProbeUnknown:
    """The unknown verdict for a command that did not answer."""
    if result.error == "not_found":
        return ProbeUnknown(f"command not found: {what}")
    if result.error == "timeout":
        return ProbeUnknown(f"{what} timed out")
    if result.error == "permission":
        return ProbeUnknown(f"{what}: permission denied")
    return ProbeUnknown(f"{what} failed (exit {result.rc})" if result.rc is not None else f"{what} failed")


def _flag(value: Any) -> bool:
    # lsblk JSON gives booleans on util-linux >= 2.33 and "0"/"1" strings before that.
    return value is True or value in ("1", 1, "true")


def _text(value: Any) -> str | None:
    if value is None:
        return None
    value = str(value).strip()
    return value or None


def parse_lsblk(stdout: str) -> list[dict[str, Any]]:
    """One entry per mounted filesystem (and swap) found in ``lsblk -J`` output.

    Each entry: mount, device, fstype, size, type, encrypted (bool), layout (types from
    disk down, e.g. "disk>part>crypt>lvm"), removable, vendor, model, serial.
    Encrypted means the filesystem sits on a dm-crypt mapping: some ancestor (or itself)
    is TYPE crypt, or an ancestor is a crypto_LUKS container. That covers LVM on LUKS
    and LUKS on LVM alike (osquery#7207).
    """
    try:
        data = json.loads(stdout)
        roots = data["blockdevices"]
    except (ValueError, KeyError, TypeError) as e:
        raise ProbeUnknown("lsblk output did not parse") from e
    volumes: list[dict[str, Any]] = []

    def walk(node: dict[str, Any], chain: list[dict[str, Any]]) -> None:
        chain = [*chain, node]
        name = str(node.get("name") or "")
        device = node.get("path") or (name if name.startswith("/") else f"/dev/{name}")
        mounts = node.get("mountpoints")
        if mounts is None:
            mounts = [node.get("mountpoint")]
        for mount in mounts:
            if not mount:
                continue
            disk = chain[0]
            volumes.append({
                "mount": mount,
                "device": device,
                "fstype": node.get("fstype"),
                "size": int(node["size"]) if str(node.get("size", "")).isdigit() else None,
                "type": node.get("type"),
                "encrypted": any(
                    n.get("type") == "crypt" or (n is not node and n.get("fstype") == "crypto_LUKS")
                    for n in chain
                ),
                "layout": ">".join(str(n.get("type")) for n in chain),
                # USB = TRAN usb on the disk; RM misses SD cards and many USB SSDs, so
                # HOTPLUG counts too (balena drivelist#304, reference 4).
                "removable": any(
                    _flag(n.get("rm")) or _flag(n.get("hotplug")) or n.get("tran") == "usb"
                    for n in chain if n.get("type") in ("disk", "part")
                ),
                "disk": disk.get("path") or disk.get("name"),
                "vendor": _text(disk.get("vendor")),
                "model": _text(disk.get("model")),
                "serial": _text(disk.get("serial")),
            })
        for child in node.get("children") or []:
            walk(child, chain)

    for root in roots:
        walk(root, [])
    # The disk we booted from is not removable media, whatever HOTPLUG says: lsblk marks
    # whole subsystems hot-pluggable (mmc, so eMMC laptops and SD-booted boards), and a
    # false "USB stick mounted" on the system disk would be a wrong fail.
    system_disks = {v["disk"] for v in volumes if v["mount"] == "/"}
    for v in volumes:
        if v.pop("disk") in system_disks:
            v["removable"] = False
    return volumes


def layout_name(layout: str) -> str:
    """A reader's name for a block layout: "LVM on LUKS", "LUKS on LVM", "LUKS", "plain"."""
    types = layout.split(">")
    if "crypt" not in types:
        return "plain"
    c = types.index("crypt")
    if "lvm" in types[c + 1:]:
        return "LVM on LUKS"
    if "lvm" in types[:c]:
        return "LUKS on LVM"
    return "LUKS"


def parse_mountinfo(text: str) -> list[tuple[str, str, str]]:
    """(mount, fstype, source) per line of /proc/self/mountinfo (proc(5))."""
    out = []
    for line in text.splitlines():
        left, _, right = line.partition(" - ")
        fields, rest = left.split(), right.split()
        if len(fields) >= 5 and len(rest) >= 2:
            # Spaces and tabs in mount points are octal-escaped (\040).
            mount = re.sub(r"\\([0-7]{3})", lambda m: chr(int(m.group(1), 8)), fields[4])
            out.append((mount, rest[0], rest[1]))
    return out


def lsblk_volumes(run: Runner) -> list[dict[str, Any]]:
    result = run.run(LSBLK)
    if result.error is None and result.rc != 0:
        result = run.run(LSBLK_OLD)
    if not result.ok:
        raise command_failed(result, "lsblk")
    volumes = parse_lsblk(result.stdout)
    if any(v["fstype"] is None for v in volumes):
        # lsblk takes FSTYPE from the udev database; without udev (containers, minimal
        # VMs) it is empty, while the kernel's mount table still knows it.
        info = run.read("/proc/self/mountinfo")
        kinds = {m: f for m, f, _ in parse_mountinfo(info.text or "")} if info.ok else {}
        for v in volumes:
            v["fstype"] = v["fstype"] or kinds.get(v["mount"])
    return volumes


def is_exempt(volume: dict[str, Any]) -> bool:
    # zram is compressed RAM (swap or /tmp): nothing of it reaches a disk.
    return (volume["mount"] in EXEMPT_MOUNTS or volume.get("fstype") in EXEMPT_FSTYPES
            or str(volume.get("device") or "").rsplit("/", 1)[-1].startswith("zram"))


def parse_os_release(text: str) -> dict[str, str]:
    """/etc/os-release: shell-style KEY=value lines (os-release(5))."""
    out: dict[str, str] = {}
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#") or "=" not in line:
            continue
        key, _, value = line.partition("=")
        try:
            parts = shlex.split(value)
        except ValueError:
            continue
        out[key.strip()] = parts[0] if parts else ""
    return out


def os_release(run: Runner) -> dict[str, str]:
    for path in ("/etc/os-release", "/usr/lib/os-release"):
        result = run.read(path)
        if result.ok:
            return parse_os_release(result.text or "")
    raise ProbeUnknown("no /etc/os-release")


def desktop(run: Runner) -> str | None:
    """The desktop of the session we run in: "gnome", "kde", another name, or None.

    XDG_CURRENT_DESKTOP is a colon-separated list (e.g. "ubuntu:GNOME"); it is set by
    the display manager for X11 and Wayland sessions alike.
    """
    return desktop_name(run.getenv("XDG_CURRENT_DESKTOP") or run.getenv("DESKTOP_SESSION") or "")


def parse_show_session(text: str) -> dict[str, str]:
    """``loginctl show-session ID -p ...`` prints KEY=value lines."""
    return dict(line.split("=", 1) for line in text.splitlines() if "=" in line)


def graphical_session(run: Runner) -> dict[str, str] | None:
    """The active local X11/Wayland session from logind, or None (reference 8).

    Used when the agent has no session environment of its own (a system service, SSH).
    """
    listing = run.run(["loginctl", "list-sessions", "--no-legend"])
    if not listing.ok:
        return None
    for line in listing.stdout.splitlines():
        if not line.split():
            continue
        sid = line.split()[0]
        shown = run.run(["loginctl", "show-session", sid, "-p", "Name", "-p", "User", "-p", "Type",
                         "-p", "Active", "-p", "Remote", "-p", "Desktop"])
        if not shown.ok:
            continue
        props = parse_show_session(shown.stdout)
        if props.get("Type") in ("x11", "wayland") and props.get("Active") == "yes" \
                and props.get("Remote") == "no" and props.get("Name") and props.get("User", "").isdigit():
            return props
    return None


# Desktop names as XDG_CURRENT_DESKTOP, DESKTOP_SESSION and logind's Desktop= give them.
# Ubuntu's session says "ubuntu" and Unity/Budgie use GNOME's screensaver keys.
_DESKTOPS = (("gnome", "gnome"), ("ubuntu", "gnome"), ("unity", "gnome"), ("budgie", "gnome"),
             ("kde", "kde"), ("plasma", "kde"), ("x-cinnamon", "cinnamon"), ("cinnamon", "cinnamon"),
             ("mate", "mate"), ("xfce", "xfce"))


def desktop_name(value: str) -> str | None:
    """Normalise an XDG_CURRENT_DESKTOP-style value to gnome, kde, ... (None when empty)."""
    names = [n.strip().lower() for n in value.replace(";", ":").split(":") if n.strip()]
    if not names:
        return None
    for name in reversed(names):
        for prefix, desktop in _DESKTOPS:
            if name.startswith(prefix):
                return desktop
    return names[-1]


def desktop_session(run: Runner) -> tuple[str | None, list[str], str | None]:
    """(desktop, command prefix, user) of the desktop session whose settings count.

    Inside the session (the per-user agent): its own desktop, no prefix. Outside it (a
    root service, SSH): the active local session from logind. Settings are per user: as
    root, gsettings would show root's own values (tom-krieger/cis_security_hardening#102),
    so we read as the session's user with runuser and that user's bus (Kolide's pattern,
    reference 8). Raises ProbeUnknown for another user's session without admin.
    """
    own = desktop(run)
    if own is not None:
        return own, [], None
    session = graphical_session(run)
    if session is None:
        return None, [], None
    name = desktop_name(session.get("Desktop", "")) or "gnome"
    user, uid = session["Name"], session["User"]
    if not run.is_admin():
        if run.getenv("USER") == user:
            return name, [], user
        raise ProbeUnknown("desktop session of another user (needs administrator)")
    return name, ["runuser", "-u", user, "--", "env", f"XDG_RUNTIME_DIR=/run/user/{uid}",
                  f"DBUS_SESSION_BUS_ADDRESS=unix:path=/run/user/{uid}/bus"], user
