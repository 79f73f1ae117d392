"""A volume mounted while the agent runs is watched and crawled at once, and its
findings are worded as removable media. The mount is a real tmpfs (root can mount one
here); only the "is it removable" predicate is ours, since a tmpfs is not a USB disk.
Where mounting is not allowed, the same code path runs on a simulated mount table."""

from __future__ import annotations

import shutil
import subprocess

import psutil
import pytest

from agent.watch.mounts import MountMonitor, Volume, mount_table
from tests.run.conftest import sample, wait_for

pytestmark = pytest.mark.usefixtures("no_leaked_threads")


def _try_mount(target) -> bool:
    r = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=16m", "phiwatch-test", str(target)],
        capture_output=True,
    )
    return r.returncode == 0


@pytest.fixture
def usb(tmp_path):
    """A mount point under tmp_path; yields (path, mount(), unmount(), table) where table is
    the mount table the daemon polls: the real one (psutil over /proc/self/mounts) when
    this machine lets us mount a tmpfs, else a simulated one."""
    point = tmp_path / "usb"
    point.mkdir()
    state = {"mounted": False, "real": None}

    def mount():
        state["real"] = _try_mount(point)
        state["mounted"] = True

    def unmount():
        if state["real"]:
            subprocess.run(["umount", str(point)], check=True)
        state["mounted"] = False

    def table() -> dict[str, Volume]:
        if state["real"] is not False:
            # all=True: psutil drops pseudo filesystems such as tmpfs by default.
            return {
                p.mountpoint: Volume(p.mountpoint, p.device, p.fstype)
                for p in psutil.disk_partitions(all=True)
                if p.mountpoint.startswith(str(tmp_path))
            }
        return {str(point): Volume(str(point), "simulated", "tmpfs")} if state["mounted"] else {}

    yield point, mount, unmount, table
    if state["mounted"] and state["real"]:
        subprocess.run(["umount", "-l", str(point)])


def test_new_mount_is_watched_and_warned_as_removable(
    make_daemon, notifications, usb, corpus, tmp_path
):
    point, mount, unmount, table = usb
    home = tmp_path / "home"
    home.mkdir()
    d = make_daemon([home], mount_table=table, is_removable=lambda v: True)
    mount()
    # A file already on the stick when it is plugged in is found by the crawl...
    d.mounts.poll()
    assert wait_for(lambda: str(point) in [r.key for r in d.roots])
    shutil.copyfile(sample(corpus, "phi", "csv")[0], point / "on_stick.csv")
    # ...and one written to it afterwards by the watch.
    assert wait_for(
        lambda: str(point / "on_stick.csv") in {f["path"] for f in d.store.open_findings()}
    )
    f = next(f for f in d.store.open_findings() if f["path"] == str(point / "on_stick.csv"))
    assert f["volume"]["removable"] is True
    shown = wait_for(notifications.received)
    assert "removable media" in shown[-1]["summary"]
    assert "Removable media leaves the building" in shown[-1]["body"]
    assert shown[-1]["urgency"] == 2
    mounted = [e for e in d.store.pending_events() if e["type"] == "media_mounted"]
    assert [e["data"]["mount"] for e in mounted] == [str(point)]

    unmount()  # ejected while watched: inotify does not hold the volume busy
    d.mounts.poll()
    removed = [e for e in d.store.pending_events() if e["type"] == "media_removed"]
    assert [e["data"]["mount"] for e in removed] == [str(point)]
    assert str(point) not in [r.key for r in d.roots]


def test_monitor_reports_mounts_present_at_start_and_ignores_fixed_disks():
    seen: list[str] = []
    table = {
        "/": Volume("/", "/dev/sda1", "ext4"),
        "/media/u/STICK": Volume("/media/u/STICK", "/dev/sdb1", "vfat"),
    }
    m = MountMonitor(
        lambda v: seen.append(v.mount),
        lambda v: seen.append("-" + v.mount),
        table=lambda: table,
        is_removable=lambda v: v.device == "/dev/sdb1",
    )
    m.poll()
    m.poll()  # unchanged table: nothing new
    assert seen == ["/media/u/STICK"]
    del table["/media/u/STICK"]
    m.poll()
    assert seen == ["/media/u/STICK", "-/media/u/STICK"]


def test_real_mount_table_lists_the_root_filesystem():
    assert "/" in mount_table()
