"""System checks name a bad rules file before the server serves."""

from __future__ import annotations

import shutil

import pytest

from server.home import rules_dir
from server.policy.effective import base_policy
from server.serve.checks import rules_load
from server.violations.rules import rules


@pytest.fixture
def rules_copy(tmp_path, monkeypatch):
    for name in ("policy.yaml", "violations.yaml"):
        shutil.copy(rules_dir() / name, tmp_path / name)
    monkeypatch.setenv("PHIWATCH_RULES", str(tmp_path))
    base_policy.cache_clear()
    rules.cache_clear()
    yield tmp_path
    base_policy.cache_clear()
    rules.cache_clear()


def test_shipped_rules_pass(rules_copy):
    assert rules_load(None) == []


def test_bad_violation_rule_is_named(rules_copy):
    path = rules_copy / "violations.yaml"
    path.write_text(path.read_text().replace("severity: critical", "severity: dire", 1))
    (err,) = rules_load(None)
    assert err.id == "phiwatch.E002" and "severity" in err.msg and "rules[1]" in err.msg


def test_bad_policy_threshold_is_named(rules_copy):
    path = rules_copy / "policy.yaml"
    path.write_text(path.read_text().replace("silent_after_seconds: 259200",
                                             "silent_after_seconds: soon"))
    (err,) = rules_load(None)
    assert err.id == "phiwatch.E003" and "silent_after_seconds" in err.msg
