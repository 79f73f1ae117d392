"""The PyInstaller onefile binary behaves like the Python package it is built from."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from PyInstaller.archive.readers import CArchiveReader

from agent import __version__
from tests.installers.helpers import ROOT, skip_if_not_implemented
from tests.leaks import found

# The first test builds the binary (1.5 to 3 minutes on 2 busy cores): above the 300 s default.
pytestmark = [pytest.mark.slow, pytest.mark.timeout(1800)]


def run(argv: list[str], home: Path, cwd: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "PHIWATCH_HOME": str(home)}
    env.pop("PHIWATCH_RULES", None)  # each side reads its own rules/
    return subprocess.run(argv, capture_output=True, text=True, env=env, cwd=cwd, timeout=600)


def package_cmd() -> list[str]:
    # `python -m agent` from the build's source snapshot: cwd comes first on sys.path.
    return [sys.executable, "-m", "agent"]


def test_version_and_build_stamp(binary, tmp_path):
    out = run([str(binary), "--version"], tmp_path, tmp_path)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == f"phiwatch {__version__}"
    versioned = binary.parent / f"phiwatch-{__version__}-linux-{os.uname().machine}"
    assert versioned.read_bytes() == binary.read_bytes()

    archive = CArchiveReader(str(binary))
    stamp = json.loads(archive.extract("phiwatch-build.json"))
    assert stamp["version"] == __version__
    assert stamp["platform"] == "linux"
    # The commit the binary was built from (others may commit to main meanwhile).
    if (ROOT / ".git").exists():
        ancestor = subprocess.run(
            ["git", "-C", str(ROOT), "merge-base", "--is-ancestor", stamp["commit"], "HEAD"]
        )
        assert ancestor.returncode == 0, stamp["commit"]
    else:  # a source tarball: no history to point at
        assert stamp["commit"] == "unknown"


def test_rules_and_data_are_bundled_and_the_server_is_not(binary, source):
    names = set(CArchiveReader(str(binary)).toc)
    shipped = {
        "rules/" + p.relative_to(source / "rules").as_posix()
        for p in (source / "rules").rglob("*")
        if p.is_file() and "__pycache__" not in p.parts
    }
    assert "rules/policy.yaml" in shipped
    assert shipped <= names, sorted(shipped - names)
    # The agent binary carries agent/ only (DESIGN.md): no Django, no server package.
    pyz = next(n for n in names if n.endswith(".pyz"))
    modules = set(CArchiveReader(str(binary)).open_embedded_archive(pyz).toc)
    assert "agent.cli" in modules and "agent.commands.scan" in modules
    assert not [m for m in modules if m.split(".")[0] in {"server", "django", "ninja"}]
    # Picked at run time, so invisible to PyInstaller's analysis (deployment.md 5.3):
    # watchdog's native Linux observer (else it silently polls) and keyring's backends,
    # which it finds through its entry points (so its metadata must be there too).
    assert "watchdog.observers.inotify" in modules
    assert "keyring.backends.SecretService" in modules
    assert any(n.startswith("keyring-") and n.endswith("entry_points.txt") for n in names)
    # Package data goes with the package that reads it at import time.
    if "simple_icd_10_cm" in modules:
        assert any(n.startswith("simple_icd_10_cm/data/") for n in names)
    # The trimmed pyarrow: Parquet stays, Flight and S3 are gone (installers/phiwatch.spec).
    if "pyarrow.parquet" in modules:
        assert "pyarrow/libparquet.so.2600" in names or any("libparquet" in n for n in names)
        assert not [n for n in names if "libarrow_flight" in n and n.startswith("pyarrow/")]
        assert "pyarrow._flight" not in modules


def test_scan_gives_the_same_verdicts_as_the_package(binary, source, corpus, tmp_path):
    skip_if_not_implemented("scan")
    cmd = ["scan", str(corpus.files), "--format", "jsonl"]
    package = run([*package_cmd(), *cmd], tmp_path / "pkg", source)
    frozen = run([str(binary), *cmd], tmp_path / "bin", source)
    assert frozen.returncode == package.returncode, frozen.stderr[-3000:]

    def verdicts(stdout: str) -> dict[str, tuple]:
        rows = [json.loads(line) for line in stdout.splitlines() if line.strip()]
        return {
            r["path"]: (r["classification"], r.get("identifiers"), r.get("health"), r.get("format"))
            for r in rows
        }

    expected, got = verdicts(package.stdout), verdicts(frozen.stdout)
    assert len(expected) >= len(corpus.manifest)
    # (A crash of the frozen app also exits 1, like "PHI found": show its stderr.)
    assert got == expected, frozen.stderr[-3000:]
    # Every kind of verdict really happened (a binary missing its rules would say "none").
    assert {"phi", "pii", "none"} <= {v[0] for v in got.values()}
    # No PHI value escapes the frozen build either: nothing in its output, and nothing in
    # its home that the package's own run did not write too (the classifier's caches, e.g.
    # its compiled name lexicon, are the classifier tests' business; freezing adds none).
    assert not found(corpus.planted_values(), frozen.stdout + frozen.stderr)

    def found_under(home: Path) -> set[str]:
        blobs = [f.read_bytes().decode("utf-8", "replace") for f in home.rglob("*") if f.is_file()]
        return {v for b in blobs for v in found(corpus.planted_values(), b)}

    assert found_under(tmp_path / "bin") <= found_under(tmp_path / "pkg")


def test_posture_gives_the_same_verdicts_as_the_package(binary, source, tmp_path):
    skip_if_not_implemented("posture")
    cmd = ["posture", "--format", "json"]
    package = run([*package_cmd(), *cmd], tmp_path / "pkg", source)
    frozen = run([str(binary), *cmd], tmp_path / "bin", source)
    assert frozen.returncode == package.returncode, frozen.stderr[-3000:]

    def verdicts(stdout: str) -> dict[str, tuple]:
        data = json.loads(stdout)
        checks = data["checks"] if isinstance(data, dict) else data
        return {c["id"]: (c["status"], c.get("reason")) for c in checks}

    expected, got = verdicts(package.stdout), verdicts(frozen.stdout)
    assert {"disk_encryption", "screen_lock", "firewall"} <= set(got)
    # Same machine, same verdicts: the frozen runner reaches the same OS tools (its
    # children get the system's LD_LIBRARY_PATH back, installers/pyi_rth_phiwatch.py).
    assert got == expected
