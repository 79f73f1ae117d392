"""Text dense with identifiers stays linear: a location is worked out only for the first
strong identifier, and name offsets are converted to bytes incrementally. (A 20 MB export
with 300,000 names used to run out of its 60 s budget at a third of the file.)"""

from __future__ import annotations

from agent.classifier import evidence
from agent.classifier.evidence import Evidence, analyze_bytes
from agent.classifier.names import find_names

LINE = "Patient: {} {}  MRN: {}  seen for follow-up and stable.\n"
FIRST = ["Dawn", "José", "María", "Wei", "Aisha", "Noah", "Zoë", "Liam"]
LAST = ["Bailey", "Núñez", "Gonzalez", "Chen", "Khan", "Rivera", "Brown", "Lee"]


def _dense(n: int) -> bytes:
    return "".join(LINE.format(FIRST[i % 8], LAST[(i * 3) % 8], 31759180 + i) for i in range(n)).encode()


def test_locations_are_worked_out_once(hs_engine, monkeypatch):
    calls = []
    real = evidence._locate
    monkeypatch.setattr(evidence, "_locate", lambda *a: calls.append(a[1]) or real(*a))
    ev = Evidence()
    analyze_bytes(hs_engine, _dense(5_000), ev, where="", line=1)
    assert ev.identifiers["mrn"] == 5_000 and ev.identifiers["name"] == 5_000
    assert ev.where() == "line 1"
    assert len(calls) <= 2  # the first strong identifier (and a PHI mark, if any)


def test_name_offsets_are_byte_offsets_in_non_ascii_text():
    data = _dense(2_000)
    hits = find_names(data, 0)
    assert len(hits) == 2_000
    for h in hits:
        name = data[h.start:h.end].decode()
        first, last = name.split(" ")
        assert first in FIRST and last in LAST
