"""Agent settings, each with the place it came from.

Three layers, later wins (docs/protocol.md, "Managed configuration"):

1. ``default``: the values in SETTINGS below;
2. ``user``: ``<config_dir>/agent.toml``;
3. ``managed``: what IT placed, which the user cannot override:
   - Linux (and any OS when ``PHIWATCH_MANAGED_CONFIG`` is set): ``/etc/phiwatch/agent.toml``
     or the file that variable names (``.plist`` files are read as plists);
   - macOS: ``/Library/Managed Preferences/com.phiwatch.agent.plist``, which macOS writes
     from a configuration profile whose PayloadType is ``com.phiwatch.agent``;
   - Windows: ``HKLM\\SOFTWARE\\Policies\\phiwatch\\Agent`` (REG_SZ / REG_DWORD /
     REG_MULTI_SZ values named like the keys), the place Group Policy and Intune ADMX write.

``phiwatch status`` shows each setting's source, so "why does my laptop report to that
server?" has an answer.
"""

from __future__ import annotations

import os
import plistlib
import sys
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from agent import paths
from agent.errors import ConfigError

MANAGED_TOML = Path("/etc/phiwatch/agent.toml")
MANAGED_PLIST = Path("/Library/Managed Preferences/com.phiwatch.agent.plist")
MANAGED_REGISTRY = r"SOFTWARE\Policies\phiwatch\Agent"

# name: (default, type, what it is). Types are checked when a file is read, so a typo in
# /etc/phiwatch/agent.toml is an error naming the file and the key, not a crash later.
SETTINGS: dict[str, tuple[Any, type, str]] = {
    "server_url": (None, str, "https URL of the phiwatch server"),
    "enrollment_secret": (None, str, "secret used to enroll without typing (managed)"),
    "fingerprint": (None, str, "SHA-256 of the server's certificate, hex, colons optional"),
    "ca_cert": (None, str, "path of a PEM CA file that signs the server's certificate"),
    "roots": ([], list, "folders to watch and scan"),
    "exclude": ([], list, "glob patterns to skip"),
    "include": ([], list, "glob patterns to scan even inside an excluded folder"),
    "log_level": ("info", str, "debug, info, warning or error"),
    "proxy": ("system", str, "system (OS/environment settings), none, or a proxy URL"),
    "connect_timeout": (10.0, float, "seconds to open a connection to the server"),
    "read_timeout": (30.0, float, "seconds to wait for the server's answer"),
    "outbox_max_bytes": (20 * 1024 * 1024, int, "outbox size that triggers compaction"),
}
SECRET_KEYS = {"enrollment_secret"}


@dataclass
class Setting:
    value: Any
    source: str  # "default", "user <path>" or "managed <path>"


@dataclass
class AgentConfig:
    """Effective settings. Read a value as an attribute: ``config.server_url``."""

    settings: dict[str, Setting] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)

    def __getattr__(self, name: str) -> Any:
        settings = self.__dict__.get("settings", {})
        if name in settings:
            return settings[name].value
        raise AttributeError(name)

    def source(self, name: str) -> str:
        return self.settings[name].source

    def is_managed(self, name: str) -> bool:
        return self.settings[name].source.startswith("managed")

    def describe(self) -> dict[str, dict[str, Any]]:
        """Every setting with its source, secrets masked (for `phiwatch status`)."""
        out = {}
        for name, s in self.settings.items():
            value = s.value
            if name in SECRET_KEYS and value:
                value = "(set)"
            out[name] = {"value": value, "source": s.source}
        return out

    @classmethod
    def load(cls, user_file: Path | None = None) -> AgentConfig:
        return load_config(user_file)


def user_config_path() -> Path:
    return paths.config_dir() / "agent.toml"


def managed_location() -> tuple[str, Path | str] | None:
    """(kind, where) of this OS's managed configuration: kind is toml, plist or registry."""
    override = os.environ.get("PHIWATCH_MANAGED_CONFIG")
    if override:
        p = Path(override)
        return ("plist" if p.suffix == ".plist" else "toml", p)
    if sys.platform == "darwin":
        return ("plist", MANAGED_PLIST)
    if sys.platform == "win32":
        return ("registry", "HKLM\\" + MANAGED_REGISTRY)
    return ("toml", MANAGED_TOML)


