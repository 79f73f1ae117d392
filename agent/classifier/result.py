"""What the classifier says about one file. Counts and kinds only: never a matched value."""

from __future__ import annotations

from dataclasses import dataclass, field
from json.encoder import encode_basestring  # the C function json.dumps uses (ensure_ascii=False)

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

    def to_jsonl(self) -> str:
        """``json.dumps(self.to_json(), ensure_ascii=False)``, built directly: the generic
        encoder was a few percent of a scan that writes a line per file."""
        line = (f'{{"path": {encode_basestring(self.path)}, "classification": '
                f'{encode_basestring(self.classification)}, "identifiers": {counts_json(self.identifiers)}, '
                f'"health": {counts_json(self.health)}, "format": {encode_basestring(self.format)}, '
                f'"bytes": {int(self.bytes)!r}')
        if self.reason:
            line += f', "reason": {encode_basestring(self.reason)}'
        if self.first_evidence:
            line += f', "first_evidence": {encode_basestring(self.first_evidence)}'
        return line + "}"


def counts_json(kinds: dict[str, int]) -> str:
    """``json.dumps(kinds, ensure_ascii=False)`` for kind -> count ("{}" for most files)."""
    if not kinds:
        return "{}"
    return "{" + ", ".join(f"{encode_basestring(k)}: {int(v)!r}" for k, v in kinds.items()) + "}"
