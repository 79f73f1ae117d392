"""Fixtures shared by every area. Area fixtures live in tests/<area>/conftest.py."""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.shared import corpus_builder


@dataclass
class Corpus:
    root: Path  # the folder with manifest.jsonl
    files: Path  # point the scanner here
    manifest: list[dict]

    def planted_values(self, min_len: int = 6) -> set[str]:
        return {v for m in self.manifest for v in m.get("values", []) if len(v) >= min_len}


def build_corpus(out: Path, seed: int) -> Corpus:
    if not (out / "manifest.jsonl").exists():
        subprocess.run([sys.executable, str(corpus_builder()), str(out), "--seed", str(seed)],
                       check=True, capture_output=True)
    manifest = [json.loads(line) for line in (out / "manifest.jsonl").read_text().splitlines() if line]
    return Corpus(out, out / "files", manifest)


@pytest.fixture(scope="session")
def corpus(tmp_path_factory) -> Corpus:
    """The dev corpus, seed 1, built once per test session."""
    return build_corpus(tmp_path_factory.mktemp("corpus1"), 1)


@pytest.fixture(scope="session")
def corpus_seed7(tmp_path_factory) -> Corpus:
    """A second corpus with another seed: other values, same templates."""
    return build_corpus(tmp_path_factory.mktemp("corpus7"), 7)