def load_config(user_file: Path | None = None) -> AgentConfig:
    """Defaults, then the user file, then the managed layer."""
    cfg = AgentConfig({k: Setting(_copy(d), "default") for k, (d, _, _) in SETTINGS.items()})
    user = user_file or user_config_path()
    if user.exists():
        _apply(cfg, read_toml(user), f"user {user}")
    where = managed_location()
    if where:
        kind, loc = where
        if kind == "registry":
            values = read_registry()
        elif not Path(loc).exists():
            values = {}
        elif kind == "plist":
            values = read_plist(Path(loc))
        else:
            values = read_toml(Path(loc))
        if values:
            _apply(cfg, values, f"managed {loc}")
    return cfg


def save_user_settings(values: dict[str, Any], user_file: Path | None = None) -> Path:
    """Merge ``values`` into the user's agent.toml (used by `phiwatch enroll`)."""
    import tomli_w

    target = user_file or user_config_path()
    current = read_toml(target) if target.exists() else {}
    for key, value in values.items():
        if key not in SETTINGS:
            raise ConfigError(f"{key}: not a phiwatch setting")
        if value is None:
            current.pop(key, None)
        else:
            current[key] = value
    tmp = target.with_suffix(".toml.tmp")
    tmp.write_bytes(tomli_w.dumps(current).encode())
    os.replace(tmp, target)
    return target


def read_toml(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as fh:
            return tomllib.load(fh)
    except tomllib.TOMLDecodeError as e:
        raise ConfigError(f"{path}: not valid TOML: {e}") from e
    except OSError as e:
        raise ConfigError(f"{path}: cannot read: {e.strerror}") from e


def read_plist(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as fh:
            data = plistlib.load(fh)
    except (plistlib.InvalidFileException, ValueError) as e:
        raise ConfigError(f"{path}: not a valid property list: {e}") from e
    except OSError as e:
        raise ConfigError(f"{path}: cannot read: {e.strerror}") from e
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: the top level must be a dictionary")
    # Managed Preferences plists carry bookkeeping keys of their own (PayloadUUID...).
    return {k: v for k, v in data.items() if not k.startswith("Payload")}


def parse_registry_values(values: list[tuple[str, Any, int]]) -> dict[str, Any]:
    """Registry values (name, data, type) as settings. REG_MULTI_SZ (7) is a list; a
    REG_SZ list setting may also be written comma-separated, as ADMX text boxes do."""
    out: dict[str, Any] = {}
    for name, data, kind in values:
        if name not in SETTINGS:
            out[name] = data
            continue
        wanted = SETTINGS[name][1]
        if wanted is list and isinstance(data, str):
            data = [p.strip() for p in data.split(",") if p.strip()]
        elif wanted is list and kind == 7:
            data = list(data)
        out[name] = data
    return out


def read_registry() -> dict[str, Any]:
    import winreg  # Windows only: imported here so other OSes never need it

    try:
        key = winreg.OpenKey(winreg.HKEY_LOCAL_MACHINE, MANAGED_REGISTRY)
    except OSError:
        return {}
    values = []
    with key:
        i = 0
        while True:
            try:
                values.append(winreg.EnumValue(key, i))
            except OSError:
                break
            i += 1
    return parse_registry_values(values)


def _apply(cfg: AgentConfig, values: dict[str, Any], source: str) -> None:
    for key, value in values.items():
        if key not in SETTINGS:
            cfg.warnings.append(f"{source}: unknown setting {key!r} ignored")
            continue
        cfg.settings[key] = Setting(_coerce(key, value, source), source)


def _coerce(key: str, value: Any, source: str) -> Any:
    wanted = SETTINGS[key][1]
    if wanted is float and isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    if wanted is int and isinstance(value, str) and value.isdigit():
        return int(value)  # registry REG_SZ numbers
    if wanted is float and isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            pass
    if not isinstance(value, wanted) or isinstance(value, bool):
        raise ConfigError(f"{source}: {key} must be {wanted.__name__}, not {type(value).__name__}")
    if wanted is list and not all(isinstance(v, str) for v in value):
        raise ConfigError(f"{source}: {key} must be a list of strings")
    return value


def _copy(value: Any) -> Any:
    return list(value) if isinstance(value, list) else value
