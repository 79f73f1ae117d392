"""Real-machine tests on Linux: change the machine, watch the verdict change.

They run the real commands (lsblk, gsettings, losetup, mount) and skip, with the reason,
where this machine cannot do what they need (no root, no loop devices, not Linux).
"""

from __future__ import annotations

import json
import os
import platform
import shutil
import subprocess
import sys
from pathlib import Path

import psutil
import pytest

from agent.inventory import collect
from agent.policy import load_policy
from agent.posture import CHECKS, run_check, run_checks
from agent.posture.disk_encryption import clear_cache, list_volumes, volume_for_path
from agent.posture.removable_media import list_removable
from agent.runner import LiveRunner

pytestmark = pytest.mark.skipif(sys.platform != "linux", reason="Linux live tests")
ROOT = Path(__file__).resolve().parents[2]


def _need(*tools: str) -> None:
    missing = [t for t in tools if not shutil.which(t)]
    if missing:
        pytest.skip(f"needs {', '.join(missing)} (scripts/setup installs them)")


def _need_root() -> None:
    if os.geteuid() != 0:
        pytest.skip("needs root to mount")


# ---------------------------------------------------------------- GNOME in a private bus


@pytest.fixture
def gnome_session(tmp_path, monkeypatch):
    """A private D-Bus session with a fresh dconf user database, as a GNOME session has."""
    _need("dbus-daemon", "gsettings")
    home = tmp_path / "home"
    home.mkdir()
    env = {**os.environ, "HOME": str(home), "XDG_CONFIG_HOME": str(home / ".config")}
    bus = subprocess.Popen(["dbus-daemon", "--session", "--nofork", "--print-address=1"],
                           stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=env, text=True)
    address = bus.stdout.readline().strip()
    if not address:
        bus.kill()
        pytest.skip("dbus-daemon could not start a session bus here")
    for key, value in {"HOME": env["HOME"], "XDG_CONFIG_HOME": env["XDG_CONFIG_HOME"],
                       "DBUS_SESSION_BUS_ADDRESS": address, "XDG_CURRENT_DESKTOP": "ubuntu:GNOME",
                       "XDG_SESSION_TYPE": "wayland", "GSETTINGS_BACKEND": "dconf"}.items():
        monkeypatch.setenv(key, value)
    check = subprocess.run(["gsettings", "get", "org.gnome.desktop.session", "idle-delay"],
                           capture_output=True, text=True)
    if check.returncode != 0:
        bus.terminate()
        bus.wait(10)
        pytest.skip("gsettings-desktop-schemas not installed")

    def gset(schema: str, key: str, value: str) -> None:
        subprocess.run(["gsettings", "set", schema, key, value], check=True, capture_output=True)

    yield gset, home
    bus.terminate()
    bus.wait(10)


def _screen_lock():
    return run_check(CHECKS["screen_lock"], load_policy(), LiveRunner())


def test_screen_lock_follows_gsettings_from_fail_to_pass(gnome_session):
    gset, home = gnome_session
    gset("org.gnome.desktop.session", "idle-delay", "0")
    r = _screen_lock()
    assert (r.status, r.observed) == ("fail", "screen never locks when idle")
    assert "gsettings set org.gnome.desktop.session idle-delay" in r.fix

    gset("org.gnome.desktop.session", "idle-delay", "300")
    gset("org.gnome.desktop.screensaver", "lock-enabled", "false")
    assert _screen_lock().observed == "screen lock off"

    gset("org.gnome.desktop.screensaver", "lock-enabled", "true")
    gset("org.gnome.desktop.session", "idle-delay", "1200")
    r = _screen_lock()
    assert (r.status, r.details["lock_after_seconds"]) == ("fail", 1200)

    gset("org.gnome.desktop.session", "idle-delay", "600")
    gset("org.gnome.desktop.screensaver", "lock-delay", "30")
    r = _screen_lock()
    assert (r.status, r.observed) == ("pass", "locks after 630 s idle")
    # the values really went to this session's dconf database, not somewhere else
    assert (home / ".config" / "dconf" / "user").is_file()


def test_dconf_write_is_seen_too(gnome_session):
    _need("dconf")
    subprocess.run(["dconf", "write", "/org/gnome/desktop/session/idle-delay", "uint32 120"],
                   check=True, capture_output=True)
    r = _screen_lock()
    assert (r.status, r.details["idle_seconds"]) == ("pass", 120)


