"""Pure parsers fed the real strings quoted in the reference (section numbers in comments)."""

from __future__ import annotations

import pytest

from agent.inventory import clean_serial, parse_sphardware, parse_windows_hardware
from agent.posture.auto_logoff import parse_logind, parse_timespan, parse_tmout
from agent.posture.disk_encryption import parse_fdesetup
from agent.posture.errors import ProbeUnknown
from agent.posture.firewall import (
    parse_is_active,
    parse_nftables_conf,
    parse_socketfilterfw,
    parse_ufw_conf,
)
from agent.posture.linux import desktop, layout_name, parse_lsblk, parse_os_release
from agent.posture.os_supported import version_tuple
from agent.posture.os_updates import parse_apt_periodic, parse_darwin, parse_dnf_automatic_conf
from agent.posture.removable_media import parse_modprobe_blocked
from agent.posture.screen_lock import (
    parse_gnome,
    parse_gsettings,
    parse_kde,
    parse_pmset_displaysleep,
    parse_sysadminctl,
    parse_windows,
)
from agent.runner import ReplayRunner


# 1.1 rtrouton EA strings
@pytest.mark.parametrize("text, status, observed", [
    ("FileVault is On.\n", "pass", "FileVault on"),
    ("FileVault is Off.\n", "fail", "FileVault off"),
    ("FileVault is On.\nEncryption in progress: Percent completed = 12.5\n", "in_progress",
     "FileVault encrypting (12.5%)"),
    ("FileVault is On.\nDecryption in progress: Percent completed = 80\n", "fail",
     "FileVault decrypting"),
    ("FileVault is Off.\nDeferred enablement appears to be active for user 'ana'.\n", "fail",
     "FileVault pending (deferred until next logout)"),
])
def test_fdesetup(text, status, observed):
    assert parse_fdesetup(text) == (status, observed)


def test_fdesetup_unrecognised_is_unknown_not_a_guess():
    with pytest.raises(ProbeUnknown):
        parse_fdesetup("FileVault est activé.\n")


# 5 socketfilterfw real strings (rgcr/m-cli#160)
@pytest.mark.parametrize("text, state", [
    ("Firewall is enabled. (State = 1)", 1),
    ("Firewall is disabled. (State = 0)", 0),
    ("Firewall is blocking all non-essential incoming connections. (State = 2)", 2),
])
def test_socketfilterfw(text, state):
    assert parse_socketfilterfw(text) == state


def test_systemctl_is_active_without_systemd_is_none():
    assert parse_is_active("active\ninactive\nfailed\n") == {
        "ufw": "active", "firewalld": "inactive", "nftables": "failed"}
    assert parse_is_active("") is None


def test_ufw_and_nftables_config():
    assert parse_ufw_conf("# comment\nENABLED=yes\nLOGLEVEL=low\n")
    assert not parse_ufw_conf("ENABLED=no\n")
    # Debian's stock /etc/nftables.conf accepts everything: not a firewall
    stock = "table inet filter {\n  chain input {\n    type filter hook input priority filter;\n  }\n}\n"
    assert not parse_nftables_conf(stock)
    assert parse_nftables_conf(stock.replace("priority filter;", "priority filter; policy drop;"))


# 2.3 gsettings: Kolide fixture (pass) and open-semantic-desktop-search#19 (fail)
def test_gsettings_pass_and_fail_values():
    good = parse_gsettings(
        "org.gnome.desktop.screensaver lock-enabled true\n"
        "org.gnome.desktop.screensaver lock-delay uint32 0\n"
        "org.gnome.desktop.session idle-delay uint32 300\n"
        "org.gnome.desktop.lockdown disable-lock-screen false\n")
    assert parse_gnome(good)["lock_after_seconds"] == 300
    off = dict(good, **{"org.gnome.desktop.screensaver lock-enabled": "false"})
    assert parse_gnome(off)["enabled"] is False
    never = parse_gsettings("org.gnome.desktop.screensaver lock-enabled true\n"
                            "org.gnome.desktop.session idle-delay uint32 0\n")
    assert parse_gnome(never)["lock_after_seconds"] is None
    disabled = dict(good, **{"org.gnome.desktop.lockdown disable-lock-screen": "true"})
    assert parse_gnome(disabled)["enabled"] is False
    assert parse_gnome(disabled)["off_reason"] == "lock screen disabled (org.gnome.desktop.lockdown)"
    with pytest.raises(ProbeUnknown):
        parse_gnome({})


