"""The few errors of agent.posture (and agent.policy)."""

from __future__ import annotations


class PostureError(Exception):
    """Base of posture errors."""


class ProbeUnknown(PostureError):
    """A probe could not tell: the check answers ``unknown`` with this reason.

    ``reason`` is short and user-facing ("needs administrator", "command not found:
    lsblk", "no desktop session"). It never carries command output.
    """

    def __init__(self, reason: str, details: dict | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.details = details or {}


class PolicyError(PostureError):
    """rules/policy.yaml or a server override is malformed; the message names the key."""
