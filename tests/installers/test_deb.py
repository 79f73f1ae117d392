"""The .deb on this very machine: dpkg -i, files, units, self-enrollment, dpkg -r / -P.

This touches the real /usr and /etc, so it is careful: it refuses to run when phiwatch is
already installed by dpkg, moves an existing /etc/phiwatch aside and puts it back, holds a
lock so two test sessions never install at once, and always purges what it installed.
"""

from __future__ import annotations

import fcntl
import json
import os
import re
import shutil
import stat
import subprocess
import tarfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from agent import __version__
from tests.installers.helpers import skip_if_not_implemented

pytestmark = [
    pytest.mark.slow,
    pytest.mark.timeout(1800),  # may be the first to build the binary
    pytest.mark.skipif(os.geteuid() != 0 or not shutil.which("dpkg"), reason="needs root and dpkg"),
]

ETC = Path("/etc/phiwatch")
MANAGED = ETC / "agent.toml"
USER_WANTS = Path("/etc/systemd/user/graphical-session.target.wants")
EXPECTED_FILES = {
    "/usr/bin/phiwatch",
    "/usr/lib/systemd/user/phiwatch.service",
    "/usr/lib/systemd/system/phiwatch-system.service",
    "/etc/xdg/autostart/phiwatch.desktop",
    "/usr/share/doc/phiwatch/agent.toml.example",
    "/usr/share/doc/phiwatch/deployment.md",
}
LOCK = Path("/tmp/phiwatch-installers-dpkg.lock")
# dpkg's words when apt or another dpkg holds its lock.
BUSY = re.compile(r"lock was locked by another process|unable to lock dpkg|dpkg frontend lock")


