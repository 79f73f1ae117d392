"""One posture verdict: the CHECK object of docs/protocol.md."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

PASS = "pass"
FAIL = "fail"
UNKNOWN = "unknown"
IN_PROGRESS = "in_progress"
NOT_APPLICABLE = "not_applicable"
STATUSES = (PASS, FAIL, UNKNOWN, IN_PROGRESS, NOT_APPLICABLE)


@dataclass
class CheckResult:
    """A verdict. ``to_json()`` is exactly the CHECK object of docs/protocol.md."""

    id: str
    status: str
    observed: str
    policy: str
    hipaa: str
    reason: str | None = None
    fix: str | None = None
    details: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.status not in STATUSES:
            raise ValueError(f"status must be one of {STATUSES}")

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "status": self.status,
            "observed": self.observed,
            "policy": self.policy,
            "hipaa": self.hipaa,
            "reason": self.reason,
            "fix": self.fix,
            "details": self.details,
        }