def test_posture_cli_in_dbus_run_session(tmp_path):
    """The command a user runs, inside dbus-run-session, as the issue describes."""
    _need("dbus-run-session", "gsettings")
    env = {**os.environ, "HOME": str(tmp_path), "XDG_CONFIG_HOME": str(tmp_path / "cfg"),
           "XDG_CURRENT_DESKTOP": "GNOME", "PYTHONPATH": str(ROOT)}
    env.pop("DBUS_SESSION_BUS_ADDRESS", None)

    def posture(idle: str) -> dict:
        script = (f"gsettings set org.gnome.desktop.session idle-delay {idle} && "
                  f"exec {sys.executable} -m agent posture --format json")
        out = subprocess.run(["dbus-run-session", "--", "sh", "-c", script], capture_output=True,
                             text=True, env=env, timeout=60)
        doc = json.loads(out.stdout)
        assert out.returncode == doc["exit_code"]
        return {c["id"]: c for c in doc["checks"]}

    assert posture("0")["screen_lock"]["status"] == "fail"
    checks = posture("240")
    assert checks["screen_lock"]["status"] == "pass"
    assert checks["screen_lock"]["observed"] == "locks after 240 s idle"


def test_without_a_desktop_session_screen_lock_is_unknown(monkeypatch):
    for name in ("XDG_CURRENT_DESKTOP", "DESKTOP_SESSION"):
        monkeypatch.delenv(name, raising=False)
    r = _screen_lock()
    assert (r.status, r.reason) == ("unknown", "no desktop session")


# ---------------------------------------------------------------- disks


def _sysfs_encrypted(dev: str) -> bool:
    """Independent answer from sysfs: is a dm-crypt mapping below this block device?

    dm devices name their target in dm/uuid ("CRYPT-LUKS2-..."); slaves/ lead down.
    """
    base = Path("/sys/class/block") / dev
    uuid = base / "dm" / "uuid"
    if uuid.exists() and uuid.read_text().startswith("CRYPT-"):
        return True
    return any(_sysfs_encrypted(s.name) for s in (base / "slaves").iterdir()) \
        if (base / "slaves").is_dir() else False


def test_system_volume_agrees_with_findmnt_and_sysfs():
    _need("lsblk", "findmnt")
    source = subprocess.run(["findmnt", "-no", "SOURCE", "/"], capture_output=True, text=True,
                            check=True).stdout.strip().split("[")[0]
    if not source.startswith("/dev/"):
        pytest.skip(f"root filesystem is not a block device here ({source})")
    volumes = list_volumes(LiveRunner())
    system = next(v for v in volumes if v["system"])
    assert os.path.realpath(system["device"]) == os.path.realpath(source)
    dev = Path(os.path.realpath(source)).name
    assert system["encrypted"] == _sysfs_encrypted(dev)
    # the size lsblk gives is the size sysfs gives (512-byte sectors)
    sectors = int((Path("/sys/class/block") / dev / "size").read_text())
    assert system["size"] == sectors * 512
    assert system["fstype"] == next(p.fstype for p in psutil.disk_partitions(all=True)
                                    if p.mountpoint == "/")
    r = run_check(CHECKS["disk_encryption"], load_policy(), LiveRunner())
    assert r.status == ("pass" if system["encrypted"] else "fail")


@pytest.fixture
def loop_mount(tmp_path):
    """A real ext4 filesystem on a loop device, mounted under tmp_path."""
    _need_root()
    _need("losetup", "mkfs.ext4", "mount", "umount")
    image, mnt = tmp_path / "disk.img", tmp_path / "mnt"
    mnt.mkdir()
    with open(image, "wb") as f:
        f.truncate(16 * 1024 * 1024)
    made = subprocess.run(["losetup", "-f", "--show", str(image)], capture_output=True, text=True)
    if made.returncode != 0:
        pytest.skip(f"no loop devices here: {made.stderr.strip()}")
    dev = made.stdout.strip()
    try:
        subprocess.run(["mkfs.ext4", "-q", dev], check=True, capture_output=True)
        subprocess.run(["mount", dev, str(mnt)], check=True, capture_output=True)
        clear_cache()
        yield dev, mnt
    finally:
        subprocess.run(["umount", str(mnt)], capture_output=True)
        subprocess.run(["losetup", "-d", dev], capture_output=True)
        clear_cache()


def test_loop_mount_appears_as_an_unencrypted_fixed_volume(loop_mount):
    dev, mnt = loop_mount
    r = run_check(CHECKS["disk_encryption"], load_policy(), LiveRunner())
    vol = next(v for v in r.details["volumes"] if v["mount"] == str(mnt))
    assert vol == {"mount": str(mnt), "device": dev, "fstype": "ext4", "size": 16 * 1024 * 1024,
                   "encrypted": False, "status": "fail", "removable": False, "system": False,
                   "layout": "plain"}
    assert str(mnt) in r.details["failing_volumes"]
    assert volume_for_path(str(mnt / "export.csv")) == {
        "mount": str(mnt), "device": dev, "encrypted": False, "removable": False}
    assert all(m["mount"] != str(mnt) for m in list_removable())


def test_volume_disappears_after_unmount(loop_mount):
    dev, mnt = loop_mount
    assert volume_for_path(str(mnt / "a"))["device"] == dev
    subprocess.run(["umount", str(mnt)], check=True)
    clear_cache()
    assert volume_for_path(str(mnt / "a"))["mount"] != str(mnt)


