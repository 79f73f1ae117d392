from __future__ import annotations

from agent import paths


def test_phiwatch_home_is_the_single_root(tmp_path, monkeypatch):
    monkeypatch.setenv("PHIWATCH_HOME", str(tmp_path))
    for fn, name in [(paths.config_dir, "config"), (paths.state_dir, "state"),
                     (paths.cache_dir, "cache"), (paths.log_dir, "logs")]:
        d = fn()
        assert d == tmp_path / name and d.is_dir()
        assert d.stat().st_mode & 0o077 == 0


def test_rules_dir_holds_the_policy():
    assert (paths.rules_dir() / "policy.yaml").is_file()
