"""Real watchdog events in temp folders drive the real daemon: create, modify, move,
delete, a slow writer, an extracted archive. Notifications go to a real notification
server on a private D-Bus session."""

from __future__ import annotations

import os
import shutil
import time
import zipfile

import pytest

from tests.run.conftest import Observed, sample, wait_for

pytestmark = pytest.mark.usefixtures("no_leaked_threads")


def events_of(daemon, type_: str) -> list[dict]:
    return [e for e in daemon.store.pending_events() if e["type"] == type_]


def open_paths(daemon) -> set[str]:
    return {f["path"] for f in daemon.store.open_findings()}


def test_created_phi_file_opens_a_finding_and_warns(make_daemon, notifications, corpus, tmp_path):
    root = tmp_path / "root"
    root.mkdir()
    d = make_daemon([root])
    src = sample(corpus, "phi", "csv")[0]
    dest = root / "patients.csv"
    shutil.copyfile(src, dest)

    assert wait_for(lambda: str(dest) in open_paths(d))
    f = next(f for f in d.store.open_findings() if f["path"] == str(dest))
    assert f["classification"] == "phi"
    assert sum(f["identifiers"].values()) > 0 and sum(f["health"].values()) > 0
    shown = wait_for(notifications.received)
    assert len(shown) == 1
    assert shown[0]["app"] == "phiwatch"
    assert shown[0]["summary"].startswith("PHI found") and "patients.csv" in shown[0]["summary"]
    assert str(dest) in shown[0]["body"]
    assert events_of(d, "finding_opened")[-1]["data"]["path"] == str(dest)


def test_modify_to_phi_then_clean_resolves_as_cleaned(make_daemon, corpus, tmp_path):
    root = tmp_path / "root"
    root.mkdir()
    clean = b"Sprint notes: ship the release on Friday, then refactor the parser.\n"
    target = root / "notes.txt"
    target.write_bytes(clean)
    d = make_daemon([root])
    assert open_paths(d) == set()

    target.write_bytes(sample(corpus, "phi", "txt")[0].read_bytes())
    assert wait_for(lambda: str(target) in open_paths(d))
    target.write_bytes(clean)
    assert wait_for(lambda: str(target) not in open_paths(d))
    resolved = events_of(d, "finding_resolved")
    assert [e["data"] for e in resolved] == [{"path": str(target), "reason": "cleaned"}]


def test_move_and_delete_resolve_findings(make_daemon, corpus, tmp_path):
    root, outside = tmp_path / "root", tmp_path / "outside"
    root.mkdir()
    outside.mkdir()
    a = root / "a.hl7"
    shutil.copyfile(sample(corpus, "phi", "hl7")[0], a)
    (root / "sub").mkdir()
    for i, src in enumerate(sample(corpus, "phi", "txt", n=2)):
        shutil.copyfile(src, root / "sub" / f"n{i}.txt")
    d = make_daemon([root])  # the first crawl finds all three
    assert open_paths(d) == {str(a), str(root / "sub/n0.txt"), str(root / "sub/n1.txt")}

    b = root / "b.hl7"
    os.rename(a, b)  # moved inside the root: old finding resolved, new one opened
    assert wait_for(lambda: open_paths(d) >= {str(b)} and str(a) not in open_paths(d))
    shutil.move(str(b), outside / "b.hl7")  # moved out of the watched root
    assert wait_for(lambda: str(b) not in open_paths(d))
    shutil.rmtree(root / "sub")  # a folder deleted: every finding under it
    assert wait_for(lambda: open_paths(d) == set())

    reasons = sorted(
        (e["data"]["path"], e["data"]["reason"]) for e in events_of(d, "finding_resolved")
    )
    # A rename out of the watched tree reaches inotify as a lone IN_MOVED_FROM, which
    # watchdog reports as a delete: from the agent's view the file is gone.
    assert reasons == [
        (str(a), "moved"),
        (str(b), "deleted"),
        (str(root / "sub/n0.txt"), "deleted"),
        (str(root / "sub/n1.txt"), "deleted"),
    ]


