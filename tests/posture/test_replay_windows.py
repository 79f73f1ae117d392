"""Windows verdicts replayed from real outputs (tests/fixtures/posture/windows-*.json)."""

from __future__ import annotations

import pytest

from agent.posture import removable_media
from agent.posture.disk_encryption import parse_bitlocker_volume, volume_for_path

from .conftest import replay, verdicts


def test_bitlocker_on_with_gpo_screen_saver_passes():
    v = verdicts("windows-bitlocker-on")
    assert {k: r.status for k, r in v.items()} == dict.fromkeys(v, "pass")
    assert v["disk_encryption"].observed == "C: encrypted"
    lock = v["screen_lock"]
    # policy key (600 s + 5 s grace) wins over the user's own insecure 1200 s
    assert lock.details["users"][0]["lock_after_seconds"] == 605
    assert lock.details["machine_inactivity_seconds"] == 900
    assert lock.details["managed"] is True
    assert v["auto_logoff"].details["logoff_seconds"] == 900


def test_suspended_bitlocker_fails_with_resume_fix_and_lists_every_volume():
    v = verdicts("windows-suspended-usb")
    disk = v["disk_encryption"]
    assert disk.status == "fail"
    assert disk.observed == "C: BitLocker suspended"
    assert disk.fix == "Resume BitLocker protection: manage-bde -protectors -enable C:"
    vols = {x["mount"]: x for x in disk.details["volumes"]}
    assert set(vols) == {"C:", "D:", "E:"}  # the letterless recovery volume is left out
    assert vols["D:"]["status"] == "in_progress" and vols["D:"]["note"] == "encrypting 45%"
    assert vols["E:"]["removable"] is True and vols["E:"]["status"] == "fail"
    # user screen saver 1200 s (stethoscope's real Win32_Desktop values) > 900
    assert v["screen_lock"].observed == "locks after 1200 s idle"
    stick = v["removable_media"].details["volumes"][0]
    assert stick["model"] == "Kingston DataTraveler 3.0"
    assert stick["encrypted"] is False  # admin: BitLocker To Go status joined by drive letter
    assert v["firewall"].observed == "off for Public"
    assert v["os_updates"].observed == "disabled by policy (NoAutoUpdate=1)"
    assert v["os_supported"].status == "fail"


def test_clear_key_device_encryption_fails_as_waiting_for_activation():
    v = verdicts("windows-clear-key-home")
    assert v["disk_encryption"].status == "fail"
    assert v["disk_encryption"].observed == "C: BitLocker waiting for activation"
    assert v["screen_lock"].reason == "no user logged on and no machine inactivity limit"


def test_not_admin_says_needs_administrator_and_runs_the_rest():
    v = verdicts("windows-suspended-usb", admin=False)
    assert v["disk_encryption"].status == "unknown"
    assert v["disk_encryption"].reason == "needs administrator"
    assert v["firewall"].status == "fail"
    assert v["removable_media"].details["volumes"][0]["encrypted"] is None


@pytest.mark.parametrize("row, status, note", [
    ({"Conversion": 1, "Protection": 1, "Protectors": 2, "VolumeType": 0}, "pass", None),
    ({"Conversion": 1, "Protection": 0, "Protectors": 2, "VolumeType": 0}, "fail", "suspended"),
    ({"Conversion": 1, "Protection": 0, "Protectors": 0, "VolumeType": 0}, "fail",
     "waiting for activation"),
    ({"Conversion": 2, "Protection": 0, "Protectors": 1, "Percent": 12, "VolumeType": 0},
     "in_progress", "encrypting 12%"),
    ({"Conversion": 4, "Protection": 0, "Protectors": 1, "Percent": 60, "VolumeType": 0},
     "in_progress", "encryption paused at 60%"),
    ({"Conversion": 3, "Protection": 0, "Protectors": 1, "VolumeType": 0}, "fail", "decrypting"),
    ({"Conversion": 0, "Protection": 0, "Protectors": 0, "VolumeType": 1}, "fail", "not encrypted"),
    ({"Conversion": 1, "Protection": 2, "Protectors": 1, "VolumeType": 2}, "pass", "locked"),
    ({"Conversion": 1, "Protection": 2, "Protectors": 1, "VolumeType": 0}, "unknown", "locked"),
])
def test_bitlocker_decision_table(row, status, note):
    """Reference 1.2 decision table, one row each."""
    got = parse_bitlocker_volume({"DriveLetter": "C:", **row})
    assert (got["status"], got["note"]) == (status, note)


def test_windows_paths_match_drive_letters_case_insensitively():
    runner = replay("windows-suspended-usb")
    assert volume_for_path("e:/export/patients.csv", runner) == {
        "mount": "E:", "device": "E:", "encrypted": False, "removable": True}
    assert volume_for_path("C:\\Users\\ana\\x.csv", runner)["encrypted"] is False
    assert removable_media.list_removable(runner)[0]["serial"] == "60A44C3FAE2FB1A0B9C1"