def dpkg(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    """dpkg, waiting for its lock if apt or dpkg is busy elsewhere (dpkg itself does not wait)."""
    for _ in range(300):
        result = subprocess.run(
            ["dpkg", *args], capture_output=True, text=True, env=env, timeout=600
        )
        if not BUSY.search(result.stderr):
            return result
        time.sleep(1)
    return result


def installed() -> bool:
    out = subprocess.run(
        ["dpkg-query", "-W", "-f=${Status}", "phiwatch"], capture_output=True, text=True
    )
    return out.returncode == 0 and "installed" in out.stdout and "not-installed" not in out.stdout


def snapshot(path: Path) -> set[str]:
    return {str(p) for p in path.rglob("*")} if path.exists() else set()


@pytest.fixture(scope="module")
def machine(tmp_path_factory) -> Iterator[Path]:
    """Exclusive use of dpkg for phiwatch; the machine's state is restored afterwards."""
    LOCK.touch()
    with LOCK.open() as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if installed():
            pytest.skip("phiwatch is already installed on this machine by dpkg: not touching it")
        backup = tmp_path_factory.mktemp("etc-backup") / "phiwatch"
        had_etc = ETC.exists()
        if had_etc:
            shutil.move(str(ETC), str(backup))
        before = snapshot(Path("/etc/systemd/user"))
        try:
            yield backup
        finally:
            if installed() or "phiwatch" in dpkg("-l", "phiwatch").stdout:
                env = {**os.environ, "PHIWATCH_UNINSTALL_APPROVED": "1"}
                dpkg("--purge", "phiwatch", env=env)
            shutil.rmtree(ETC, ignore_errors=True)
            if had_etc:
                shutil.move(str(backup), str(ETC))
            # Only what phiwatch left (another process may install things meanwhile).
            for extra in sorted(snapshot(Path("/etc/systemd/user")) - before, reverse=True):
                p = Path(extra)
                if p.is_symlink() and "phiwatch" in p.name:
                    p.unlink()
                elif p.is_dir() and not any(p.iterdir()):
                    p.rmdir()


def test_deb_metadata(packages):
    deb = packages["deb"]
    arch = subprocess.run(["dpkg", "--print-architecture"], capture_output=True, text=True)
    assert deb.name == f"phiwatch_{__version__}_{arch.stdout.strip()}.deb"
    fields = {
        f: subprocess.run(
            ["dpkg-deb", "-f", str(deb), f], capture_output=True, text=True
        ).stdout.strip()
        for f in ("Package", "Version", "Architecture", "Maintainer", "Depends", "Description")
    }
    assert fields["Package"] == "phiwatch" and fields["Version"] == __version__
    assert fields["Depends"].startswith("libc6 (>= ")
    assert all(fields.values()), fields
    listing = subprocess.run(["dpkg-deb", "-c", str(deb)], capture_output=True, text=True).stdout
    paths = {line.split()[-1].lstrip(".") for line in listing.splitlines()}
    assert EXPECTED_FILES <= paths
    owners = {line.split()[1] for line in listing.splitlines()}
    assert owners == {"root/root"}
    conffiles = subprocess.run(
        ["dpkg-deb", "-I", str(deb), "conffiles"], capture_output=True, text=True
    ).stdout.split()
    assert conffiles == ["/etc/xdg/autostart/phiwatch.desktop"]


def test_tarball_carries_the_same_tree(packages, tmp_path):
    with tarfile.open(packages["tarball"]) as tar:
        tar.extractall(tmp_path, filter="data")
    top = tmp_path / f"phiwatch-{__version__}"
    files = {"/" + str(p.relative_to(top)) for p in top.rglob("*") if p.is_file()}
    assert files == EXPECTED_FILES
    exe = top / "usr/bin/phiwatch"
    assert exe.stat().st_mode & stat.S_IXUSR
    out = subprocess.run([str(exe), "--version"], capture_output=True, text=True, timeout=120)
    assert out.stdout.strip() == f"phiwatch {__version__}"


def test_install_writes_managed_config_and_enables_the_user_unit(packages, machine, tmp_path):
    env = {
        **os.environ,
        "PHIWATCH_SERVER_URL": "https://phiwatch.test:8443",
        "PHIWATCH_ENROLLMENT_SECRET": 'not-a-real-secret "quoted" \\ back',
        "PHIWATCH_FINGERPRINT": "AB" * 32,
    }
    result = dpkg("-i", str(packages["deb"]), env=env)
    assert result.returncode == 0, result.stderr
    assert installed()
    assert "not-a-real-secret" not in result.stdout + result.stderr  # never echoed

    listed = set(dpkg("-L", "phiwatch").stdout.split())
    assert EXPECTED_FILES <= listed
    for f in EXPECTED_FILES:
        assert Path(f).is_file(), f
        assert Path(f).stat().st_uid == 0
    out = subprocess.run(["/usr/bin/phiwatch", "--version"], capture_output=True, text=True)
    assert out.stdout.strip() == f"phiwatch {__version__}"

    # The managed config from the PHIWATCH_* variables: valid TOML, the exact values back.
    import tomllib

    assert stat.S_IMODE(MANAGED.stat().st_mode) == 0o644
    conf = tomllib.loads(MANAGED.read_text())
    assert conf == {
        "server_url": "https://phiwatch.test:8443",
        "enrollment_secret": 'not-a-real-secret "quoted" \\ back',
        "fingerprint": "AB" * 32,
    }
    # Every user's systemd starts the agent with the desktop session.
    link = USER_WANTS / "phiwatch.service"
    assert link.is_symlink()
    assert os.readlink(link) == "/usr/lib/systemd/user/phiwatch.service"
    # The conffile is registered as one.
    status = dpkg("-s", "phiwatch").stdout
    assert "/etc/xdg/autostart/phiwatch.desktop" in status


def test_reinstall_is_an_upgrade_that_keeps_its_managed_config(packages, machine):
    """dpkg -i over itself runs the old prerm with "upgrade": no approval needed, and an
    existing /etc/phiwatch/agent.toml is IT's and stays as it is."""
    assert installed(), "runs after the install test"
    before = MANAGED.read_bytes()
    env = {k: v for k, v in os.environ.items() if k != "PHIWATCH_UNINSTALL_APPROVED"}
    env |= {"PHIWATCH_SERVER_URL": "https://other.test", "PHIWATCH_ENROLLMENT_SECRET": "other"}
    result = dpkg("-i", str(packages["deb"]), env=env)
    assert result.returncode == 0, result.stderr
    assert "PHIWATCH_* variables ignored" in result.stderr
    assert MANAGED.read_bytes() == before
    assert installed() and (USER_WANTS / "phiwatch.service").is_symlink()


@pytest.mark.skipif(not shutil.which("systemd-analyze"), reason="systemd-analyze not here")
def test_installed_units_verify(machine, tmp_path):
    assert installed(), "runs after the install test"
    runtime = tmp_path / "xdg-runtime"
    runtime.mkdir(mode=0o700)
    env = {**os.environ, "XDG_RUNTIME_DIR": str(runtime)}
    for args in (
        ["--user", "verify", "/usr/lib/systemd/user/phiwatch.service"],
        ["verify", "/usr/lib/systemd/system/phiwatch-system.service"],
    ):
        out = subprocess.run(
            ["systemd-analyze", "--man=no", *args],
            capture_output=True,
            text=True,
            env=env,
            timeout=120,
        )
        # verify warns (exit 0) about unknown keys: any message at all is a defect here.
        assert out.returncode == 0 and out.stderr.strip() == "", (args, out.stderr)


def test_installed_binary_enrolls_itself_from_the_managed_config(machine, server, tmp_path):
    assert installed(), "runs after the install test"
    skip_if_not_implemented("run")
    created = server.cli("secret", "create", "--uses", "1")
    assert created.returncode == 0, created.stderr
    secret = created.stdout.strip().splitlines()[-1]
    MANAGED.write_text(
        "# placed by the test, as IT's Ansible would\n"
        f'server_url = "{server.url}"\n'
        f'enrollment_secret = "{secret}"\n'
        f'fingerprint = "{server.fingerprint}"\n'
    )
    home, root = tmp_path / "agent-home", tmp_path / "nothing-to-scan"
    root.mkdir()
    env = {**os.environ, "PHIWATCH_HOME": str(home)}
    env.pop("PHIWATCH_MANAGED_CONFIG", None)  # the real /etc/phiwatch/agent.toml
    run = subprocess.run(
        ["/usr/bin/phiwatch", "run", "--once", "--root", str(root)],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )
    assert run.returncode == 0, run.stderr[-3000:]
    assert secret not in run.stdout + run.stderr

    devices = server.cli("devices", "--format", "json")
    assert devices.returncode == 0, devices.stderr
    listed = json.loads(devices.stdout)
    rows = listed if isinstance(listed, list) else listed.get("devices", [])
    assert len(rows) == 1
    assert rows[0].get("agent_version") in (None, __version__)

    status = subprocess.run(
        ["/usr/bin/phiwatch", "status", "--format", "json"],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert status.returncode == 0, status.stderr
    assert str(MANAGED) in status.stdout  # server_url's source is the managed file
    assert secret not in status.stdout


def test_remove_needs_approval_then_purge_leaves_nothing(machine):
    assert installed(), "runs after the install test"
    env = {k: v for k, v in os.environ.items() if k != "PHIWATCH_UNINSTALL_APPROVED"}
    refused = dpkg("-r", "phiwatch", env=env)
    assert refused.returncode != 0
    assert "needs their approval" in refused.stderr
    assert installed() and Path("/usr/bin/phiwatch").is_file()

    approved = {**env, "PHIWATCH_UNINSTALL_APPROVED": "1"}
    removed = dpkg("-r", "phiwatch", env=approved)
    assert removed.returncode == 0, removed.stderr
    assert not installed()
    # Removed: everything but the conffile and IT's managed config.
    left = {f for f in EXPECTED_FILES if Path(f).exists()}
    assert left == {"/etc/xdg/autostart/phiwatch.desktop"}
    assert MANAGED.exists()
    assert not (USER_WANTS / "phiwatch.service").exists()

    purged = dpkg("-P", "phiwatch", env=approved)
    assert purged.returncode == 0, purged.stderr
    assert not [f for f in EXPECTED_FILES if Path(f).exists()]
    assert not ETC.exists()
    assert "phiwatch" not in dpkg("-l").stdout.split()
    assert not Path("/usr/share/doc/phiwatch").exists()
