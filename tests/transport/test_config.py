"""Settings layers (default < user < managed), each setting's source, bad files."""

from __future__ import annotations

import plistlib
from pathlib import Path

import pytest

from agent.config import ConfigError, load_config, parse_registry_values, save_user_settings


def test_defaults_say_default(agent_home):
    cfg = load_config()
    assert cfg.proxy == "system" and cfg.source("proxy") == "default"
    assert cfg.server_url is None


def test_managed_wins_over_user_and_each_source_is_named(agent_home, tmp_path, monkeypatch):
    user = save_user_settings({"server_url": "https://user.example", "log_level": "debug"})
    managed = tmp_path / "managed.toml"
    managed.write_text(
        'server_url = "https://it.example"\nenrollment_secret = "s3"\nroots = ["/home/a/data"]\n'
    )
    monkeypatch.setenv("PHIWATCH_MANAGED_CONFIG", str(managed))
    cfg = load_config()
    assert cfg.server_url == "https://it.example"
    assert cfg.source("server_url") == f"managed {managed}"
    assert cfg.log_level == "debug" and cfg.source("log_level") == f"user {user}"
    assert cfg.roots == ["/home/a/data"] and cfg.is_managed("roots")
    described = cfg.describe()
    assert described["enrollment_secret"] == {"value": "(set)", "source": f"managed {managed}"}
    assert "s3" not in repr(described)


def test_managed_plist_from_a_configuration_profile(agent_home, tmp_path, monkeypatch):
    plist = tmp_path / "com.phiwatch.agent.plist"
    plist.write_bytes(
        plistlib.dumps(
            {
                "server_url": "https://it.example",
                "fingerprint": "ab" * 32,
                "PayloadUUID": "x",
                "PayloadType": "com.phiwatch.agent",
                "connect_timeout": 5,
            }
        )
    )
    monkeypatch.setenv("PHIWATCH_MANAGED_CONFIG", str(plist))
    cfg = load_config()
    assert cfg.fingerprint == "ab" * 32 and cfg.connect_timeout == 5.0
    assert cfg.warnings == []


def test_registry_values_become_settings():
    # (name, data, type) as winreg.EnumValue gives them; REG_SZ=1, REG_DWORD=4, REG_MULTI_SZ=7
    values = parse_registry_values(
        [
            ("server_url", "https://it.example", 1),
            ("roots", "C:\\Users\\a\\data, D:\\exports", 1),
            ("exclude", ["*.tmp", "~$*"], 7),
            ("read_timeout", 45, 4),
        ]
    )
    assert values == {
        "server_url": "https://it.example",
        "roots": ["C:\\Users\\a\\data", "D:\\exports"],
        "exclude": ["*.tmp", "~$*"],
        "read_timeout": 45,
    }


def test_bad_files_name_the_file_and_key(agent_home, tmp_path, monkeypatch):
    managed = tmp_path / "m.toml"
    managed.write_text("server_url = [1, 2]\n")
    monkeypatch.setenv("PHIWATCH_MANAGED_CONFIG", str(managed))
    with pytest.raises(ConfigError, match=r"m\.toml: server_url must be str"):
        load_config()
    managed.write_text("server_url = \n")
    with pytest.raises(ConfigError, match=r"m\.toml: not valid TOML"):
        load_config()
    managed.write_text('servr_url = "https://typo"\n')
    assert "unknown setting 'servr_url' ignored" in load_config().warnings[0]


REPO = Path(__file__).resolve().parents[2]


def test_shipped_managed_examples_load(agent_home, tmp_path, monkeypatch):
    """The installers' examples use the keys this loader knows (no typo goes unnoticed)."""
    linux = REPO / "installers" / "linux" / "agent.toml"
    profile = REPO / "installers" / "macos" / "phiwatch.mobileconfig"
    if not (linux.exists() and profile.exists()):
        pytest.skip("installers' managed configuration examples are not in this tree")
    monkeypatch.setenv("PHIWATCH_MANAGED_CONFIG", str(linux))
    cfg = load_config()
    assert cfg.warnings == []
    assert cfg.server_url.startswith("https://") and cfg.is_managed("enrollment_secret")
    # macOS writes the com.phiwatch.agent payload's keys to Managed Preferences as a plist.
    payload = next(
        p
        for p in plistlib.loads(profile.read_bytes())["PayloadContent"]
        if p["PayloadType"] == "com.phiwatch.agent"
    )
    plist = tmp_path / "com.phiwatch.agent.plist"
    plist.write_bytes(plistlib.dumps(payload))
    monkeypatch.setenv("PHIWATCH_MANAGED_CONFIG", str(plist))
    cfg = load_config()
    assert cfg.warnings == []
    assert cfg.server_url == payload["server_url"] and cfg.is_managed("fingerprint")
