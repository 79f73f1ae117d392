"""macOS installer sources, checked by parsing (macOS is not here): LaunchAgent, profiles,
Distribution file, package scripts, and the layout build_pkg.sh stages."""

from __future__ import annotations

import plistlib
import subprocess
import sys
import uuid
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from agent import __version__
from agent.config import SETTINGS, load_config
from tests.installers.helpers import ROOT

MACOS = ROOT / "installers" / "macos"
LABEL = "com.phiwatch.agent"
BINARY = "/opt/phiwatch/bin/phiwatch"


def load(name: str) -> dict:
    with (MACOS / name).open("rb") as fh:
        return plistlib.load(fh)


def test_launch_agent_starts_the_agent_in_every_gui_session():
    agent = load("com.phiwatch.agent.plist")
    assert agent["Label"] == LABEL
    assert agent["ProgramArguments"] == [BINARY, "run"]
    # Root-owned location only: /usr/local and home folders are user-writable (deployment.md 2.2).
    assert not BINARY.startswith(("/usr/local", "/Users", "/tmp"))
    assert agent["RunAtLoad"] is True and agent["KeepAlive"] is True
    assert agent["LimitLoadToSessionType"] == "Aqua"
    assert agent["ProcessType"] == "Background"
    assert agent["ThrottleInterval"] >= 10
    known = {
        "Label",
        "ProgramArguments",
        "RunAtLoad",
        "KeepAlive",
        "ThrottleInterval",
        "LimitLoadToSessionType",
        "ProcessType",
        "LowPriorityIO",
        "Nice",
        "StandardOutPath",
        "StandardErrorPath",
    }  # launchd.plist(5) keys
    assert set(agent) <= known


def check_profile(profile: dict) -> list[dict]:
    assert profile["PayloadType"] == "Configuration"
    assert profile["PayloadVersion"] == 1
    assert profile["PayloadScope"] == "System"
    assert profile["PayloadRemovalDisallowed"] is True
    ids = [profile["PayloadIdentifier"]] + [
        p["PayloadIdentifier"] for p in profile["PayloadContent"]
    ]
    uuids = [profile["PayloadUUID"]] + [p["PayloadUUID"] for p in profile["PayloadContent"]]
    assert len(set(ids)) == len(ids) and len(set(uuids)) == len(uuids)
    for u in uuids:
        uuid.UUID(u)
    for p in profile["PayloadContent"]:
        assert p["PayloadVersion"] == 1 and p["PayloadType"] and p["PayloadDisplayName"]
    return profile["PayloadContent"]


def test_settings_profile_carries_only_agent_settings():
    (payload,) = check_profile(load("phiwatch.mobileconfig"))
    assert payload["PayloadType"] == LABEL  # the preference domain the agent reads
    settings = {k: v for k, v in payload.items() if not k.startswith("Payload")}
    assert set(settings) <= set(SETTINGS)
    assert {"server_url", "enrollment_secret", "fingerprint"} <= set(settings)
    assert settings["server_url"].startswith("https://")


