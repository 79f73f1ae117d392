"""Workstation posture checks: one module per control, each with three OS probes.

A check module holds ``ID``, ``HIPAA``, ``FIX`` (one line per OS), ``policy_text()``,
``probe_linux(run)``, ``probe_darwin(run)``, ``probe_windows(run)`` (facts, read only
through the runner) and ``evaluate(facts, policy, os, context) -> CheckResult``.

To add a check: write the module, add it to CHECKS, add replay fixtures under
tests/fixtures/posture/ and its id to docs/protocol.md.
"""

from __future__ import annotations

from types import ModuleType

from agent.posture import (
    auto_logoff,
    disk_encryption,
    firewall,
    os_supported,
    os_updates,
    removable_media,
    screen_lock,
)
from agent.posture.errors import ProbeUnknown
from agent.posture.result import UNKNOWN, CheckResult
from agent.runner import LiveRunner, Runner

# Order matters once: auto_logoff reads screen_lock's verdict (accepted in its place).
CHECKS: dict[str, ModuleType] = {
    "disk_encryption": disk_encryption,
    "screen_lock": screen_lock,
    "auto_logoff": auto_logoff,
    "removable_media": removable_media,
    "firewall": firewall,
    "os_updates": os_updates,
    "os_supported": os_supported,
}
OSES = ("linux", "darwin", "windows")

__all__ = ["CHECKS", "CheckResult", "run_check", "run_checks"]


def run_check(check: ModuleType, policy: dict, runner: Runner,
              context: dict[str, CheckResult] | None = None) -> CheckResult:
    """One check on ``runner``'s OS. Never raises: anything unexpected is ``unknown``."""
    probe = getattr(check, f"probe_{runner.os}")
    try:
        facts = probe(runner)
        return check.evaluate(facts, policy, runner.os, context or {})
    except ProbeUnknown as e:
        return CheckResult(check.ID, UNKNOWN, "unknown", check.policy_text(policy), check.HIPAA,
                           reason=e.reason, details=e.details)
    except Exception as e:  # a probe bug must not hide the other checks
        # Only the type: exception text could quote command output.
        return CheckResult(check.ID, UNKNOWN, "unknown", check.policy_text(policy), check.HIPAA,
                           reason=f"internal error ({type(e).__name__})")


def run_checks(policy: dict | None = None, runner: Runner | None = None) -> list[CheckResult]:
    """Every check in CHECKS, in order, against ``policy`` (default: rules/policy.yaml)."""
    from agent.policy import load_policy

    policy = load_policy() if policy is None else policy
    runner = runner or LiveRunner()
    results: dict[str, CheckResult] = {}
    for check_id, check in CHECKS.items():
        results[check_id] = run_check(check, policy, runner, results)
    return list(results.values())
