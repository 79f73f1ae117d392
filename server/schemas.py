"""Pieces shared by the agent API's schemas."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

from ninja import Schema
from pydantic import AfterValidator, AwareDatetime, BaseModel, ConfigDict, Field, model_validator

from server.errors import ApiError

# Request bodies are plain pydantic models: ninja's Schema adds a Django-attribute
# resolver on every nested object, which a body parsed from JSON never needs and which
# cost ~10% of a check-in's CPU (profiled with the fleet simulator).


MAX_DEPTH = 32


def _check_json(value: Any, path: str, depth: int = 0) -> tuple[str, str] | None:
    """(field, problem) for the first value PostgreSQL could not store, else None."""
    if depth > MAX_DEPTH:
        return path, f"nested deeper than {MAX_DEPTH} levels"
    if isinstance(value, str):
        return (path, "NUL characters are not allowed") if "\x00" in value else None
    if isinstance(value, float) and not math.isfinite(value):
        # Python's JSON parser accepts NaN and Infinity; JSON and jsonb do not.
        return path, "NaN and Infinity are not allowed"
    if isinstance(value, dict):
        for k, v in value.items():
            sub = f"{path}.{k}" if path else str(k)
            if "\x00" in str(k):
                return sub, "NUL characters are not allowed"
            if (found := _check_json(v, sub, depth + 1)) is not None:
                return found
    elif isinstance(value, list):
        for i, v in enumerate(value):
            if (found := _check_json(v, f"{path}.{i}" if path else str(i), depth + 1)):
                return found
    return None


def _sane_time(value: datetime) -> datetime:
    # PostgreSQL accepts UTC offsets up to 15:59 and Python up to 23:59; real zones span
    # -12:00..+14:00. Years outside 1970..9998 are a broken clock, not a report.
    offset = value.utcoffset() or timedelta(0)
    if abs(offset) > timedelta(hours=14):
        raise ValueError("UTC offset beyond +/-14:00")
    if not 1970 <= value.year <= 9998:
        raise ValueError("year out of range 1970..9998")
    return value.astimezone(UTC)


Timestamp = Annotated[AwareDatetime, AfterValidator(_sane_time)]
BigCount = Annotated[int, Field(ge=0, le=2**63 - 1)]


class Strict(BaseModel):
    """Top-level request bodies: an unknown field is a 422 naming it."""

    model_config = ConfigDict(extra="forbid")

    @model_validator(mode="before")
    @classmethod
    def _no_nul(cls, data: Any) -> Any:
        # PostgreSQL text and jsonb cannot hold U+0000 (nor NaN in jsonb): refuse them
        # here, naming the field, rather than fail in the database with a 500.
        found = _check_json(data, "")
        if found is not None:
            raise ApiError(422, f"{found[0]}: {found[1]}", found[0] or None)
        return data


class Lenient(BaseModel):
    """Nested objects: unknown fields are ignored, so a newer agent can add detail."""

    model_config = ConfigDict(extra="ignore")


class ErrorOut(Schema):
    detail: str
    field: str | None = None


class PolicyOut(Schema):
    policy: dict[str, Any]
    policy_version: int
