"""Every detector's fixtures, on both engines; and bad rules fail at load."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from agent.classifier import rules as rules_mod
from agent.classifier.errors import RuleError
from agent.classifier.rules import THRESHOLD, default_rules

DETECTORS = default_rules().detectors


def _hits(engine, det_id, line):
    idx = next(i for i, d in enumerate(engine.detectors) if d.id == det_id)
    d = engine.detectors[idx]
    # triggers count for nothing; their fixtures say where they fire
    floor = 0.0 if d.category == "trigger" else THRESHOLD
    return [h for h in engine.scan(line.encode()) if h.det == idx and h.score >= floor]


@pytest.mark.parametrize("det", DETECTORS, ids=[d.id for d in DETECTORS])
def test_detector_fixtures(engine, det):
    assert det.fixtures_match, f"{det.id} has no must-match fixture"
    for line in det.fixtures_match:
        assert _hits(engine, det.id, line), f"{det.id} missed a must-match fixture line"
    for line in det.fixtures_no_match:
        assert not _hits(engine, det.id, line), f"{det.id} fired on a must-not-match line"


def test_every_detector_has_reference_and_kind(rules):
    ids = [d.id for d in rules.detectors]
    assert len(ids) == len(set(ids))
    for d in rules.detectors:
        assert d.reference and d.kind and d.category in ("identifier", "health", "trigger")
    kinds = {d.kind for d in rules.detectors}
    # every HIPAA identifier that content can show has a detector (names: names.py)
    for k in ("ssn", "phone", "fax", "email", "mrn", "dob", "date", "address", "zip", "member_id",
              "mbi", "account", "license", "npi", "dea", "device_serial", "vehicle", "url", "ip", "age"):
        assert k in kinds, k
    for k in ("icd10", "ndc", "cpt", "loinc", "medication", "lab_result", "diagnosis", "encounter"):
        assert k in kinds, k


@pytest.fixture
def rules_copy(tmp_path):
    src = Path(rules_mod.vocab.rules_root())
    dst = tmp_path / "rules"
    shutil.copytree(src / "phi", dst / "phi")
    shutil.copytree(src / "health", dst / "health")
    return dst


BAD = [
    ("regex", "  - id: bad\n    kind: x\n    category: identifier\n    reference: r\n"
              "    patterns:\n      - regex: '(unclosed'\n        score: 0.5\n"
              "    fixtures:\n      match: [a]\n", "does not compile"),
    ("validator", "  - id: bad\n    kind: x\n    category: identifier\n    reference: r\n"
                  "    patterns:\n      - regex: 'a'\n        score: 0.5\n    validator: nope\n"
                  "    fixtures:\n      match: [a]\n", "unknown validator"),
    ("score", "  - id: bad\n    kind: x\n    category: identifier\n    reference: r\n"
              "    patterns:\n      - regex: 'a'\n        score: 1.5\n"
              "    fixtures:\n      match: [a]\n", "not in 0..1"),
    ("duplicate", "  - id: ssn.formatted\n    kind: x\n    category: identifier\n    reference: r\n"
                  "    patterns:\n      - regex: 'a'\n        score: 0.5\n"
                  "    fixtures:\n      match: [a]\n", "duplicate"),
    ("reference", "  - id: bad\n    kind: x\n    category: identifier\n"
                  "    patterns:\n      - regex: 'a'\n        score: 0.5\n"
                  "    fixtures:\n      match: [a]\n", "missing reference"),
    ("fixture", "  - id: bad\n    kind: x\n    category: identifier\n    reference: r\n"
                "    patterns:\n      - regex: 'a'\n        score: 0.5\n", "fixtures.match"),
    ("requires-shape", "  - id: bad\n    kind: x\n    category: identifier\n    reference: r\n"
                       "    patterns:\n      - regex: 'a'\n        score: 0.5\n    requires: [[]]\n"
                       "    fixtures:\n      match: [a]\n", "word lists and regexes"),
    ("requires-fixture", "  - id: bad\n    kind: x\n    category: identifier\n    reference: r\n"
                         "    patterns:\n      - regex: 'a'\n        score: 0.5\n    requires: [[b, c]]\n"
                         "    fixtures:\n      match: [a]\n", "does not hold what"),
]


@pytest.mark.parametrize("name,body,message", BAD, ids=[b[0] for b in BAD])
def test_bad_rule_fails_at_load(rules_copy, name, body, message):
    (rules_copy / "phi" / "zz_bad.yaml").write_text("detectors:\n" + body)
    with pytest.raises(RuleError, match=message):
        rules_mod.load(rules_copy)


def test_rules_digest_changes_with_content(rules_copy):
    before = rules_mod.load(rules_copy).digest
    f = rules_copy / "phi" / "email.yaml"
    f.write_text(f.read_text().replace("score: 0.6", "score: 0.65"))
    assert rules_mod.load(rules_copy).digest != before


def test_header_dictionary(rules):
    kinds = lambda h: {k for _, _, k in rules_mod.header_kinds(rules.headers, h)[0]}  # noqa: E731
    assert kinds("Pt Name") == {"name"}
    assert kinds("MRN#") == {"mrn"}
    assert kinds("D.O.B.") == {"dob"}
    assert "icd10" in kinds("Dx")
    assert "icd10" in kinds("primary_dx_icd10")
    assert kinds("prescriber_npi") == {"npi"}
    assert rules_mod.header_kinds(rules.headers, "part_no")[1] is True


def test_each_street_suffix_and_state_prefilter_finds_its_address(hs_engine, re_engine):
    """EACH_SUFFIX / EACH_STATE expand an anchor per list item: every suffix and every state
    must still lead to the address and ZIP the pure-Python engine finds."""
    from agent.classifier import vocab

    suffixes = vocab.read_list(vocab.rules_root() / "phi" / "data" / "street_suffixes.txt")
    lines = [f"Home address: {100 + i} Maple {s}, Springfield, {st} {10000 + i}"
             for i, (s, st) in enumerate(zip(suffixes, sorted(vocab.US_STATES) * 10, strict=False))]
    assert len(lines) == len(suffixes) > 200
    text = "\n".join(lines).encode()
    found = {}
    for name, engine in (("hs", hs_engine), ("re", re_engine)):
        hits = [h for h in engine.scan(text) if h.counted and h.kind in ("address", "zip")]
        found[name] = sorted((h.kind, h.start, h.end) for h in hits)
    assert found["hs"] == found["re"]
    assert sum(k == "address" for k, _, _ in found["hs"]) == len(lines)
    assert sum(k == "zip" for k, _, _ in found["hs"]) == len(lines)


@pytest.mark.parametrize("mode", ["hyperscan", "re"])
def test_requires_skips_windows_without_its_words_only(mode, monkeypatch):
    """name_fields requires a given-name and a family-name key: `first=True` in code is
    not read by its regexes, a split name is found in any case and anywhere in the window."""
    from agent.classifier import engine as engine_mod

    if mode == "hyperscan" and engine_mod.hyperscan is None:
        pytest.skip("hyperscan not importable")
    engine = engine_mod.Engine(rules_mod.default_rules(), mode=mode)
    di = next(i for i, d in enumerate(engine.detectors) if d.id == "name_fields")
    assert engine.detectors[di].requires
    read: list[list[tuple[int, int]]] = []
    confirm = engine_mod.Engine._confirm

    def spy(self, d, pi, data, spans, out, seen):
        if d == di:
            read.append(spans)
        return confirm(self, d, pi, data, spans, out, seen)

    monkeypatch.setattr(engine_mod.Engine, "_confirm", spy)

    def kinds(data: bytes) -> list[str]:
        read.clear()
        return [h.kind for h in engine.scan(data) if h.counted]

    assert "name" in kinds(b'{"FIRST_NAME": "Dawn", ' + b" " * 100 + b'"LAST_NAME": "Bailey"}')
    assert "name" in kinds(b"Surname = Bailey; Forename = Dawn")
    assert "name" not in kinds(b"def f(first=True, other=None):\n    return first\n")
    assert all(spans == [] for spans in read)  # the regexes ran over nothing
