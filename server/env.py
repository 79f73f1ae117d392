"""Settings from environment variables, with a ``NAME_FILE`` variant for secrets."""

from __future__ import annotations

import os
from pathlib import Path

from server.errors import ConfigError


def env_str(name: str, default: str | None = None) -> str | None:
    """``NAME`` or the contents of the file named by ``NAME_FILE`` (stripped), else default."""
    value = os.environ.get(name)
    if value is not None:
        return value
    file_name = os.environ.get(name + "_FILE")
    if file_name:
        try:
            return Path(file_name).read_text(encoding="utf-8").strip()
        except OSError as e:
            raise ConfigError(f"{name}_FILE: cannot read {file_name}: {e.strerror}") from e
    return default


def env_bool(name: str, default: bool = False) -> bool:
    value = env_str(name)
    if value is None or value == "":
        return default
    if value.lower() in ("1", "true", "yes", "on"):
        return True
    if value.lower() in ("0", "false", "no", "off"):
        return False
    raise ConfigError(f"{name}: expected true/false, got {value!r}")


def env_int(name: str, default: int) -> int:
    value = env_str(name)
    if value is None or value == "":
        return default
    try:
        return int(value)
    except ValueError as e:
        raise ConfigError(f"{name}: expected an integer, got {value!r}") from e


def env_list(name: str, default: list[str]) -> list[str]:
    value = env_str(name)
    if value is None:
        return default
    return [v.strip() for v in value.split(",") if v.strip()]
