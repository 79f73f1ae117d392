"""`phiwatch scan --format jsonl` writes FileResult.to_jsonl(): exactly the line that
json.dumps(to_json(), ensure_ascii=False) gives, for any path, kinds and reason."""

from __future__ import annotations

import json
import random

from agent.classifier.result import LABELS, FileResult


def _text(rng: random.Random) -> str:
    pieces = ["a", "Z", "é", "漢", "😀", '"', "\\", "/", " ", "\n", "\t", "\x00", "\x1f", "\x7f",
              "\u2028", "\udcff", "line 12", "!", "{", "}", ":"]
    return "".join(rng.choice(pieces) for _ in range(rng.randint(0, 12)))


def test_jsonl_line_is_json_dumps_of_to_json():
    rng = random.Random(3)
    for _ in range(5_000):
        r = FileResult(
            path=_text(rng) or "f",
            classification=rng.choice(LABELS),
            identifiers={_text(rng): rng.randint(0, 10**12) for _ in range(rng.randint(0, 3))},
            health={_text(rng): rng.randint(0, 5) for _ in range(rng.randint(0, 3))},
            format=rng.choice(["text", "csv", "fhir-json", _text(rng)]),
            bytes=rng.choice([0, 1, 2**40, rng.randint(0, 10**9)]),
            reason=rng.choice([None, "", _text(rng)]),
            first_evidence=rng.choice([None, "", "sheet Patients row 4", _text(rng)]),
        )
        assert r.to_jsonl() == json.dumps(r.to_json(), ensure_ascii=False)
