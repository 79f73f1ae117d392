"""Result paths are ``str(Path(path))`` whichever way the path was given (scan.py's
_normal skips building a Path for paths that are normal already)."""

from __future__ import annotations

import os
import random
from pathlib import Path

import pytest

from agent.classifier.scan import _normal


@pytest.mark.skipif(os.sep != "/", reason="POSIX paths")
def test_normal_is_what_path_gives():
    rng = random.Random(7)
    cases = ["", ".", "./", "a", "a/", "/", "//", "///a", "a//b", "./a", "a/.", "a/./b", "../a",
             "a/..", ".a", "a.", "a/.b", "/tmp/x.csv", "x/./", "a/b/"]
    cases += ["".join(rng.choice("/.ab") for _ in range(rng.randint(1, 9))) for _ in range(20_000)]
    for c in cases:
        assert _normal(c) == str(Path(c)), c
    assert _normal(Path("a//b")) == "a/b"