def test_tmpfs_mount_is_found_for_a_path_with_encryption_unknown(tmp_path):
    _need_root()
    mnt = tmp_path / "ram"
    mnt.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "phiwatch-test", str(mnt)],
                          capture_output=True, text=True)
    if done.returncode != 0:
        pytest.skip(f"cannot mount tmpfs here: {done.stderr.strip()}")
    try:
        clear_cache()
        assert volume_for_path(str(mnt / "notes.txt")) == {
            "mount": str(mnt), "device": "phiwatch-test", "encrypted": None, "removable": False}
    finally:
        subprocess.run(["umount", str(mnt)], capture_output=True)
        clear_cache()


# ---------------------------------------------------------------- the rest of the machine


def test_os_supported_reads_os_release():
    r = run_check(CHECKS["os_supported"], load_policy(), LiveRunner())
    release = platform.freedesktop_os_release()
    assert r.details["key"] == release["ID"]
    assert r.details["version"] == release.get("VERSION_ID")


def test_full_run_answers_every_check():
    results = run_checks()
    assert [r.id for r in results] == list(CHECKS)
    assert all(r.status != "unknown" or r.reason for r in results)


def test_inventory_matches_the_machine():
    inv = collect()
    assert inv["hostname"] == platform.node()
    machine_id = Path("/etc/machine-id")
    if machine_id.exists():
        assert inv["machine_id"] == machine_id.read_text().strip()
    assert inv["os"]["name"] == "linux"
    assert inv["os"]["kernel"] == platform.release()
    assert inv["os"]["distro"] == platform.freedesktop_os_release()["ID"]
    assert any(d["mount"] == "/" for d in inv["disks"])
    macs = {a.address for addrs in psutil.net_if_addrs().values() for a in addrs
            if a.family == psutil.AF_LINK}
    assert {i["mac"] for i in inv["interfaces"]} <= macs
    assert inv["boot_time"].endswith("Z")
    assert set(inv) == {"hostname", "machine_id", "hardware_serial", "hardware_model",
                        "manufacturer", "os", "users", "disks", "interfaces", "boot_time",
                        "agent_version"}
    serial = Path("/sys/class/dmi/id/product_serial")
    if not os.access(serial, os.R_OK):
        assert inv["hardware_serial"] is None  # root-only file: None, never a guess


def test_an_ordinary_user_gets_the_same_verdicts_without_errors():
    """Nothing on Linux needs root: a real unprivileged process reads the same machine."""
    _need_root()
    import agent.policy  # noqa: F401  (imported before fork: the child cannot read /root)

    policy = load_policy()
    as_root = [r.to_json() for r in run_checks(policy, LiveRunner())]
    read_fd, write_fd = os.pipe()
    pid = os.fork()
    if pid == 0:  # child: drop to nobody, run the checks, send the verdicts back
        try:
            os.close(read_fd)
            os.setgroups([])
            os.setgid(65534)
            os.setuid(65534)
            assert os.geteuid() != 0
            data = json.dumps([r.to_json() for r in run_checks(policy, LiveRunner())])
            with os.fdopen(write_fd, "w") as f:
                f.write(data)
        finally:
            os._exit(0)
    os.close(write_fd)
    with os.fdopen(read_fd) as f:
        text = f.read()
    os.waitpid(pid, 0)
    as_user = json.loads(text)
    assert [(c["id"], c["status"], c["observed"]) for c in as_user] == \
        [(c["id"], c["status"], c["observed"]) for c in as_root]
    assert not any("permission" in (c["reason"] or "") for c in as_user)


@pytest.mark.parametrize("script", ["exec sleep 600", "sleep 600; echo late"])
def test_a_hanging_tool_is_killed_and_the_check_says_so(tmp_path, monkeypatch, script):
    """A real lsblk stand-in that never answers: the check is unknown, the run goes on.

    The second form keeps a grandchild (sleep) holding the output pipe after the shell
    is killed; the whole process group must go.
    """
    bindir = tmp_path / "bin"
    bindir.mkdir()
    fake = bindir / "lsblk"
    fake.write_text(f"#!/bin/sh\n{script}\n")
    fake.chmod(0o755)
    monkeypatch.setenv("PATH", f"{bindir}:{os.environ['PATH']}")
    results = {r.id: r for r in run_checks(load_policy(), LiveRunner(max_timeout=0.5))}
    assert (results["disk_encryption"].status, results["disk_encryption"].reason) == (
        "unknown", "lsblk timed out")
    assert results["removable_media"].reason == "lsblk timed out"
    assert results["os_supported"].status in ("pass", "fail")  # the other checks still ran
    leftover = [p for p in psutil.process_iter(["cmdline"]) if p.info["cmdline"] == ["sleep", "600"]
                and p.ppid() in (1, os.getpid())]
    assert leftover == []