def test_kde_timeout_is_minutes():
    assert parse_kde("true", "5", "5")["lock_after_seconds"] == 305
    assert parse_kde("false", "5", "5")["enabled"] is False
    with pytest.raises(ProbeUnknown):
        parse_kde("true", "five", "5")


# 2.1 CIS-CAT / public parser strings; pmset excerpt
@pytest.mark.parametrize("text, expected", [
    ("screenLock delay is immediate", (True, 0)),
    ("screenLock delay is 5 seconds", (True, 5)),
    ("screenLock delay is 300 seconds", (True, 300)),
    ("screenLock is off", (False, None)),
    ("Error: not in a user session", (None, None)),
])
def test_sysadminctl(text, expected):
    assert parse_sysadminctl(text) == expected


def test_pmset_displaysleep_takes_the_longest_source_and_zero_is_never():
    assert parse_pmset_displaysleep(" displaysleep         20\n sleep                1") == 20
    assert parse_pmset_displaysleep("Battery Power:\n displaysleep 2\nAC Power:\n displaysleep 0\n") == 0
    assert parse_pmset_displaysleep("sleep 1\n") is None


# 2.2 Windows: stricter of machine limit and secure screen saver; policy key over user key
def test_windows_screen_lock_rules():
    user = {"ScreenSaveActive": "1", "ScreenSaverIsSecure": "1", "ScreenSaveTimeOut": "1200",
            "SCRNSAVE.EXE": "scrnsave.scr"}
    assert parse_windows({"Users": [{"Sid": "S", "Policy": {}, "User": user}]})[
        "lock_after_seconds"] == 1200
    # InactivityTimeoutSecs 0 is "disabled", not "immediately"
    assert parse_windows({"InactivityTimeoutSecs": 0, "Users": [
        {"Sid": "S", "Policy": {}, "User": user}]})["lock_after_seconds"] == 1200
    assert parse_windows({"InactivityTimeoutSecs": 600, "Users": [
        {"Sid": "S", "Policy": {}, "User": user}]})["lock_after_seconds"] == 600
    # active and secure but no .scr runs nothing (CIS 19.1.3.2)
    no_scr = {k: v for k, v in user.items() if k != "SCRNSAVE.EXE"}
    assert parse_windows({"Users": [{"Sid": "S", "Policy": {}, "User": no_scr}]})["enabled"] is False
    # the policy key wins over the user's value
    got = parse_windows({"Users": [{"Sid": "S", "Policy": {"ScreenSaveTimeOut": "300"}, "User": user}]})
    assert got["lock_after_seconds"] == 300 and got["managed"] is True


# 3 logind / TMOUT
@pytest.mark.parametrize("text, seconds", [
    ("900", 900), ("900s", 900), ("15min", 900), ("1h 30min", 5400), ("infinity", None), ("0", None),
])
def test_timespan(text, seconds):
    assert parse_timespan(text) == seconds


def test_timespan_garbage_is_unknown():
    with pytest.raises(ProbeUnknown):
        parse_timespan("15 fortnights")


def test_logind_later_files_win_and_comments_do_not_count():
    main = "[Login]\n#StopIdleSessionSec=infinity\nIdleAction=ignore\n"
    drop = "[Login]\nStopIdleSessionSec=900\n"
    assert parse_logind([main])["IdleAction"] == "ignore"
    assert "StopIdleSessionSec" not in parse_logind([main])
    assert parse_logind([main, drop])["StopIdleSessionSec"] == "900"
    assert parse_logind([drop, "[Login]\nStopIdleSessionSec=infinity\n"])["StopIdleSessionSec"] == "infinity"


def test_tmout():
    assert parse_tmout("TMOUT=900\nreadonly TMOUT\nexport TMOUT\n") == 900
    assert parse_tmout("readonly TMOUT=600\n") == 600
    assert parse_tmout("# TMOUT=600\n") is None


# 6 updates
def test_apt_periodic_and_dnf_automatic():
    assert parse_apt_periodic('APT::Periodic::Unattended-Upgrade "1";\n')
    assert not parse_apt_periodic('APT::Periodic::Unattended-Upgrade "0";\n')
    assert not parse_apt_periodic("")
    assert parse_dnf_automatic_conf("[commands]\napply_updates = yes\n")
    assert not parse_dnf_automatic_conf("[commands]\napply_updates = no\n")


