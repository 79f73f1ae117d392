"""Fixtures of the posture tests: replay files recorded from the reference's real outputs."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from agent.policy import load_policy
from agent.posture import disk_encryption, run_checks
from agent.posture.result import CheckResult
from agent.runner import ReplayRunner

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "posture"


def replay(name: str, **changes) -> ReplayRunner:
    """The replay runner of tests/fixtures/posture/<name>.json, with top-level changes."""
    data = json.loads((FIXTURES / f"{name}.json").read_text())
    data.update(changes)
    return ReplayRunner(data, name)


def verdicts(name: str, policy: dict | None = None, **changes) -> dict[str, CheckResult]:
    results = run_checks(load_policy(policy), replay(name, **changes))
    return {r.id: r for r in results}


@pytest.fixture(autouse=True)
def _fresh_volume_cache():
    disk_encryption.clear_cache()
    yield
    disk_encryption.clear_cache()
