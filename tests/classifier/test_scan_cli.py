"""`phiwatch scan` as a user runs it: a real subprocess, real files, PHIWATCH_HOME in tmp."""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

NOTE = (
    "PROGRESS NOTE\n\nPatient: Dawn Bailey    MRN: 31759180    DOB: 03/04/1970\n"
    "Assessment: Type 2 diabetes mellitus without complications (E11.9).\n"
    "Plan: continue metformin 500 mg PO BID.\n"
)
STAFF = "name,department,email\nKevin Wright,Finance,kwright@mercyvalley.org\nAmy Lopez,IT,alopez@mercyvalley.org\n"
CLEAN = "def add(a, b):\n    return a + b\n"


@pytest.fixture(autouse=True)
def _shared_engine(engine_cache, monkeypatch):
    monkeypatch.setenv("PHIWATCH_TEST_ENGINE_CACHE", str(engine_cache))


def _run(args, home, **kw):
    env = {k: v for k, v in os.environ.items() if not k.startswith("PHIWATCH_")}
    if "PHIWATCH_ENGINE" in os.environ:
        env["PHIWATCH_ENGINE"] = os.environ["PHIWATCH_ENGINE"]
    env["PHIWATCH_HOME"] = str(home)
    env["PHIWATCH_ENGINE_CACHE"] = os.environ["PHIWATCH_TEST_ENGINE_CACHE"]
    return subprocess.run([sys.executable, "-m", "agent", "scan", *args], capture_output=True,
                          text=True, env=env, cwd=ROOT, timeout=120, **kw)


@pytest.fixture
def tree(tmp_path):
    d = tmp_path / "data"
    d.mkdir()
    (d / "note.txt").write_text(NOTE)
    (d / "staff.csv").write_text(STAFF)
    (d / "add.py").write_text(CLEAN)
    return d


def test_jsonl_contract_and_exit_1(tree, tmp_path):
    p = _run([str(tree), "--format", "jsonl"], tmp_path / "home")
    assert p.returncode == 1, p.stderr
    rows = {Path(r["path"]).name: r for r in map(json.loads, p.stdout.splitlines())}
    assert set(rows) == {"note.txt", "staff.csv", "add.py"}
    for r in rows.values():
        assert {"path", "classification", "identifiers", "health", "format", "bytes"} <= set(r)
    assert rows["note.txt"]["classification"] == "phi"
    assert rows["note.txt"]["identifiers"]["mrn"] == 1
    assert rows["note.txt"]["health"]["icd10"] == 1
    assert rows["staff.csv"]["classification"] == "pii"
    assert rows["staff.csv"]["identifiers"] == {"name": 2, "email": 2}
    assert rows["add.py"]["classification"] == "none"
    assert rows["note.txt"]["bytes"] == len(NOTE.encode())
    assert p.stderr == ""  # no progress when stderr is not a terminal


def test_table_is_readable(tree, tmp_path):
    p = _run([str(tree)], tmp_path / "home")
    assert p.returncode == 1
    lines = p.stdout.splitlines()
    assert lines[0].split()[:2] == ["VERDICT", "PATH"]
    note = next(ln for ln in lines if "note.txt" in ln)
    assert note.startswith("phi") and "line 3" in note and "mrn 1" in note and "icd10 1" in note
    assert lines[-1] == "3 files scanned: 1 phi, 1 pii, 1 none, 0 error"
    assert "add.py" not in p.stdout  # clean files are only counted


def test_exit_0_when_clean_and_2_on_usage(tree, tmp_path):
    assert _run([str(tree / "add.py")], tmp_path / "h").returncode == 0
    bad = _run([str(tree / "missing.txt")], tmp_path / "h")
    assert bad.returncode == 2 and "no such file" in bad.stderr
    assert _run(["--format", "xml", str(tree)], tmp_path / "h").returncode == 2
    assert _run([], tmp_path / "h").returncode == 2


def test_engine_choice(tree, tmp_path, monkeypatch):
    monkeypatch.setenv("PHIWATCH_ENGINE", "re")
    env_re = _run([str(tree), "--format", "jsonl"], tmp_path / "h1")
    monkeypatch.delenv("PHIWATCH_ENGINE")
    env_hs = _run([str(tree), "--format", "jsonl"], tmp_path / "h2")
    assert env_re.stdout == env_hs.stdout and env_re.returncode == 1
    monkeypatch.setenv("PHIWATCH_ENGINE", "bogus")
    bad = _run([str(tree)], tmp_path / "h3")
    assert bad.returncode == 2 and "PHIWATCH_ENGINE" in bad.stderr


def test_error_has_reason(tmp_path, corpus):
    good = corpus.files / "office" / "census_000.xlsx"
    f = tmp_path / "truncated.xlsx"
    f.write_bytes(good.read_bytes()[:3000])
    p = _run([str(f), "--format", "jsonl"], tmp_path / "h")
    r = json.loads(p.stdout)
    assert r["classification"] == "error" and r["format"] == "xlsx"
    assert r["reason"].startswith("corrupt xlsx")
    assert p.returncode == 0


def test_cache_is_used_and_holds_no_paths(tree, tmp_path):
    home = tmp_path / "home"
    first = _run([str(tree), "--format", "jsonl"], home).stdout
    db = home / "cache" / "scan.sqlite"
    assert db.exists()
    con = sqlite3.connect(db)
    assert con.execute("SELECT count(*) FROM verdicts").fetchone()[0] == 3
    con.close()
    assert b"note.txt" not in db.read_bytes() and b"data" + bytes([47]) not in db.read_bytes()
    # a cache hit gives the same answer
    assert _run([str(tree), "--format", "jsonl"], home).stdout == first


@pytest.mark.parametrize("unbuffered", ["", "1"])
def test_jsonl_is_written_in_chunks_and_a_closed_pipe_stops_quietly(tmp_path, unbuffered):
    """Lines go out a few KiB at a time even under PYTHONUNBUFFERED=1 (a write per line
    made a piped scan ~8% slower); every line arrives; a reader that leaves early (`| head`)
    ends the scan without a traceback."""
    folder = tmp_path / "src"
    folder.mkdir()
    for i in range(400):
        (folder / f"m{i:03d}.py").write_text(CLEAN)
    (folder / "note.txt").write_text(NOTE)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PHIWATCH_", "PYTHONUNBUFFERED"))}
    env.update(PHIWATCH_HOME=str(tmp_path / "home"), PYTHONUNBUFFERED=unbuffered,
               PHIWATCH_ENGINE_CACHE=os.environ["PHIWATCH_TEST_ENGINE_CACHE"])
    args = [sys.executable, "-m", "agent", "scan", str(folder), "--format", "jsonl"]
    full = subprocess.run(args, capture_output=True, text=True, env=env, cwd=ROOT, timeout=120)
    assert full.returncode == 1 and len(full.stdout.splitlines()) == 401
    writes = tmp_path / "writes"
    traced = subprocess.run(["strace", "-f", "-e", "trace=write", "-o", str(writes), *args],
                            capture_output=True, env=env, cwd=ROOT, timeout=120) \
        if shutil.which("strace") else None
    if traced is not None and traced.returncode == 1 and writes.exists():  # ptrace may be refused
        to_stdout = [w for w in writes.read_text().splitlines() if "write(1," in w]
        assert 0 < len(to_stdout) < 40  # ~45 KiB of lines: not one write each
    p = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, cwd=ROOT)
    assert p.stdout.readline().startswith(b'{"path": ')
    p.stdout.close()  # as `head -1` does
    err = p.stderr.read().decode()
    assert p.wait(timeout=120) in (0, 1) and "Traceback" not in err
