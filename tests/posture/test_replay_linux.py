"""Linux verdicts replayed from real outputs (tests/fixtures/posture/linux-*.json)."""

from __future__ import annotations

from agent.posture import removable_media
from agent.posture.disk_encryption import volume_for_path

from .conftest import replay, verdicts


def test_gnome_wayland_lvm_on_luks_passes_everything():
    v = verdicts("linux-gnome-wayland-lvm-on-luks")
    assert {k: r.status for k, r in v.items()} == dict.fromkeys(v, "pass")
    disk = v["disk_encryption"]
    assert disk.observed == "/ (/dev/mapper/manjaro--vg0-manjaro--root): encrypted, LVM on LUKS"
    by_mount = {x["mount"]: x for x in disk.details["volumes"]}
    assert by_mount["/"]["layout"] == "LVM on LUKS" and by_mount["/"]["system"] is True
    assert by_mount["[SWAP]"]["encrypted"] is True  # swap sits in the same LUKS container
    assert by_mount["/boot"]["status"] == "not_applicable"  # /boot is exempt, not a failure
    assert disk.details["failing_volumes"] == []
    lock = v["screen_lock"]
    assert lock.observed == "locks after 300 s idle"
    assert lock.details["idle_seconds"] == 300 and lock.details["grace_seconds"] == 0
    assert lock.details["managed"] is False
    assert v["auto_logoff"].observed.startswith("no automatic logoff; password screen lock accepted")
    assert v["firewall"].details["active"] == ["ufw"]
    assert v["os_updates"].observed == "unattended-upgrades on"
    assert v["os_supported"].policy == "ubuntu >= 22.04"


def test_luks_on_lvm_system_passes_but_plain_home_is_listed_as_failing():
    v = verdicts("linux-luks-on-lvm-home-plain")
    disk = v["disk_encryption"]
    assert disk.status == "pass"
    assert disk.observed == "/ (/dev/mapper/luks-root): encrypted, LUKS on LVM"
    assert disk.details["failing_volumes"] == ["/home"]
    home = next(x for x in disk.details["volumes"] if x["mount"] == "/home")
    assert home["encrypted"] is False and home["layout"] == "plain" and home["system"] is False
    # no XDG_CURRENT_DESKTOP: a console/SSH machine, not a guess
    assert v["screen_lock"].status == "unknown"
    assert v["screen_lock"].reason == "no desktop session"
    # a logind drop-in sets 15min: real automatic logoff, no screen lock needed
    assert v["auto_logoff"].status == "pass"
    assert v["auto_logoff"].details["logoff_seconds"] == 900
    assert v["firewall"].details["active"] == ["firewalld"]
    assert v["os_updates"].status == "fail"
    assert v["os_updates"].observed == "dnf-automatic only downloads (apply_updates = no)"


def test_kde_plain_root_and_usb_stick_fail_with_a_fix_each():
    v = verdicts("linux-kde-plain-usb")
    assert {k: r.status for k, r in v.items()} == dict.fromkeys(v, "fail")
    assert v["disk_encryption"].observed == "/ (/dev/mmcblk0p2): not encrypted"
    # KDE Timeout is in minutes: 30 min + 5 s grace
    assert v["screen_lock"].details["lock_after_seconds"] == 30 * 60 + 5
    assert "kscreenlockerrc" in v["screen_lock"].fix
    # TMOUT only ends text shells: listed, not a pass
    assert v["auto_logoff"].details["shell_tmout_seconds"] == 600
    media = v["removable_media"]
    assert media.observed == "1 removable volume mounted: /media/pi/USBSTICK"
    assert media.details["volumes"] == [{
        "mount": "/media/pi/USBSTICK", "device": "/dev/sda1", "vendor": "General",
        "model": "USB Flash Disk", "serial": "4C530001230512108242", "size": 8003256320,
        "fstype": "vfat", "encrypted": False}]
    assert v["firewall"].observed == "no firewall active (ufw, firewalld, nftables)"
    assert v["os_supported"].observed == "Debian GNU/Linux 11 (bullseye)"


