"""Roots, excludes and cloud-sync folder discovery."""

from __future__ import annotations

from pathlib import Path

import pytest

from agent.watch.roots import (
    PathFilter,
    Root,
    agent_dirs,
    cloud_folders,
    cloud_of,
    default_roots,
    disjoint,
)


@pytest.mark.parametrize(
    "path, excluded",
    [
        ("src/app/main.py", False),
        ("src/app/node_modules/lodash/index.js", True),
        ("proj/.git/config", True),
        ("proj/.venv/bin/python", True),
        ("Library/Caches/com.apple.Safari/x", True),
        ("work/Library/Caches/x", True),  # a multi-part glob matches at any depth
        ("Library/Mobile Documents/com~apple~CloudDocs/labs.csv", False),
        ("Downloads/export.csv", False),
        (".cache/pip/x.whl", True),
        ("AppData/Local/Temp/x.tmp", True),
    ],
)
def test_default_excludes(tmp_path, path, excluded):
    assert PathFilter().excluded(tmp_path / path, tmp_path) is excluded


def test_configured_excludes_and_includes(tmp_path):
    f = PathFilter(exclude=("*.iso", "scratch"), include=("scratch/keep/*",))
    assert f.excluded(tmp_path / "images/x.iso", tmp_path)
    assert f.excluded(tmp_path / "scratch/a.csv", tmp_path)
    assert not f.excluded(tmp_path / "scratch/keep/a.csv", tmp_path)
    assert not f.excluded(tmp_path / "docs/a.csv", tmp_path)


def test_agent_own_dirs_are_excluded(tmp_path, monkeypatch):
    monkeypatch.setenv("PHIWATCH_HOME", str(tmp_path / "home/.phiwatch"))
    f = PathFilter(own_dirs=agent_dirs())
    assert f.excluded(tmp_path / "home/.phiwatch/state/findings.db", tmp_path / "home")
    assert not f.excluded(tmp_path / "home/notes.txt", tmp_path / "home")


def test_cloud_folders_found_and_tagged(tmp_path):
    home = tmp_path
    for d in [
        "Dropbox",
        "OneDrive - Acme Health",
        "Library/CloudStorage/GoogleDrive-a@b.org",
        "Library/Mobile Documents/com~apple~CloudDocs",
        "Documents",
    ]:
        (home / d).mkdir(parents=True)
    (home / "Work OneDrive").mkdir()
    found = {
        r.path.relative_to(home).as_posix(): r.cloud
        for r in cloud_folders(home, environ={"OneDriveCommercial": str(home / "Work OneDrive")})
    }
    assert found == {
        "Dropbox": "dropbox",
        "OneDrive - Acme Health": "onedrive",
        "Library/CloudStorage/GoogleDrive-a@b.org": "google_drive",
        "Library/Mobile Documents/com~apple~CloudDocs": "icloud",
        "Work OneDrive": "onedrive",
    }


def test_default_roots_home_plus_clouds_and_disjoint(tmp_path):
    (tmp_path / "Dropbox").mkdir()
    roots = default_roots(home=tmp_path)
    assert [(r.path, r.kind, r.cloud) for r in roots] == [
        (tmp_path, "home", None),
        (tmp_path / "Dropbox", "cloud", "dropbox"),
    ]
    assert disjoint(roots) == [Root(tmp_path, "home")]  # watched once, through home
    assert cloud_of(tmp_path / "Dropbox/x/labs.csv", roots) == "dropbox"
    assert cloud_of(tmp_path / "Documents/labs.csv", roots) is None


def test_configured_roots_replace_home(tmp_path):
    roots = default_roots([tmp_path / "data"], home=tmp_path)
    assert roots == [Root(Path(tmp_path / "data").resolve(), kind="configured")]


def test_config_roots_excludes_and_includes_reach_the_daemon(agent_home, tmp_path):
    from agent.config import load_config
    from agent.daemon import Daemon

    data = tmp_path / "data"
    data.mkdir()
    cfg_file = agent_home / "config" / "agent.toml"
    cfg_file.parent.mkdir(parents=True)
    cfg_file.write_text(
        f'roots = ["{data}"]\nexclude = ["*.iso"]\ninclude = ["web/node_modules/ours/*"]\n'
    )
    d = Daemon(config=load_config(), reporter=None, policy={}, mount_table=lambda: {})
    try:
        assert [r.path for r in d.roots] == [data.resolve()]
        assert d.filt.excluded(data / "disk.iso", data)
        assert d.filt.excluded(data / "x/node_modules/a.js", data)  # defaults still apply
        assert not d.filt.excluded(data / "web/node_modules/ours/q3.csv", data)
        assert not d.filt.excluded(data / "web/node_modules", data)  # walked to reach it
        assert d.filt.excluded(data / "web/node_modules/lodash/x.js", data)
    finally:
        d.stop()
        d.close()


def test_removable_volume_inside_home_is_its_own_root(tmp_path):
    home = Root(tmp_path, "home")
    stick = Root(tmp_path / "usb", "removable", removable=True)
    assert disjoint([home, stick, Root(tmp_path / "Dropbox", "cloud", "dropbox")]) == [home, stick]
