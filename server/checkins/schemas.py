"""The check-in body (docs/protocol.md). Top level strict; nested objects lenient."""

from __future__ import annotations

from typing import Any, Literal
from uuid import UUID

from ninja import Schema
from pydantic import Field

from server.schemas import BigCount, Lenient, Strict, Timestamp

Scalar = str | int | float | bool | None
Status = Literal["pass", "fail", "unknown", "in_progress", "not_applicable"]


class CheckIn(Lenient):
    id: str = Field(min_length=1, max_length=50, pattern=r"^[a-z0-9_]+$")
    status: Status
    observed: Scalar = None
    policy: Scalar = None
    hipaa: str | None = Field(default=None, max_length=50)
    reason: str | None = Field(default=None, max_length=500)
    fix: str | None = Field(default=None, max_length=500)
    details: dict[str, Any] | None = None


class PostureIn(Lenient):
    checked_at: Timestamp
    checks: list[CheckIn] = Field(max_length=100)


class VolumeIn(Lenient):
    mount: str | None = Field(default=None, max_length=4096)
    encrypted: bool | None = None
    removable: bool = False
    cloud: str | None = Field(default=None, max_length=50)


class FindingIn(Lenient):
    finding_id: str = Field(min_length=1, max_length=128)
    path: str | None = Field(default=None, max_length=4096)
    folder: str | None = Field(default=None, max_length=4096)
    name_hash: str = Field(default="", max_length=128)
    classification: Literal["phi", "pii"]
    identifiers: dict[str, BigCount] = Field(default_factory=dict)
    health: dict[str, BigCount] = Field(default_factory=dict)
    format: str = Field(default="", max_length=50)
    bytes: BigCount = 0
    volume: VolumeIn | None = None
    first_seen: Timestamp | None = None
    last_seen: Timestamp | None = None


class EventIn(Lenient):
    event_id: UUID
    type: str = Field(min_length=1, max_length=40, pattern=r"^[a-z][a-z0-9_]*$")
    at: Timestamp
    data: dict[str, Any] = Field(default_factory=dict)


class OutboxIn(Lenient):
    depth: int = Field(default=0, ge=0, le=2**31 - 1)
    dropped: dict[str, BigCount] = Field(default_factory=dict)


class CheckinIn(Strict):
    report_id: UUID
    device_id: UUID
    created_at: Timestamp
    agent_version: str = Field(default="", max_length=50)
    inventory: dict[str, Any] | None = None
    posture: PostureIn | None = None
    findings: list[FindingIn] | None = Field(default=None, max_length=20000)
    findings_complete: bool = False
    events: list[EventIn] = Field(default_factory=list, max_length=2000)
    outbox: OutboxIn | None = None


class CheckinOut(Schema):
    status: Literal["stored", "duplicate"]
    policy: dict[str, Any]
    policy_version: int
    server_time: Timestamp
