"""macOS verdicts replayed from real outputs (tests/fixtures/posture/darwin-*.json)."""

from __future__ import annotations

import pytest

from agent.posture import removable_media
from agent.posture.disk_encryption import volume_for_path

from .conftest import replay, verdicts


def test_filevault_on_with_mdm_screen_saver_passes():
    v = verdicts("darwin-filevault-on-mdm")
    assert {k: r.status for k, r in v.items()} == dict.fromkeys(v, "pass")
    assert v["disk_encryption"].observed == "FileVault on"
    vols = {x["mount"]: x for x in v["disk_encryption"].details["volumes"]}
    assert vols["/"]["status"] == "pass" and vols["/System/Volumes/Data"]["encrypted"] is True
    assert vols["/System/Volumes/VM"]["status"] == "not_applicable"
    lock = v["screen_lock"]
    # MDM idleTime 600 wins over display sleep; MDM askForPasswordDelay 5 is the grace
    assert lock.details["source"] == "mdm" and lock.details["managed"] is True
    assert lock.details["lock_after_seconds"] == 605
    assert lock.observed == "locks after 605 s idle (managed)"
    assert v["firewall"].details["state"] == 1
    assert v["os_supported"].observed == "macOS 14.5"


def test_encryption_in_progress_usb_stick_and_lock_off():
    v = verdicts("darwin-encrypting-usb")
    assert v["disk_encryption"].status == "in_progress"
    assert v["disk_encryption"].observed == "FileVault encrypting (37.2%)"
    usb = next(x for x in v["disk_encryption"].details["volumes"] if x["mount"] == "/Volumes/UNTITLED")
    assert usb == {"mount": "/Volumes/UNTITLED", "device": "/dev/disk4s1",
                   "fstype": "Microsoft Basic Data", "size": 15518924800, "encrypted": False,
                   "status": "fail", "removable": True, "system": False}
    assert v["screen_lock"].status == "fail" and v["screen_lock"].observed == "screen lock off"
    # AutoLogOutDelay 0 is "off"; lock off too: fail
    assert v["auto_logoff"].status == "fail"
    # State = 2 ("blocking all") has no "enabled" in it and is still on (Mac-Health-Check PR#8)
    assert v["firewall"].status == "pass" and v["firewall"].details["state"] == 2
    assert v["os_updates"].observed == "off: AutomaticallyInstallMacOSUpdates"
    assert v["os_supported"].status == "fail"
    media = v["removable_media"].details["volumes"]
    assert media == [{"mount": "/Volumes/UNTITLED", "device": "/dev/disk4s1", "vendor": None,
                      "model": "SanDisk Cruzer Blade", "serial": None, "size": 15518924800,
                      "fstype": "msdos", "encrypted": False}]


def test_login_window_is_unknown_and_filevault_off_fails():
    v = verdicts("darwin-loginwindow-filevault-off")
    assert v["disk_encryption"].status == "fail"
    assert v["disk_encryption"].fix.startswith("Turn on FileVault")
    assert v["screen_lock"].status == "unknown"
    assert v["screen_lock"].reason == "no console user (login window)"
    # AutoLogOutDelay 86400 (DISA) is a real logoff but beyond the 900 s policy
    assert v["auto_logoff"].observed == "idle sessions end after 86400 s"
    assert v["auto_logoff"].status == "unknown"
    assert v["firewall"].status == "fail"
    # absent SoftwareUpdate keys are the OS default, on
    assert v["os_updates"].status == "pass"


def test_display_sleep_decides_when_it_is_shorter_than_the_screen_saver():
    runner = replay("darwin-encrypting-usb")
    cmds = runner.data["commands"]
    cmds["sysadminctl -screenLock status"]["stderr"] = "screenLock delay is 5 seconds\n"
    cmds["pmset -g custom"]["stdout"] = "Battery Power:\n displaysleep 2\nAC Power:\n displaysleep 10\n"
    from agent.posture import screen_lock

    facts = screen_lock.probe_darwin(runner)
    # idleTime 1200 s; display sleeps after 10 min on AC (the longer source): 600 + 5
    assert facts["lock_after_seconds"] == 605


def test_darwin_volume_for_path_and_removable_list():
    runner = replay("darwin-encrypting-usb")
    assert volume_for_path("/Volumes/UNTITLED/x.csv", runner)["removable"] is True
    assert volume_for_path("/Users/bob/x.csv", runner)["mount"] == "/"
    assert [m["mount"] for m in removable_media.list_removable(runner)] == ["/Volumes/UNTITLED"]


def test_root_cannot_read_the_console_users_screen_lock():
    v = verdicts("darwin-filevault-on-mdm", admin=True)
    assert v["screen_lock"].status == "unknown"
    assert v["screen_lock"].reason == "run as the console user: root cannot read the screen lock"
    assert v["disk_encryption"].status == "pass"


@pytest.mark.parametrize("idle_time, pmset, expected", [
    ("0\n", " displaysleep 0\n", ("fail", None)),  # screen saver never, display never: never locks
    (None, " displaysleep 0\n", ("unknown", "screen saver idle time not set and display never sleeps")),
    (None, " displaysleep 10\n", ("pass", None)),  # display sleep locks at 600 s
])
def test_macos_idle_sources(idle_time, pmset, expected):
    runner = replay("darwin-encrypting-usb")
    cmds = runner.data["commands"]
    cmds["sysadminctl -screenLock status"]["stderr"] = "screenLock delay is immediate\n"
    key = "defaults -currentHost read com.apple.screensaver idleTime"
    if idle_time is None:
        cmds[key] = {"rc": 1, "stdout": "", "stderr": "The domain/default pair does not exist\n"}
    else:
        cmds[key]["stdout"] = idle_time
    cmds["pmset -g custom"]["stdout"] = pmset
    from agent.policy import load_policy
    from agent.posture import CHECKS, run_check

    r = run_check(CHECKS["screen_lock"], load_policy(), runner)
    assert (r.status, r.reason) == expected


def test_real_diskutil_plists_of_an_apple_silicon_mac():
    """Verbatim plists (Kolide's test data): sealed system snapshot at /, Data, and /nix."""
    v = verdicts("darwin-real-diskutil-filevault")
    disk = v["disk_encryption"]
    assert (disk.status, disk.observed) == ("pass", "FileVault on")
    vols = {x["mount"]: x for x in disk.details["volumes"]}
    assert vols["/"]["device"] == "/dev/disk3s1s1" and vols["/"]["system"] is True
    assert vols["/System/Volumes/Data"]["encrypted"] is True
    # a user APFS volume is judged by its own FileVault flag
    assert vols["/nix"] == {"mount": "/nix", "device": "/dev/disk3s7", "fstype": "apfs",
                            "size": 1995218165760, "encrypted": True, "status": "pass",
                            "removable": False, "system": False}
    assert {m for m, x in vols.items() if x["status"] == "not_applicable"} == {
        "/System/Volumes/iSCPreboot", "/System/Volumes/xarts", "/System/Volumes/Hardware",
        "/System/Volumes/Preboot", "/System/Volumes/Update", "/System/Volumes/VM"}
    assert disk.details["failing_volumes"] == []
    # the empty external-disk list is a real answer; nothing else was recorded: unknown
    assert v["removable_media"].status == "pass"
    others = [k for k in v if k not in ("disk_encryption", "removable_media")]
    assert {k: v[k].status for k in others} == dict.fromkeys(others, "unknown")
