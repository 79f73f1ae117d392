"""Thresholds come from rules/policy.yaml; a server override changes the verdicts."""

from __future__ import annotations

import pytest

from agent.policy import load_policy
from agent.posture.errors import PolicyError

from .conftest import verdicts


def test_shipped_policy_loads_with_the_keys_the_checks_read():
    policy = load_policy()
    assert policy["screen_lock_max_seconds"] == 900
    assert policy["auto_logoff_max_seconds"] == 900
    assert policy["removable_media_allowed"] is False
    assert policy["os_supported"]["debian"] == "12"


def test_override_merges_nested_keys():
    policy = load_policy({"os_supported": {"debian": "13"}, "screen_lock_max_seconds": 300})
    assert policy["os_supported"] == {**load_policy()["os_supported"], "debian": "13"}
    assert policy["screen_lock_max_seconds"] == 300


@pytest.mark.parametrize("override, key", [
    ({"screen_lock_max_seconds": "900"}, "screen_lock_max_seconds"),
    ({"screen_lock_max_seconds": True}, "screen_lock_max_seconds"),
    ({"removable_media_allowed": "no"}, "removable_media_allowed"),
    ({"os_supported": {"darwin": 13}}, "os_supported"),
])
def test_bad_override_names_the_key(override, key):
    with pytest.raises(PolicyError, match=key):
        load_policy(override)


def test_bad_policy_file(tmp_path):
    path = tmp_path / "policy.yaml"
    path.write_text("- a list\n")
    with pytest.raises(PolicyError, match="must be a mapping"):
        load_policy(path=path)
    path.write_text("a: [unclosed\n")
    with pytest.raises(PolicyError, match="not valid YAML"):
        load_policy(path=path)


def test_stricter_screen_lock_policy_turns_a_pass_into_a_fail():
    assert verdicts("linux-gnome-wayland-lvm-on-luks")["screen_lock"].status == "pass"
    strict = verdicts("linux-gnome-wayland-lvm-on-luks", {"screen_lock_max_seconds": 120})
    assert strict["screen_lock"].status == "fail"
    assert strict["screen_lock"].policy == "locks with password within 120 s of idle"
    # and auto_logoff, which accepted the lock, follows it
    assert strict["auto_logoff"].status == "fail"


def test_auto_logoff_without_screen_lock_acceptance():
    v = verdicts("linux-gnome-wayland-lvm-on-luks", {"auto_logoff_accept_screen_lock": False})
    assert v["auto_logoff"].status == "fail" and v["auto_logoff"].observed == "no automatic logoff"


def test_removable_media_allowed_by_policy_still_lists_the_volume():
    v = verdicts("linux-kde-plain-usb", {"removable_media_allowed": True})
    assert v["removable_media"].status == "pass"
    assert v["removable_media"].details["volumes"][0]["mount"] == "/media/pi/USBSTICK"


def test_unlisted_distro_is_unknown_not_pass():
    from agent.posture import os_supported

    result = os_supported.evaluate({"key": "arch", "version": "1", "name": "Arch Linux"},
                                   load_policy(), "linux", {})
    assert result.status == "unknown" and result.reason == "no supported-version policy for arch"
