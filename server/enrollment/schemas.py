from __future__ import annotations

from typing import Any, Literal
from uuid import UUID

from ninja import Schema
from pydantic import Field

from server.schemas import Strict


class EnrollIn(Strict):
    secret: str = Field(min_length=1, max_length=200)
    hostname: str = Field(min_length=1, max_length=255)
    machine_id: str = Field(min_length=1, max_length=200)
    hardware_serial: str | None = Field(default=None, max_length=200)
    os: Literal["linux", "darwin", "windows"]
    os_version: str = Field(default="", max_length=100)
    agent_version: str = Field(default="", max_length=50)


class EnrollOut(Schema):
    device_id: UUID
    token: str
    policy: dict[str, Any]
    policy_version: int


class TokenOut(Schema):
    token: str
