"""Condition types of rules/violations.yaml: one function each, in an explicit registry.

Each takes (argument, context) and returns None when the condition does not hold, or a
dict of evidence (counts, check ids, never a value from a file) when it does.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from server.devices.models import Device

Evidence = dict[str, Any] | None


@dataclass
class Context:
    device: Device
    policy: dict[str, Any]
    now: datetime
    findings: list = field(default_factory=list)  # open Finding rows
    events: list = field(default_factory=list)  # this check-in's events (EventIn)


def check(arg: dict, ctx: Context) -> Evidence:
    state = (ctx.device.posture or {}).get(arg["id"]) or {}
    if state.get("status") in arg["status"]:
        return {"check": arg["id"], "status": state["status"]}
    return None


def check_over_policy(arg: dict, ctx: Context) -> Evidence:
    state = (ctx.device.posture or {}).get(arg["id"]) or {}
    value = (state.get("values") or {}).get(arg["field"])
    limit = ctx.policy.get(arg["policy"])
    if isinstance(value, int | float) and isinstance(limit, int | float) and value > limit:
        return {"check": arg["id"], arg["field"]: value, arg["policy"]: limit}
    return None


_FINDING_ATTRS = {"classification", "volume_encrypted", "volume_removable"}


def finding(arg: dict, ctx: Context) -> Evidence:
    n = sum(1 for f in ctx.findings if all(getattr(f, k) == v for k, v in arg.items()))
    return {"files": n} if n else None


def event(arg: dict, ctx: Context) -> Evidence:
    n = sum(1 for e in ctx.events if e.type == arg["type"])
    return {"events": {arg["type"]: n}} if n else None


def inventory_removable(arg: bool, ctx: Context) -> Evidence:
    disks = (ctx.device.inventory or {}).get("disks") or []
    n = sum(1 for d in disks if isinstance(d, dict) and d.get("removable") is True)
    return {"removable_disks": n} if arg and n else None


def policy(arg: dict, ctx: Context) -> Evidence:
    return {} if all(ctx.policy.get(k) == v for k, v in arg.items()) else None


def silent(arg: bool, ctx: Context) -> Evidence:
    after = timedelta(seconds=float(ctx.policy.get("silent_after_seconds", 259200)))
    seen = ctx.device.last_seen or ctx.device.enrolled_at
    if seen is not None and ctx.now - seen > after:
        return {"silent_seconds": int((ctx.now - seen).total_seconds())}
    return None


def lifecycle(arg: list, ctx: Context) -> Evidence:
    state = ctx.device.lifecycle_state
    return {"lifecycle_state": state} if state in arg else None


def medium_lifecycle(arg: list, ctx: Context) -> Evidence:
    """A removable drive in one of these lifecycle states (server/lifecycle) was mounted,
    per this check-in's media_mounted events."""
    from server.lifecycle.models import Medium

    keys = {(str(e.data.get("vendor") or ""), str(e.data.get("model") or ""),
             str(e.data.get("serial") or ""))
            for e in ctx.events if e.type == "media_mounted" and isinstance(e.data, dict)}
    keys.discard(("", "", ""))
    if not keys:
        return None
    gone = [m for m in Medium.objects.filter(lifecycle_state__in=arg,
                                             serial__in=[k[2] for k in keys])
            if (m.vendor, m.model, m.serial) in keys]
    if not gone:
        return None
    return {"media": sorted(m.pk for m in gone),
            "states": sorted({m.lifecycle_state for m in gone})}


def any_of(arg: list, ctx: Context) -> Evidence:
    found = [ev for c in arg if (ev := evaluate(c, ctx)) is not None]
    return _merge(found) if found else None


def all_of(arg: list, ctx: Context) -> Evidence:
    found = []
    for c in arg:
        ev = evaluate(c, ctx)
        if ev is None:
            return None
        found.append(ev)
    return _merge(found)


def _merge(evidence: list[dict]) -> dict:
    out: dict = {}
    for ev in evidence:
        out.update(ev)
    return out


CONDITIONS = {
    "check": check,
    "check_over_policy": check_over_policy,
    "finding": finding,
    "event": event,
    "inventory_removable": inventory_removable,
    "policy": policy,
    "silent": silent,
    "lifecycle": lifecycle,
    "medium_lifecycle": medium_lifecycle,
    "any": any_of,
    "all": all_of,
}


def evaluate(cond: dict, ctx: Context) -> Evidence:
    (name, arg), = cond.items()
    return CONDITIONS[name](arg, ctx)


def validate(cond: Any, where: str) -> None:
    """Raise ValueError naming the place of a malformed condition."""
    if not isinstance(cond, dict) or len(cond) != 1:
        raise ValueError(f"{where}: a condition is a mapping with exactly one key")
    (name, arg), = cond.items()
    if name not in CONDITIONS:
        raise ValueError(f"{where}: unknown condition {name!r} (known: {', '.join(CONDITIONS)})")
    if name in ("any", "all"):
        if not isinstance(arg, list) or not arg:
            raise ValueError(f"{where}.{name}: expected a non-empty list")
        for i, c in enumerate(arg):
            validate(c, f"{where}.{name}[{i}]")
    elif name == "check":
        if not isinstance(arg, dict) or not isinstance(arg.get("id"), str) or not isinstance(
                arg.get("status"), list):
            raise ValueError(f"{where}.check: needs id and a status list")
    elif name == "check_over_policy":
        if not isinstance(arg, dict) or not {"id", "field", "policy"} <= set(arg):
            raise ValueError(f"{where}.check_over_policy: needs id, field and policy")
    elif name == "finding":
        if not isinstance(arg, dict) or not set(arg) <= _FINDING_ATTRS:
            raise ValueError(f"{where}.finding: keys must be among {sorted(_FINDING_ATTRS)}")
    elif name == "event":
        if not isinstance(arg, dict) or not isinstance(arg.get("type"), str):
            raise ValueError(f"{where}.event: needs type")
    elif name in ("lifecycle", "medium_lifecycle"):
        if not isinstance(arg, list):
            raise ValueError(f"{where}.{name}: expected a list of states")
    elif name == "policy" and not isinstance(arg, dict):
        raise ValueError(f"{where}.policy: expected a mapping")