def test_macos_update_keys_absent_means_default_on():
    assert parse_darwin({})["enabled"] is True
    assert parse_darwin({"AutomaticDownload": False})["observed"] == "off: AutomaticDownload"


# 1.3 lsblk
def test_lsblk_layouts():
    assert layout_name("disk>part>crypt>lvm") == "LVM on LUKS"
    assert layout_name("disk>part>lvm>crypt") == "LUKS on LVM"
    assert layout_name("disk>part>crypt") == "LUKS"
    assert layout_name("disk>part") == "plain"


def test_lsblk_closed_luks_container_is_not_a_mounted_volume():
    # Kolide fixture: crypto_LUKS LV not opened (mountpoints [null]) next to a plain ext4 LV
    out = parse_lsblk('{"blockdevices": [{"name": "/dev/mapper/LvmEncrypt-lvmcryptroot", '
                      '"type": "lvm", "fstype": "crypto_LUKS", "mountpoints": [null]}, '
                      '{"name": "/dev/mapper/LvmEncrypt-lvmcrypthome", "type": "lvm", '
                      '"fstype": "ext4", "mountpoints": ["/home"]}]}')
    assert [(v["mount"], v["device"], v["encrypted"]) for v in out] == [
        ("/home", "/dev/mapper/LvmEncrypt-lvmcrypthome", False)]


def test_lsblk_several_mountpoints_and_bad_json():
    out = parse_lsblk('{"blockdevices": [{"name": "sdb", "type": "disk", "tran": "usb", '
                      '"mountpoints": ["/media/a", "/srv/a"]}]}')
    assert [(v["mount"], v["removable"]) for v in out] == [("/media/a", True), ("/srv/a", True)]
    with pytest.raises(ProbeUnknown):
        parse_lsblk("lsblk: unknown column")


def test_os_release_and_versions():
    rel = parse_os_release('NAME="Ubuntu"\nVERSION_ID="22.04"\nID=ubuntu\n# c\nID_LIKE=debian\n')
    assert rel == {"NAME": "Ubuntu", "VERSION_ID": "22.04", "ID": "ubuntu", "ID_LIKE": "debian"}
    assert version_tuple("10.0.22631") > version_tuple("10.0.19045")
    assert version_tuple("22.04") >= version_tuple("22.04") > version_tuple("20.04")


@pytest.mark.parametrize("env, expected", [
    ({"XDG_CURRENT_DESKTOP": "ubuntu:GNOME"}, "gnome"),
    ({"XDG_CURRENT_DESKTOP": "KDE"}, "kde"),
    ({"XDG_CURRENT_DESKTOP": "X-Cinnamon"}, "cinnamon"),
    ({"DESKTOP_SESSION": "plasma"}, "kde"),
    ({"XDG_CURRENT_DESKTOP": "sway"}, "sway"),
    ({}, None),
])
def test_desktop_detection(env, expected):
    runner = ReplayRunner({"format": "phiwatch-posture-replay/1", "os": "linux", "env": env})
    assert desktop(runner) == expected


def test_modprobe_block():
    assert parse_modprobe_blocked(["install usb-storage /bin/false\n"])
    assert parse_modprobe_blocked(["blacklist usb_storage\n"])
    assert not parse_modprobe_blocked(["# blacklist usb-storage\n", "blacklist pcspkr\n"])


# 7 inventory: placeholder serials; mql#1380 values; Lenovo model quirk
@pytest.mark.parametrize("raw", ["To be filled by O.E.M.", "Default string", "System Serial Number",
                                 "0123456789", "0000000000", "  ", None])
def test_placeholder_serials_are_none(raw):
    assert clean_serial(raw) is None


def test_hardware_parsers():
    assert clean_serial(" 8ZVK8V1 ") == "8ZVK8V1"
    mac = parse_sphardware({"SPHardwareDataType": [{"serial_number": "GGJXG26P75",
                                                    "machine_model": "MacBookPro18,3",
                                                    "platform_UUID": "30BD6509"}]})
    assert mac == {"machine_id": "30BD6509", "hardware_serial": "GGJXG26P75",
                   "hardware_model": "MacBookPro18,3", "manufacturer": "Apple Inc."}
    win = parse_windows_hardware({"Serial": "Default string", "Manufacturer": "LENOVO",
                                  "Model": "20XW0026US", "ProductVersion": "ThinkPad X1 Carbon Gen 9"})
    assert win["hardware_serial"] is None and win["hardware_model"] == "ThinkPad X1 Carbon Gen 9"


