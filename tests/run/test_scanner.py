"""The classifier child processes: classify over the pipe, use the verdict cache, exit
when idle, come back after a crash."""

from __future__ import annotations

import shutil

import pytest

from agent.watch.scanner import FIRST_LOOK_BYTES, ScannerPool
from tests.run.conftest import sample


@pytest.fixture
def pool(agent_home):
    p = ScannerPool(idle_timeout=0.0)
    yield p
    p.close()


def test_child_classifies_and_the_cache_answers_the_second_time(pool, corpus, tmp_path):
    f = tmp_path / "visit.hl7"
    shutil.copyfile(sample(corpus, "phi", "hl7")[0], f)
    first, read1 = pool.classify(str(f))
    again, read2 = pool.classify(str(f))
    assert first.classification == "phi" and sum(first.health.values()) > 0
    assert (again.classification, again.identifiers, again.health) == (
        first.classification,
        first.identifiers,
        first.health,
    )
    assert read1 == f.stat().st_size and read2 == 0  # the cache answered
    assert pool.lanes["deep"].started == 1


def test_first_look_reads_at_most_a_mib(pool, corpus, tmp_path):
    lines = sample(corpus, "phi", "csv")[0].read_bytes().splitlines(keepends=True)
    body = bytearray(lines[0])
    while len(body) < 3 * FIRST_LOOK_BYTES:
        body += b"".join(lines[1:])
    f = tmp_path / "big.csv"
    f.write_bytes(body)
    r, read = pool.classify(str(f), first_look=True, lane="quick")
    assert r.classification == "phi" and read == FIRST_LOOK_BYTES


def test_idle_child_exits_and_a_dead_one_is_replaced(pool, tmp_path):
    f = tmp_path / "plain.txt"
    f.write_text("Sprint notes: ship the release on Friday.\n")
    assert pool.classify(str(f))[0].classification == "none"
    assert pool.alive()["deep"] is True
    pool.reap()  # idle_timeout 0: the child goes
    assert pool.alive()["deep"] is False
    assert pool.classify(str(f))[0].classification == "none"  # started again on demand
    pool.lanes["deep"].proc.kill()
    pool.lanes["deep"].proc.wait()
    assert pool.classify(str(f))[0].classification == "none"  # replaced after a crash
    assert pool.lanes["deep"].started == 3


def test_missing_file_is_an_error_not_a_crash(pool, tmp_path):
    r, read = pool.classify(str(tmp_path / "gone.csv"))
    assert (r.classification, read) == ("error", 0)
    assert r.reason == "scanner: FileNotFoundError"


def test_the_two_children_write_the_shared_cache_in_turn(pool, corpus, tmp_path):
    """The quick and the deep child share scan.sqlite: a child waiting for its next file
    must not hold the write lock (the other child's verdicts failed with 'database is
    locked' and PHI files went unreported)."""
    src = sample(corpus, "phi", "hl7")[0]
    files = []
    for i in range(4):
        f = tmp_path / f"visit{i}.hl7"
        f.write_bytes(src.read_bytes() + f"\rNTE|{i}|note {i}".encode())
        files.append(f)
    for i, f in enumerate(files):
        r, _ = pool.classify(str(f), lane="quick" if i % 2 else "deep")
        assert r.classification == "phi"
