"""The first crawl: sorted, excludes honoured, resumable from its checkpoint, throttled by
a byte budget, and cheap on a rescan (the classifier's cache answers)."""

from __future__ import annotations

import json
import threading
from pathlib import Path

import pytest

from agent.watch.crawl import Crawler, walk
from agent.watch.roots import PathFilter, Root
from agent.watch.throttle import ByteBudget


def tree(root: Path) -> list[str]:
    files = [
        "a.txt",
        "b/c.txt",
        "b/d/e.txt",
        "b/node_modules/x.js",
        "f.txt",
        ".git/objects/ab",
        "g/.venv/lib/y.py",
        "g/h.csv",
        "z.txt",
    ]
    for f in files:
        p = root / f
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(f * 10)
    return ["a.txt", "b/c.txt", "b/d/e.txt", "f.txt", "g/h.csv", "z.txt"]


def rel(root: Path, items) -> list[str]:
    return [str(Path(p).relative_to(root)) for p, _ in items]


def test_walk_is_sorted_and_skips_excluded_folders(tmp_path):
    expected = tree(tmp_path)
    assert rel(tmp_path, walk(str(tmp_path), PathFilter())) == expected


@pytest.mark.parametrize(
    "after, rest",
    [
        ("a.txt", ["b/c.txt", "b/d/e.txt", "f.txt", "g/h.csv", "z.txt"]),
        ("b/c.txt", ["b/d/e.txt", "f.txt", "g/h.csv", "z.txt"]),
        ("b/d/e.txt", ["f.txt", "g/h.csv", "z.txt"]),
        ("g/h.csv", ["z.txt"]),
        ("z.txt", []),
    ],
)
def test_walk_resumes_after_a_checkpoint(tmp_path, after, rest):
    tree(tmp_path)
    assert rel(tmp_path, walk(str(tmp_path), PathFilter(), str(tmp_path / after))) == rest


def test_crawl_stopped_half_way_resumes_in_a_new_crawler(tmp_path):
    root = tmp_path / "root"
    expected = tree(root)
    state = tmp_path / "crawl.json"
    stop = threading.Event()
    seen: list[str] = []

    def handle_and_stop_after_three(path: str) -> None:
        seen.append(path)
        if len(seen) == 3:
            stop.set()  # the agent is killed / restarted here

    c1 = Crawler(state, PathFilter(), handle_and_stop_after_three, ByteBudget(0), stop)
    assert c1.crawl(Root(root)) is False
    saved = json.loads(state.read_text())["roots"][str(root)]
    assert saved["after"] == str(root / "b/d/e.txt") and saved["files"] == 3

    c2 = Crawler(state, PathFilter(), seen.append, ByteBudget(0), threading.Event())
    assert c2.crawl(Root(root)) is True
    assert rel(root, [(p, 0) for p in seen]) == expected  # each file exactly once
    done = json.loads(state.read_text())["roots"][str(root)]
    assert done["done"] is True and done["files"] == len(expected)


def test_byte_budget_makes_the_crawl_wait_for_its_bytes(tmp_path):
    root = tmp_path / "root"
    root.mkdir()
    for i in range(4):
        (root / f"f{i}").write_bytes(b"x" * 50_000)
    budget = ByteBudget(100_000)  # bucket starts full: 1 s of burst, then 0.5 s per file
    c = Crawler(tmp_path / "c.json", PathFilter(), lambda p: None, budget, threading.Event())
    assert c.crawl(Root(root))
    # 200 kB at 100 kB/s with 100 kB of burst: about 1 s of waiting (not timed: computed).
    assert budget.waited == pytest.approx(1.0, abs=0.05)


def test_cache_hits_cost_no_budget(tmp_path):
    root = tmp_path / "root"
    root.mkdir()
    (root / "f").write_bytes(b"x" * 1000)
    budget = ByteBudget(10)
    # The handler says the cache answered: nothing was read.
    c = Crawler(tmp_path / "c.json", PathFilter(), lambda p: 0, budget, threading.Event())
    assert c.crawl(Root(root)) and budget.waited == 0


def test_rescan_request_starts_over(tmp_path):
    root = tmp_path / "root"
    tree(root)
    seen: list[str] = []
    c = Crawler(tmp_path / "c.json", PathFilter(), seen.append, ByteBudget(0), threading.Event())
    assert c.crawl(Root(root)) and c.pending([Root(root)]) == []
    c.request_rescan([Root(root)])
    assert c.pending([Root(root)]) == [Root(root)]
    assert c.crawl(Root(root)) and len(seen) == 12
    assert c.progress()["roots"][str(root)]["last_files"] == 6
