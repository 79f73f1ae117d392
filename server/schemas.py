"""Pieces shared by the agent API's schemas."""

from __future__ import annotations

from typing import Any

from ninja import Schema
from pydantic import BaseModel, ConfigDict

# Request bodies are plain pydantic models: ninja's Schema adds a Django-attribute
# resolver on every nested object, which a body parsed from JSON never needs and which
# cost ~10% of a check-in's CPU (profiled with the fleet simulator).


class Strict(BaseModel):
    """Top-level request bodies: an unknown field is a 422 naming it."""

    model_config = ConfigDict(extra="forbid")


class Lenient(BaseModel):
    """Nested objects: unknown fields are ignored, so a newer agent can add detail."""

    model_config = ConfigDict(extra="ignore")


class ErrorOut(Schema):
    detail: str
    field: str | None = None


class PolicyOut(Schema):
    policy: dict[str, Any]
    policy_version: int
