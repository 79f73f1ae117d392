"""Every check has all three probes and answers with the protocol's CHECK object."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from agent.posture import CHECKS, OSES, run_check
from agent.posture.result import STATUSES, CheckResult
from agent.runner import ReplayRunner

from .conftest import FIXTURES, verdicts

PROTOCOL = Path(__file__).resolve().parents[2] / "docs" / "protocol.md"
CHECK_KEYS = {"id", "status", "observed", "policy", "hipaa", "reason", "fix", "details"}


def test_check_ids_are_the_protocol_ids():
    text = PROTOCOL.read_text()
    paragraph = text[text.index("Check ids:"):].split("\n\n")[0]
    assert list(CHECKS) == re.findall(r"`(\w+)`", paragraph)


@pytest.mark.parametrize("check_id", list(CHECKS))
def test_every_check_has_three_probes_and_a_fix_per_os(check_id):
    module = CHECKS[check_id]
    assert module.ID == check_id
    for os_name in OSES:
        assert callable(getattr(module, f"probe_{os_name}")), f"{check_id}: probe_{os_name} missing"
        assert os_name in module.FIX and module.FIX[os_name].strip()
    assert callable(module.evaluate)
    assert re.fullmatch(r"164\.\d{3}\([a-z]\)(\(\d\))?(\([ivx]+\))?(\([A-Z]\))?", module.HIPAA)


@pytest.mark.parametrize("fixture", sorted(p.stem for p in FIXTURES.glob("*.json")))
def test_every_fixture_gives_every_check_a_protocol_object(fixture):
    results = verdicts(fixture)
    assert list(results) == list(CHECKS)
    for r in results.values():
        obj = r.to_json()
        assert set(obj) == CHECK_KEYS
        assert obj["status"] in STATUSES
        assert isinstance(obj["observed"], str) and obj["observed"]
        assert isinstance(obj["policy"], str) and obj["policy"]
        assert isinstance(obj["details"], dict)
        # unknown always says why; a pass never carries a fix
        assert (obj["reason"] is not None) == (obj["status"] == "unknown")
        if obj["status"] == "pass":
            assert obj["fix"] is None
        if obj["status"] == "fail":
            assert obj["fix"]


@pytest.mark.parametrize("os_name", OSES)
def test_an_empty_machine_is_unknown_everywhere_never_a_pass(os_name):
    """Nothing readable (every command missing, no file) must never look compliant."""
    runner = ReplayRunner({"format": "phiwatch-posture-replay/1", "os": os_name}, "empty")
    for check in CHECKS.values():
        result = run_check(check, {"os_supported": {}}, runner, {})
        assert result.status != "pass", (check.ID, result.to_json())


def test_a_probe_crash_is_unknown_and_keeps_the_message_out():
    class Boom:
        ID, HIPAA, FIX = "boom", "164.310(c)", {"linux": "x"}

        @staticmethod
        def policy_text(policy):
            return "p"

        @staticmethod
        def probe_linux(run):
            raise ValueError("patient 123-45-6789 in output")

    runner = ReplayRunner({"format": "phiwatch-posture-replay/1", "os": "linux"})
    result = run_check(Boom, {}, runner)  # type: ignore[arg-type]
    assert result.status == "unknown"
    assert result.reason == "internal error (ValueError)"
    assert "123-45-6789" not in str(result.to_json())


def test_status_must_be_one_of_five():
    with pytest.raises(ValueError):
        CheckResult("x", "ok", "o", "p", "164.310(c)")