def test_missing_commands_are_unknown_with_the_command_named():
    v = verdicts("linux-missing-commands")
    assert v["disk_encryption"].reason == "command not found: lsblk"
    assert v["removable_media"].reason == "command not found: lsblk"
    assert v["screen_lock"].reason == "command not found: gsettings"
    assert v["auto_logoff"].status == "unknown"
    assert v["auto_logoff"].reason == "screen lock unknown: command not found: gsettings"
    assert v["firewall"].reason == "systemd not running: firewall service state not readable"
    assert v["os_updates"].reason == "command not found: apt-config"
    assert v["os_supported"].status == "pass"


def test_gnome_settings_locked_by_an_administrator_are_reported_managed():
    runner = replay("linux-gnome-wayland-lvm-on-luks")
    runner.data["commands"]["gsettings writable org.gnome.desktop.session idle-delay"]["stdout"] = "false\n"
    from agent.posture import screen_lock

    facts = screen_lock.probe_linux(runner)
    assert facts["managed"] is True
    result = screen_lock.evaluate(facts, {"screen_lock_max_seconds": 900}, "linux", {})
    assert result.observed == "locks after 300 s idle (managed)"


def test_old_lsblk_without_mountpoints_column_is_retried():
    runner = replay("linux-kde-plain-usb")
    cmds = runner.data["commands"]
    new = "lsblk -J -b -o NAME,PATH,TYPE,FSTYPE,MOUNTPOINTS,TRAN,RM,HOTPLUG,SIZE,MODEL,SERIAL,VENDOR"
    cmds[new] = {"rc": 1, "stdout": "", "stderr": "lsblk: unknown column: MOUNTPOINTS\n"}
    # util-linux < 2.33 prints "1"/"0" strings and a single mountpoint
    cmds["lsblk -J -b -o NAME,TYPE,FSTYPE,MOUNTPOINT,RM,SIZE,MODEL"] = {"rc": 0, "stderr": "", "stdout": (
        '{"blockdevices": [{"name": "sda", "type": "disk", "fstype": null, "mountpoint": null, '
        '"rm": "1", "size": "8004304896", "model": "USB Flash Disk", "children": [{"name": "sda1", '
        '"type": "part", "fstype": "vfat", "mountpoint": "/media/pi/USBSTICK", "rm": "1", '
        '"size": "8003256320", "model": null}]}, {"name": "mmcblk0", "type": "disk", "fstype": null, '
        '"mountpoint": null, "rm": "0", "size": "31914983424", "model": null, "children": [{"name": '
        '"mmcblk0p2", "type": "part", "fstype": "ext4", "mountpoint": "/", "rm": "0", '
        '"size": "31641239552", "model": null}]}]}')}
    media = removable_media.list_removable(runner)
    assert [(m["mount"], m["device"], m["model"]) for m in media] == [
        ("/media/pi/USBSTICK", "/dev/sda1", "USB Flash Disk")]


def test_volume_for_path_on_replayed_linux_layouts():
    runner = replay("linux-luks-on-lvm-home-plain")
    assert volume_for_path("/home/ana/data/x.csv", runner) == {
        "mount": "/home", "device": "/dev/mapper/LvmEncrypt-lvmcrypthome", "encrypted": False,
        "removable": False}
    assert volume_for_path("/var/tmp/x.csv", runner)["encrypted"] is True
    # /homework is on /, not on /home
    assert volume_for_path("/homework/x", runner)["mount"] == "/"
    usb = replay("linux-kde-plain-usb")
    assert volume_for_path("/media/pi/USBSTICK/export.csv", usb) == {
        "mount": "/media/pi/USBSTICK", "device": "/dev/sda1", "encrypted": False, "removable": True}


def test_root_service_reads_the_active_desktop_users_settings():
    """No session environment: logind names the active local session, runuser reads it."""
    v = verdicts("linux-root-service-gnome-session")
    lock = v["screen_lock"]
    assert lock.status == "fail"
    assert lock.observed == "screen lock off"
    assert lock.details["session_user"] == "alice"  # not the inactive gdm greeter
    assert lock.details["desktop"] == "gnome"  # Desktop=ubuntu is GNOME's keys


def test_another_users_session_without_admin_is_unknown():
    v = verdicts("linux-root-service-gnome-session", admin=False, env={"USER": "bob"})
    assert v["screen_lock"].status == "unknown"
    assert v["screen_lock"].reason == "desktop session of another user (needs administrator)"


