"""Load and validate rules/violations.yaml. A bad rule fails at load (and in CI)."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from server.errors import ConfigError
from server.home import rules_dir
from server.violations.conditions import validate
from server.violations.models import SEVERITY_RANK


@dataclass(frozen=True)
class Rule:
    id: str
    title: str
    severity: str
    hipaa: str
    when: dict[str, Any]
    checkin_only: bool = False


def parse(data: Any, source: str) -> list[Rule]:
    if not isinstance(data, dict) or not isinstance(data.get("rules"), list):
        raise ConfigError(f"{source}: expected a mapping with a 'rules' list")
    rules, seen = [], set()
    for i, r in enumerate(data["rules"]):
        where = f"{source}: rules[{i}]"
        if not isinstance(r, dict):
            raise ConfigError(f"{where}: expected a mapping")
        missing = {"id", "title", "severity", "hipaa", "when"} - set(r)
        if missing:
            raise ConfigError(f"{where}: missing {', '.join(sorted(missing))}")
        unknown = set(r) - {"id", "title", "severity", "hipaa", "when", "checkin_only"}
        if unknown:
            raise ConfigError(f"{where}: unknown keys {', '.join(sorted(unknown))}")
        if r["id"] in seen:
            raise ConfigError(f"{where}: duplicate id {r['id']!r}")
        seen.add(r["id"])
        if r["severity"] not in SEVERITY_RANK or not r["severity"]:
            raise ConfigError(f"{where}: severity must be critical, high, medium or low")
        if not str(r["hipaa"]).startswith("164."):
            raise ConfigError(f"{where}: hipaa must cite a 45 CFR 164 section")
        try:
            validate(r["when"], f"{where}.when")
        except ValueError as e:
            raise ConfigError(str(e)) from e
        rules.append(Rule(r["id"], r["title"], r["severity"], str(r["hipaa"]), r["when"],
                          bool(r.get("checkin_only", False))))
    return rules


def load(path: Path) -> list[Rule]:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as e:
        raise ConfigError(f"cannot load {path}: {e}") from e
    return parse(data, str(path))


@functools.cache
def rules() -> list[Rule]:
    return load(rules_dir() / "violations.yaml")
