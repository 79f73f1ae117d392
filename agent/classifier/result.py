"""What the classifier says about one file. Counts and kinds only: never a matched value."""

from __future__ import annotations

from dataclasses import dataclass, field

LABELS = ("phi", "pii", "none", "error")
RANK = {"error": -1, "none": 0, "pii": 1, "phi": 2}


@dataclass
class FileResult:
    path: str
    classification: str  # one of LABELS
    identifiers: dict[str, int] = field(default_factory=dict)  # kind -> count
    health: dict[str, int] = field(default_factory=dict)  # kind -> count
    format: str = "unknown"
    bytes: int = 0
    reason: str | None = None  # why `error` (or why a limit cut the scan short)
    first_evidence: str | None = None  # "line 12", "page 3", "sheet Patients row 4"
    members: list[FileResult] = field(default_factory=list)  # archive members

    def to_json(self) -> dict:
        out = {
            "path": self.path,
            "classification": self.classification,
            "identifiers": dict(self.identifiers),
            "health": dict(self.health),
            "format": self.format,
            "bytes": self.bytes,
        }
        if self.reason:
            out["reason"] = self.reason
        if self.first_evidence:
            out["first_evidence"] = self.first_evidence
        return out