def test_recorded_ci_vm_replays_to_its_verdicts():
    """A real recording (--record on the CI VM): plain root disk, no systemd, no desktop."""
    v = verdicts("linux-debian12-vm-recorded")
    assert v["disk_encryption"].status == "fail"
    assert v["disk_encryption"].observed == "/ (/dev/vda): not encrypted"
    # no udev database: lsblk has no FSTYPE, the kernel mount table supplies it
    assert v["disk_encryption"].details["volumes"][0]["fstype"] == "ext4"
    assert v["screen_lock"].reason == "no desktop session"
    assert v["firewall"].reason == "systemd not running: firewall service state not readable"
    assert v["os_updates"].observed == "unattended-upgrades not installed"
    assert v["os_supported"].observed == "Debian GNU/Linux 12 (bookworm)"
    assert v["removable_media"].status == "pass"


def test_masked_apt_daily_upgrade_timer_means_no_automatic_updates():
    runner = replay("linux-gnome-wayland-lvm-on-luks")
    runner.data["commands"]["systemctl is-enabled apt-daily-upgrade.timer"] = {
        "rc": 1, "stdout": "masked\n", "stderr": ""}
    from agent.policy import load_policy
    from agent.posture import CHECKS, run_check

    r = run_check(CHECKS["os_updates"], load_policy(), runner)
    assert (r.status, r.observed) == ("fail", "apt-daily-upgrade.timer masked")
    assert r.details["timer_enabled"] is False


def test_ecryptfs_home_counts_as_encrypted_for_a_finding_but_not_for_the_disk():
    runner = replay("linux-kde-plain-usb")
    runner.data["files"]["/proc/self/mountinfo"] = {"text": (
        "27 1 179:2 / / rw,relatime - ext4 /dev/mmcblk0p2 rw\n"
        "90 27 0:50 / /home/pi rw,nosuid,nodev,relatime - ecryptfs /home/.ecryptfs/pi/.Private "
        "rw,ecryptfs_sig=0123456789abcdef,ecryptfs_cipher=aes,ecryptfs_key_bytes=16\n")}
    assert volume_for_path("/home/pi/export.csv", runner) == {
        "mount": "/home/pi", "device": "/home/.ecryptfs/pi/.Private", "encrypted": True,
        "removable": False}
    assert volume_for_path("/srv/export.csv", runner)["encrypted"] is False


def test_gnome_power_logout_is_an_automatic_logoff():
    runner = replay("linux-gnome-wayland-lvm-on-luks")
    runner.data["commands"]["gsettings list-recursively org.gnome.settings-daemon.plugins.power"] = {
        "rc": 0, "stderr": "", "stdout":
        "org.gnome.settings-daemon.plugins.power sleep-inactive-ac-type 'logout'\n"
        "org.gnome.settings-daemon.plugins.power sleep-inactive-ac-timeout 600\n"
        "org.gnome.settings-daemon.plugins.power sleep-inactive-battery-type 'logout'\n"
        "org.gnome.settings-daemon.plugins.power sleep-inactive-battery-timeout 600\n"}
    from agent.policy import load_policy
    from agent.posture import run_checks

    v = {r.id: r for r in run_checks(load_policy(), runner)}
    assert v["auto_logoff"].status == "pass"
    assert v["auto_logoff"].observed == "idle sessions end after 600 s (GNOME power: log out when inactive)"


def test_kolide_lsblk_closed_luks_containers_do_not_make_a_plain_root_pass():
    """Kolide's real lsblk: LUKS partitions and a LUKS LV exist but none is opened; / is xfs."""
    v = verdicts("linux-kolide-lsblk-closed-luks")
    disk = v["disk_encryption"]
    assert (disk.status, disk.observed) == ("fail", "/ (/dev/sda3): not encrypted")
    assert [(x["mount"], x["status"]) for x in disk.details["volumes"]] == [
        ("/boot/efi", "not_applicable"), ("/", "fail")]


def test_stop_idle_session_on_old_systemd_is_not_a_logoff():
    runner = replay("linux-luks-on-lvm-home-plain")
    runner.data["commands"]["systemctl --version"]["stdout"] = "systemd 249 (249.11-0ubuntu3)\n"
    from agent.policy import load_policy
    from agent.posture import CHECKS, run_check

    r = run_check(CHECKS["auto_logoff"], load_policy(), runner, {})
    assert r.status == "fail"
    assert r.details["note"] == "StopIdleSessionSec set but needs systemd >= 252"
