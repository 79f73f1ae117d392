"""No planted value may appear in stdout, stderr or anywhere under PHIWATCH_HOME."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.leaks import found

ROOT = Path(__file__).resolve().parents[2]


def test_no_planted_value_leaks(corpus, tmp_path):
    # PHIWATCH_ENGINE_CACHE is left unset: the compiled engine lands under PHIWATCH_HOME
    # and is searched too.
    values = corpus.planted_values(6)
    assert len(values) > 500
    home = tmp_path / "home"
    env = {k: v for k, v in os.environ.items() if not k.startswith("PHIWATCH_")}
    env["PHIWATCH_HOME"] = str(home)
    outputs = []
    # every output format, a cold and a warm cache
    for args in (["--format", "jsonl"], ["--format", "table"], ["--format", "jsonl"], []):
        p = subprocess.run([sys.executable, "-m", "agent", "scan", str(corpus.files), *args],
                           capture_output=True, env=env, cwd=ROOT, timeout=300)
        assert p.returncode == 1, p.stderr[-2000:]
        outputs += [p.stdout, p.stderr]
    state = [f.read_bytes() for f in home.rglob("*") if f.is_file()]
    assert state, "the scan cache should exist under PHIWATCH_HOME"
    blob = b"\n".join(outputs + state)
    # paths are printed; strip them so a value that is only part of a file name would
    # still be caught elsewhere but the corpus's own folder names are not.
    blob = blob.replace(str(corpus.files).encode(), b"")
    # Every planted value counts, dictionary words included: the compiled engine under
    # PHIWATCH_HOME is stored compressed, so the shipped lists do not read as names there.
    leaked = found(values, blob.decode("utf-8", "replace"))
    assert not leaked, f"{len(leaked)} planted values leaked (first kinds hidden)"
