"""Inventory hardware identity from recorded machines (hostname, users, interfaces and boot
time are live psutil facts and are covered by the live Linux test)."""

from __future__ import annotations

from agent.inventory import collect

from .conftest import replay


def test_linux_inventory_from_dmi_with_root_only_serial():
    inv = collect(replay("linux-gnome-wayland-lvm-on-luks"))
    assert inv["machine_id"] == "0f1e2d3c4b5a69788796a5b4c3d2e1f0"
    assert inv["hardware_serial"] is None  # product_serial is 0400: permission
    assert (inv["manufacturer"], inv["hardware_model"]) == ("Dell Inc.", "Latitude E6420")
    assert inv["os"] == {"name": "linux", "distro": "ubuntu", "version": "24.04", "kernel": None}
    root = next(d for d in inv["disks"] if d["mount"] == "/")
    assert root == {"device": "/dev/mapper/manjaro--vg0-manjaro--root", "mount": "/",
                    "fstype": "ext4", "size": 558 * 1024**3, "removable": False, "encrypted": True}


def test_placeholder_serial_is_dropped():
    inv = collect(replay("linux-kde-plain-usb"))
    assert inv["hardware_serial"] is None  # "To be filled by O.E.M."
    usb = next(d for d in inv["disks"] if d["mount"] == "/media/pi/USBSTICK")
    assert usb["removable"] is True and usb["encrypted"] is False


def test_macos_inventory_from_system_profiler():
    inv = collect(replay("darwin-filevault-on-mdm"))
    assert inv["hardware_serial"] == "GGJXG26P75"
    assert inv["hardware_model"] == "MacBookPro18,3"
    assert inv["machine_id"] == "30BD6509-4710-567C-826E-3AF2D66DBF35"
    assert inv["os"] == {"name": "darwin", "distro": "macos", "version": "14.5", "kernel": "23.5.0"}


def test_windows_inventory_from_cim_with_lenovo_model_quirk():
    inv = collect(replay("windows-bitlocker-on"))
    assert inv["hardware_serial"] == "PF2ABCDE"
    assert inv["hardware_model"] == "ThinkPad X1 Carbon Gen 9"
    assert inv["manufacturer"] == "LENOVO"
    assert inv["machine_id"] == "b3c1f1e2-8a4d-4f7e-9d2a-0c6a1d2e3f40"
    assert inv["os"]["version"] == "10.0.22631"
    assert inv["disks"] == [{"device": "C:", "mount": "C:", "fstype": None, "size": None,
                             "removable": False, "encrypted": True}]


def test_windows_inventory_without_admin_guesses_no_disks_on_replay():
    inv = collect(replay("windows-bitlocker-on", admin=False))
    # BitLocker needs admin; live, psutil would list the drives with encryption null
    assert inv["disks"] == []
    assert inv["hardware_serial"] == "PF2ABCDE"  # CIM identity needs no admin