def test_slow_writer_is_scanned_once_complete(make_daemon, corpus, tmp_path):
    root = tmp_path / "root"
    root.mkdir()
    observed = Observed()
    d = make_daemon([root], classify=observed)
    data = sample(corpus, "phi", "csv")[0].read_bytes()
    target = root / "export.csv"
    chunks = [data[i : i + len(data) // 5 + 1] for i in range(0, len(data), len(data) // 5 + 1)]
    with open(target, "wb") as f:
        for chunk in chunks:  # pauses longer than the debounce's settle time
            f.write(chunk)
            f.flush()
            time.sleep(0.6)
        assert observed.sizes(target) == []  # nothing scanned while the writer holds it
    assert wait_for(lambda: str(target) in open_paths(d))
    time.sleep(0.5)  # give a (wrong) second scan the chance to happen
    assert observed.sizes(target) == [len(data)]


def test_extracted_archive_gives_one_summary(make_daemon, notifications, corpus, tmp_path):
    root = tmp_path / "root"
    root.mkdir()
    d = make_daemon([root], hold=60)  # a slow CI machine still folds all 20 into one
    phi = sample(corpus, "phi", "hl7", n=10) + sample(corpus, "phi", "csv", n=10)
    archive = tmp_path / "export.zip"
    with zipfile.ZipFile(archive, "w") as z:
        for i, p in enumerate(phi):
            z.write(p, f"export/part{i:02d}{p.suffix}")
    with zipfile.ZipFile(archive) as z:
        z.extractall(root)

    assert wait_for(lambda: len(open_paths(d)) == 20, timeout=30), len(open_paths(d))
    assert wait_for(
        lambda: "20 files" in (notifications.received() or [{}])[-1].get("summary", "")
    ), notifications.received()
    shown = notifications.received()
    # One notification on screen: every later call replaces the first one's id.
    assert {n["id"] for n in shown} == {shown[0]["id"]}
    assert all(n["replaces"] == shown[0]["id"] for n in shown[1:])
    assert shown[-1]["summary"].startswith("PHI found in 20 files")
    assert "export" in shown[-1]["body"]


def test_big_file_warns_after_a_first_look_then_full_counts(make_daemon, corpus, tmp_path):
    from agent.daemon import FIRST_LOOK_BYTES

    root = tmp_path / "root"
    root.mkdir()
    observed = Observed()
    d = make_daemon([root], classify=observed)
    lines = sample(corpus, "phi", "csv")[0].read_bytes().splitlines(keepends=True)
    body = bytearray(lines[0])
    while len(body) < 3 * FIRST_LOOK_BYTES:
        body += b"".join(lines[1:])
    target = root / "big_extract.csv"
    target.write_bytes(body)

    assert wait_for(lambda: str(target) in open_paths(d))
    assert wait_for(lambda: len(observed.sizes(target)) == 2 and d.wait_idle(30), timeout=60)
    full = next(f for f in d.store.open_findings() if f["path"] == str(target))
    # Two passes over the whole, closed file: the first look (first MiB of text) and
    # the full pass, whose verdict stands; one finding, one opening event.
    assert full["classification"] == "phi" and sum(full["identifiers"].values()) > 0
    assert observed.sizes(target) == [len(body), len(body)]
    assert len(events_of(d, "finding_opened")) == 1


def test_new_phi_triggers_an_early_check_in(make_daemon, corpus, tmp_path, monkeypatch):
    import threading

    from agent import daemon as daemon_mod
    from agent.reporter import Reporter

    monkeypatch.setattr(daemon_mod, "EARLY_CHECKIN_GAP", 0.0)
    root = tmp_path / "root"
    root.mkdir()
    # Not enrolled: reports wait in the real outbox. The daemon's loop runs in this (its
    # creating) thread, as in `phiwatch run`; a helper thread plays the engineer and
    # reads the outbox through a Reporter of its own (SQLite objects are per thread).
    d = make_daemon([root], reporter=Reporter(), policy={"crawl_bytes_per_second": 0})
    seen: list[bool] = []

    def engineer() -> None:
        mine = Reporter()
        try:
            seen.append(bool(wait_for(lambda: mine.outbox.depth() == 1)))  # crawl done
            shutil.copyfile(sample(corpus, "phi", "hl7")[0], root / "adt.hl7")
            seen.append(bool(wait_for(lambda: mine.outbox.depth() == 2)))  # new finding
        finally:
            mine.close()
            d.stop_event.set()

    helper = threading.Thread(target=engineer)
    helper.start()
    d.run_forever(posture_first=False)
    helper.join(timeout=60)
    assert seen == [True, True]
    assert d.store.pending_events() == []  # all handed to the outbox