def test_nsuserdefaults_values_of_any_json_type_are_read():
    from agent.posture.darwin import parse_defaults
    from agent.posture.screen_lock import _int

    values = parse_defaults('{"askForPassword":true,"askForPasswordDelay":5.0}', ["askForPassword",
                            "askForPasswordDelay", "idleTime"])
    assert values == {"askForPassword": True, "askForPasswordDelay": 5.0, "idleTime": None}
    assert [_int(v) for v in (True, 5.0, "300", " 60 ", "never", None)] == [1, 5, 300, 60, None, None]


def test_the_boot_disk_is_never_removable_even_when_lsblk_says_hotplug():
    # lsblk reports the whole mmc subsystem as hot-pluggable: an eMMC laptop's system disk
    out = parse_lsblk('{"blockdevices": [{"name": "mmcblk0", "type": "disk", "hotplug": true, '
                      '"rm": false, "mountpoints": [null], "children": ['
                      '{"name": "mmcblk0p1", "type": "part", "hotplug": true, "mountpoints": ["/boot/efi"]},'
                      '{"name": "mmcblk0p2", "type": "part", "hotplug": true, "mountpoints": ["/"]}]},'
                      '{"name": "mmcblk1", "type": "disk", "hotplug": true, "mountpoints": [null], '
                      '"children": [{"name": "mmcblk1p1", "type": "part", "hotplug": true, '
                      '"mountpoints": ["/media/ana/SDCARD"]}]}]}')
    assert {v["mount"]: v["removable"] for v in out} == {
        "/boot/efi": False, "/": False, "/media/ana/SDCARD": True}


def test_gnome_power_logout_needs_both_power_sources():
    from agent.posture.auto_logoff import parse_gnome_power

    both = ("org.gnome.settings-daemon.plugins.power sleep-inactive-ac-type 'logout'\n"
            "org.gnome.settings-daemon.plugins.power sleep-inactive-ac-timeout 900\n"
            "org.gnome.settings-daemon.plugins.power sleep-inactive-battery-type 'logout'\n"
            "org.gnome.settings-daemon.plugins.power sleep-inactive-battery-timeout 600\n")
    assert parse_gnome_power(both) == 900
    assert parse_gnome_power(both.replace("battery-type 'logout'", "battery-type 'suspend'")) is None
    assert parse_gnome_power(both.replace("ac-timeout 900", "ac-timeout 0")) is None
    assert parse_gnome_power("") is None


def test_windows_password_on_wake_policy_off_fails_the_lock():
    data = {"InactivityTimeoutSecs": 600, "Users": [], "WakeAC": 1, "WakeDC": 0}
    facts = parse_windows(data)
    assert facts["enabled"] is False and facts["password_on_wake"] is False
    assert facts["off_reason"] == "no password on wake from sleep (policy)"
    assert parse_windows(dict(data, WakeDC=None))["enabled"] is True  # absent = default on


def test_kde_without_lock_on_resume_is_not_a_lock():
    facts = parse_kde("true", "5", "5", "false")
    assert facts["enabled"] is False and facts["off_reason"] == "no lock on resume from sleep"


def test_socketfilterfw_multi_line_real_output():
    # verbatim: kolide/launcher ee/tables/execparsers/socketfilterfw/test-data/data.txt
    text = ("Firewall is enabled. (State = 2)\nFirewall has block all state set to disabled.\n"
            "Automatically allow built-in signed software ENABLED.\n"
            "Automatically allow downloaded signed software ENABLED.\nStealth mode enabled\n"
            "Log mode is on \nLog Option is throttled \n")
    assert parse_socketfilterfw(text) == 2


def test_systemd_version():
    from agent.posture.auto_logoff import parse_systemd_version

    assert parse_systemd_version("systemd 252 (252.22-1~deb12u1)\n+PAM +AUDIT") == 252
    assert parse_systemd_version("") is None


def test_zram_swap_and_boot_are_exempt_from_disk_encryption():
    from agent.posture.linux import is_exempt

    assert is_exempt({"mount": "[SWAP]", "device": "/dev/zram0", "fstype": "swap"})
    assert is_exempt({"mount": "/boot/efi", "device": "/dev/sda1", "fstype": "vfat"})
    assert is_exempt({"mount": "/snap/core/1", "device": "/dev/loop3", "fstype": "squashfs"})
    assert not is_exempt({"mount": "[SWAP]", "device": "/dev/sda3", "fstype": "swap"})
