"""The verdict cache: hits for unchanged files, misses for changed files or rules."""

from __future__ import annotations

import os

from agent.classifier import Cache, classify_file


def test_hit_miss_and_invalidation(tmp_path):
    f = tmp_path / "staff.csv"
    f.write_text("name,email\nKevin Wright,kwright@mercyvalley.org\n")
    cache = Cache(tmp_path / "c.sqlite", rules_digest="r1")
    first = classify_file(f, cache=cache)
    assert first.classification == "pii"
    assert cache.get(f, f.stat()).identifiers == first.identifiers
    f.write_text("a,b\n1,2\n")  # size and mtime change
    os.utime(f, ns=(1, 1))
    assert cache.get(f, f.stat()) is None
    assert classify_file(f, cache=cache).classification == "none"
    cache.close()
    other_rules = Cache(tmp_path / "c.sqlite", rules_digest="r2")
    assert other_rules.get(f, f.stat()) is None
    other_rules.close()


def test_cached_result_uses_current_path(tmp_path):
    f = tmp_path / "a.csv"
    f.write_text("name,email\nKevin Wright,kwright@mercyvalley.org\n")
    with Cache(tmp_path / "c.sqlite", rules_digest="r") as cache:
        classify_file(f, cache=cache)
        g = tmp_path / "b.csv"
        f.rename(g)  # same inode, size and mtime
        r = classify_file(g, cache=cache)
        assert r.path == str(g) and r.classification == "pii"


def test_a_locked_cache_costs_a_reread_not_the_verdict(tmp_path):
    f = tmp_path / "staff.csv"
    f.write_text("name,email\nKevin Wright,kwright@mercyvalley.org\n")
    g = tmp_path / "other.csv"
    g.write_text("name,email\nDawn Bailey,dbailey@mercyvalley.org\n")
    holder = Cache(tmp_path / "c.sqlite", rules_digest="r")
    holder.put(f, f.stat(), classify_file(f))  # uncommitted: holds the write lock
    waiter = Cache(tmp_path / "c.sqlite", rules_digest="r", timeout=0.05)
    r = classify_file(g, cache=waiter)  # its put times out
    assert r.classification == "pii" and r.identifiers.get("email") == 1
    waiter.close()
    holder.flush()  # lets go of the lock
    late = Cache(tmp_path / "c.sqlite", rules_digest="r", timeout=0.05)
    late.put(g, g.stat(), r)
    late.flush()
    assert late.get(g, g.stat()) is not None and late.get(f, f.stat()) is not None
    late.close()
    holder.close()


def test_one_pass_cache_skips_lookups_only_while_it_was_empty(tmp_path, monkeypatch):
    """`phiwatch scan` opens its cache one_pass: a first scan (empty cache) looks nothing
    up; the next scan answers unchanged files from the cache."""
    f = tmp_path / "staff.csv"
    f.write_text("name,email\nKevin Wright,kwright@mercyvalley.org\n")
    with Cache(tmp_path / "c.sqlite", rules_digest="r", one_pass=True) as first:
        assert first.get(f, f.stat()) is None
        classify_file(f, cache=first)
        assert first.get(f, f.stat()) is None  # no lookups in a first scan, even of its own
    import agent.classifier.scan as scan_mod

    def no_analysis(*_a, **_k):
        raise AssertionError("an unchanged file was analysed again")

    monkeypatch.setattr(scan_mod, "_classify", no_analysis)
    with Cache(tmp_path / "c.sqlite", rules_digest="r", one_pass=True) as second:
        assert classify_file(f, cache=second).classification == "pii"
