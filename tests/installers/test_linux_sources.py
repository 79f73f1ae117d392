"""Linux package sources, fast (no build): units, autostart entry, maintainer scripts, example."""

from __future__ import annotations

import configparser
import os
import shutil
import subprocess
import sys
import tomllib

import pytest

from agent.config import SETTINGS
from tests.installers.helpers import ROOT

LINUX = ROOT / "installers" / "linux"


def unit(name: str) -> configparser.ConfigParser:
    parser = configparser.ConfigParser(interpolation=None, strict=False)
    parser.optionxform = str  # systemd keys are case-sensitive
    parser.read(LINUX / name)
    return parser


def test_user_unit_runs_the_agent_with_the_desktop_session():
    u = unit("phiwatch.service")
    assert u["Service"]["ExecStart"] == "/usr/bin/phiwatch run"
    assert u["Service"]["Restart"] == "always"
    assert u["Install"]["WantedBy"] == "graphical-session.target"
    assert u["Unit"]["PartOf"] == "graphical-session.target"
    assert "PHIWATCH_HOME" not in (LINUX / "phiwatch.service").read_text()  # per-user folders


def test_system_unit_keeps_its_state_in_var_lib():
    u = unit("phiwatch-system.service")
    assert u["Service"]["ExecStart"] == "/usr/bin/phiwatch run"
    assert u["Service"]["Environment"] == "PHIWATCH_HOME=/var/lib/phiwatch"
    assert u["Service"]["StateDirectory"] == "phiwatch"
    assert u["Install"]["WantedBy"] == "multi-user.target"


def test_autostart_entry_starts_the_same_unit():
    entry = unit("phiwatch.desktop")["Desktop Entry"]
    assert entry["Type"] == "Application"
    assert entry["Exec"] == "systemctl --user start phiwatch.service"


@pytest.mark.skipif(not shutil.which("desktop-file-validate"), reason="desktop-file-utils absent")
def test_autostart_entry_is_a_valid_desktop_file():
    out = subprocess.run(
        ["desktop-file-validate", str(LINUX / "phiwatch.desktop")],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert out.returncode == 0 and out.stdout.strip() == "", out.stdout


@pytest.mark.skipif(not shutil.which("systemd-analyze"), reason="systemd-analyze not here")
@pytest.mark.parametrize(
    "name,mode", [("phiwatch.service", "--user"), ("phiwatch-system.service", "--system")]
)
def test_units_verify_before_install(name, mode, tmp_path):
    # verify also checks that ExecStart exists: point it at a binary that does, here.
    copy = tmp_path / name
    copy.write_text((LINUX / name).read_text().replace("/usr/bin/phiwatch", shutil.which("true")))
    runtime = tmp_path / "run"
    runtime.mkdir(mode=0o700)
    out = subprocess.run(
        ["systemd-analyze", mode, "verify", "--man=no", str(copy)],
        capture_output=True,
        text=True,
        env={**os.environ, "XDG_RUNTIME_DIR": str(runtime)},
        timeout=120,
    )
    assert out.returncode == 0 and out.stderr.strip() == "", out.stderr


@pytest.mark.parametrize("script", ["postinst", "prerm", "postrm"])
def test_maintainer_scripts(script):
    path = LINUX / script
    assert os.access(path, os.X_OK)
    assert path.read_text().startswith("#!/bin/sh\n")
    assert subprocess.run(["sh", "-n", str(path)]).returncode == 0
    if shutil.which("checkbashisms"):
        assert subprocess.run(["checkbashisms", str(path)]).returncode == 0


def test_managed_config_example_uses_only_agent_settings():
    example = tomllib.loads((LINUX / "agent.toml").read_text())
    assert set(example) <= set(SETTINGS)
    assert {"server_url", "enrollment_secret", "fingerprint"} <= set(example)


def test_build_deb_refuses_a_binary_of_another_version(tmp_path):
    fake = tmp_path / "phiwatch"
    fake.write_text("#!/bin/sh\necho phiwatch 0.0.0-old\n")
    fake.chmod(0o755)
    out = subprocess.run(
        [
            sys.executable,
            str(LINUX / "build_deb.py"),
            "--binary",
            str(fake),
            "--out",
            str(tmp_path / "out"),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert out.returncode == 1
    assert "0.0.0-old" in out.stderr and "rebuild it" in out.stderr
    assert not list((tmp_path / "out").glob("*.deb")) if (tmp_path / "out").exists() else True


def test_build_deb_needs_an_executable(tmp_path):
    out = subprocess.run(
        [sys.executable, str(LINUX / "build_deb.py"), "--binary", str(tmp_path / "missing")],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert out.returncode == 1 and "scripts/build-binary" in out.stderr
