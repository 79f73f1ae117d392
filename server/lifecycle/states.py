"""The lifecycle state machine, read from rules/lifecycle.yaml."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path

import yaml

from server.devices.models import LIFECYCLE_STATES

RULES = Path(__file__).resolve().parents[2] / "rules" / "lifecycle.yaml"


@dataclass(frozen=True)
class Move:
    to: str
    sources: tuple[str, ...]
    requires: tuple[str, ...] = ()
    movement: str | None = None  # "in" | "out": writes a receipt/removal line
    incident: bool = False  # opens a lost/stolen incident


@dataclass(frozen=True)
class Machine:
    states: dict[str, dict]
    moves: tuple[Move, ...]
    media_states: tuple[str, ...]
    evidence_max_age_days: int

    def move(self, from_state: str, to_state: str) -> Move | None:
        for m in self.moves:
            if m.to == to_state and from_state in m.sources:
                return m
        return None

    def targets(self, from_state: str, media: bool = False) -> list[str]:
        out = [m.to for m in self.moves if from_state in m.sources]
        if media:
            out = [s for s in out if s in self.media_states]
        return list(dict.fromkeys(out))

    def label(self, state: str) -> str:
        return self.states.get(state, {}).get("label", state)


@functools.cache
def machine() -> Machine:
    from server.lifecycle.guards import GUARDS

    data = yaml.safe_load(RULES.read_text())
    states = data["states"]
    known = {s for s, _ in LIFECYCLE_STATES}
    if set(states) != known:
        raise ValueError(f"{RULES}: states {sorted(set(states) ^ known)} differ from the Device model")
    moves = []
    for i, t in enumerate(data["transitions"]):
        for s in [*t["from"], t["to"]]:
            if s not in states:
                raise ValueError(f"{RULES}: transitions[{i}] names unknown state {s!r}")
        for g in t.get("requires", []):
            if g not in GUARDS:
                raise ValueError(f"{RULES}: transitions[{i}] requires unknown guard {g!r}")
        moves.append(Move(t["to"], tuple(t["from"]), tuple(t.get("requires", [])),
                          t.get("movement"), bool(t.get("incident"))))
    return Machine(states, tuple(moves), tuple(data["media_states"]),
                   int(data["encryption_evidence_max_age_days"]))
