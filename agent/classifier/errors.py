"""The classifier's few error types. Messages never quote file content."""

from __future__ import annotations

from agent.classifier.units import ExtractionError


class ClassifierError(Exception):
    """Base for errors raised by the detection side of the classifier."""


class RuleError(ClassifierError):
    """A rule file is invalid (bad regex, unknown validator, duplicate id, score out of
    range, missing reference, failing fixture). Raised at load time so a bad rule fails
    CI, never a scan on a laptop."""


__all__ = ["ClassifierError", "ExtractionError", "RuleError"]