def test_agent_reads_what_the_profile_puts_in_managed_preferences(tmp_path, monkeypatch):
    """macOS writes the payload's keys to /Library/Managed Preferences/com.phiwatch.agent.plist;
    feed that file to the agent's own config reader."""
    out = tmp_path / "p.mobileconfig"
    result = subprocess.run(
        [
            sys.executable,
            str(MACOS / "make_profile.py"),
            "--server-url",
            "https://pw.test:8443",
            "--secret",
            "s3cret-value",
            "--fingerprint",
            "AA" * 32,
            "--root",
            "/Users/Shared/data",
            "-o",
            str(out),
        ],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr
    assert "s3cret-value" not in result.stdout + result.stderr
    profile = plistlib.loads(out.read_bytes())
    (payload,) = check_profile(profile)
    assert payload["PayloadType"] == LABEL
    managed = tmp_path / f"{LABEL}.plist"
    managed.write_bytes(plistlib.dumps(payload))
    monkeypatch.setenv("PHIWATCH_MANAGED_CONFIG", str(managed))
    monkeypatch.setenv("PHIWATCH_HOME", str(tmp_path / "home"))
    cfg = load_config()
    assert cfg.server_url == "https://pw.test:8443"
    assert cfg.enrollment_secret == "s3cret-value"
    assert cfg.fingerprint == "AA" * 32
    assert cfg.roots == ["/Users/Shared/data"]
    assert cfg.source("server_url") == f"managed {managed}"
    # Fresh UUIDs every time: two profiles never collide in the MDM.
    again = tmp_path / "q.mobileconfig"
    subprocess.run(
        [
            sys.executable,
            str(MACOS / "make_profile.py"),
            "--server-url",
            "https://pw.test",
            "--secret",
            "x",
            "-o",
            str(again),
        ],
        check=True,
        capture_output=True,
    )
    assert plistlib.loads(again.read_bytes())["PayloadUUID"] != profile["PayloadUUID"]


def test_make_profile_refuses_a_plain_http_server(tmp_path):
    result = subprocess.run(
        [
            sys.executable,
            str(MACOS / "make_profile.py"),
            "--server-url",
            "http://pw.test",
            "--secret",
            "x",
            "-o",
            str(tmp_path / "p.mobileconfig"),
        ],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 2 and "https" in result.stderr
    assert not (tmp_path / "p.mobileconfig").exists()


def test_privacy_profile_grants_full_disk_access_to_the_launched_binary():
    payloads = {p["PayloadType"]: p for p in check_profile(load("phiwatch-privacy.mobileconfig"))}
    tcc = payloads["com.apple.TCC.configuration-profile-policy"]
    (identity,) = tcc["Services"]["SystemPolicyAllFiles"]
    assert identity["Identifier"] == load("com.phiwatch.agent.plist")["ProgramArguments"][0]
    assert identity["IdentifierType"] == "path"
    assert identity["Authorization"] == "Allow"
    assert identity["CodeRequirement"].startswith('identifier "phiwatch"')
    (rule,) = payloads["com.apple.servicemanagement"]["Rules"]
    assert rule["RuleType"] == "LabelPrefix" and LABEL.startswith(rule["RuleValue"])


def test_distribution_file():
    tree = ET.parse(MACOS / "Distribution.xml").getroot()
    assert tree.tag == "installer-gui-script"
    options = tree.find("options").attrib
    assert options["customize"] == "never"
    assert set(options["hostArchitectures"].split(",")) == {"arm64", "x86_64"}
    assert options["allow-external-scripts"] == "false"
    refs = {r.get("id") for r in tree.iter("pkg-ref")}
    assert refs == {LABEL}
    assert "--identifier com.phiwatch.agent" in (MACOS / "build_pkg.sh").read_text()


@pytest.mark.parametrize(
    "script", ["scripts/preinstall", "scripts/postinstall", "uninstall.sh", "build_pkg.sh"]
)
def test_shell_scripts_parse(script):
    assert subprocess.run(["sh", "-n", str(MACOS / script)]).returncode == 0


def test_package_scripts_only_touch_the_running_system():
    # Installer passes the target volume as $3; a pkg installed onto another disk must not
    # start anything here (deployment.md 2.1).
    for name in ("preinstall", "postinstall"):
        assert '[ "$3" = "/" ] || exit 0' in (MACOS / "scripts" / name).read_text()
    assert f"label={LABEL}\n" in (MACOS / "scripts" / "postinstall").read_text()


def test_build_pkg_stages_the_layout_the_launch_agent_expects(tmp_path):
    fake = tmp_path / "phiwatch"
    fake.write_bytes(b"\x7fELF not really a Mach-O")
    stage = tmp_path / "stage"
    result = subprocess.run(
        ["sh", str(MACOS / "build_pkg.sh"), "--binary", str(fake), "--stage", str(stage)],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr
    files = {str(p.relative_to(stage)) for p in stage.rglob("*") if p.is_file()}
    assert files == {
        "root" + BINARY,
        f"root/Library/LaunchAgents/{LABEL}.plist",
        "scripts/preinstall",
        "scripts/postinstall",
        "Distribution.xml",
    }
    assert (stage / ("root" + BINARY)).stat().st_mode & 0o777 == 0o755
    dist = ET.parse(stage / "Distribution.xml").getroot()
    assert dist.find("pkg-ref[@version]").get("version") == __version__


def test_build_pkg_needs_a_binary(tmp_path):
    result = subprocess.run(
        ["sh", str(MACOS / "build_pkg.sh"), "--binary", str(tmp_path / "no")],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 2 and "--binary" in result.stderr
    assert Path(tmp_path).exists()
