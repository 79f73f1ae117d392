"""Files with the same bytes are analysed once per scan (scan.Duplicates)."""

from __future__ import annotations

import os

from agent.classifier import scan
from agent.classifier.scan import Duplicates, classify_file, scan_paths

NOTE = "Patient: Dawn Bailey  MRN: 31759180\nAssessment: Type 2 diabetes mellitus (E11.9).\n"


def test_copies_get_the_first_verdict_with_their_own_path(tmp_path, monkeypatch):
    for venv in ("venv-a", "venv-b", "venv-c"):
        (tmp_path / venv).mkdir()
        (tmp_path / venv / "note.txt").write_text(NOTE)
        (tmp_path / venv / "big.txt").write_text(("config line 42\n" * 5000) + NOTE)  # over HEAD_BYTES
    (tmp_path / "venv-c" / "other.txt").write_text(NOTE.replace("Dawn Bailey", "Wei Chen"))
    analysed = []
    real = scan._classify
    monkeypatch.setattr(scan, "_classify", lambda p, *a, **k: analysed.append(os.path.basename(p)) or real(p, *a, **k))
    results = {r.path: r for r in scan_paths([tmp_path])}
    assert sorted(analysed) == ["big.txt", "note.txt", "other.txt"]  # each content once
    for venv in ("venv-a", "venv-b", "venv-c"):
        r = results[str(tmp_path / venv / "note.txt")]
        alone = classify_file(tmp_path / venv / "note.txt")
        assert (r.classification, r.identifiers, r.health, r.first_evidence, r.bytes) == (
            alone.classification, alone.identifiers, alone.health, alone.first_evidence, alone.bytes)
        assert r.classification == "phi"
        assert results[str(tmp_path / venv / "big.txt")].classification == "phi"
    assert results[str(tmp_path / "venv-c" / "other.txt")].classification == "phi"


def test_a_changed_copy_is_analysed_again(tmp_path):
    dupes = Duplicates()
    a, b = tmp_path / "a.txt", tmp_path / "b.txt"
    a.write_text(NOTE)
    b.write_text(NOTE)
    assert classify_file(a, duplicates=dupes).classification == "phi"
    b.write_text("nothing to see\n")
    r = classify_file(b, duplicates=dupes)
    assert (r.classification, r.bytes) == ("none", len("nothing to see\n"))


def test_results_are_copies(tmp_path):
    dupes = Duplicates()
    for name in ("a.txt", "b.txt"):
        (tmp_path / name).write_text(NOTE)
    first = classify_file(tmp_path / "a.txt", duplicates=dupes)
    second = classify_file(tmp_path / "b.txt", duplicates=dupes)
    second.identifiers["mrn"] = 99
    assert first.identifiers.get("mrn") == 1 and second.path.endswith("b.txt")


def test_large_files_and_unreadable_files_are_not_compared(tmp_path):
    dupes = Duplicates()
    big = tmp_path / "big.log"
    big.write_bytes(b"x" * (Duplicates.MAX_BYTES + 1))
    assert dupes.read(str(big), big.stat()) == (None, None)
    locked = tmp_path / "locked.txt"
    locked.write_text(NOTE)
    locked.chmod(0)
    try:
        head, key = dupes.read(str(locked), locked.stat())
        if os.geteuid() != 0:  # root reads anything
            assert (head, key) == (None, None)
    finally:
        locked.chmod(0o600)


def test_a_file_up_to_a_mebibyte_is_read_once_with_the_same_verdict(tmp_path, monkeypatch):
    """The bytes read for the duplicate check (up to Duplicates.MAX_BYTES) are the ones
    analysed: a 300 KiB log is not opened again, and its verdict and location are those
    of reading it on its own."""
    import builtins

    p = tmp_path / "service.log"
    p.write_text("2026-01-02 INFO worker heartbeat ok seq=42\n" * 7000 + NOTE)
    assert 64 * 1024 < p.stat().st_size < Duplicates.MAX_BYTES
    alone = classify_file(p)
    opened = []
    real_open = builtins.open
    monkeypatch.setattr(builtins, "open", lambda f, *a, **k: opened.append(str(f)) or real_open(f, *a, **k))
    (r,) = list(scan_paths([p]))
    assert str(p) not in opened
    assert (r.classification, r.identifiers, r.health, r.first_evidence, r.format) == (
        alone.classification, alone.identifiers, alone.health, alone.first_evidence, alone.format)
    assert r.classification == "phi" and r.first_evidence == "line 7001"
