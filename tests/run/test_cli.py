"""`phiwatch run` and `phiwatch status` as real processes: start, notice a file, report
it in status, stop cleanly on SIGTERM; usage errors and a check-in that cannot be queued."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from tests.cli import run_agent
from tests.run.conftest import sample, wait_for

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def env(tmp_path, notifications) -> dict:
    home = tmp_path / "phiwatch-home"
    return {
        **os.environ,
        "PHIWATCH_HOME": str(home),
        "PHIWATCH_MANAGED_CONFIG": str(tmp_path / "none.toml"),
        "DBUS_SESSION_BUS_ADDRESS": notifications.address,
    }


def phiwatch(args, env, **kw) -> subprocess.CompletedProcess:
    return run_agent(*args, env=env, **kw)


def status(env) -> dict:
    out = phiwatch(["status", "--format", "json"], env)
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout)


def test_run_watches_until_sigterm(env, notifications, corpus, tmp_path):
    root = tmp_path / "root"
    root.mkdir()
    proc = subprocess.Popen(
        [sys.executable, "-m", "agent", "run", "--root", str(root)],
        cwd=REPO,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:

        def started() -> bool:
            s = status(env)
            return s["agent"].get("running") and s["crawl"].get(str(root), {}).get("done")

        assert wait_for(started, timeout=60, step=0.3)
        target = root / "visit.hl7"
        shutil.copyfile(sample(corpus, "phi", "hl7")[0], target)
        assert wait_for(
            lambda: [f["path"] for f in status(env)["findings"]["files"]] == [str(target)],
            timeout=30,
            step=0.3,
        )
        assert wait_for(lambda: notifications.received())
        assert "visit.hl7" in notifications.received()[0]["summary"]
        second = phiwatch(["run", "--once", "--root", str(root)], env)
        assert second.returncode == 1
        assert f"already running (pid {proc.pid})" in second.stderr
        s = status(env)
        assert s["roots"] == [{"path": str(root), "kind": "configured", "cloud": None}]
        assert s["last_warning"]["title"] == notifications.received()[0]["summary"]
        assert s["posture"]["checked_at"]
    finally:
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err[-2000:]
    assert status(env)["agent"]["running"] is False
    log = (Path(env["PHIWATCH_HOME"]) / "logs/agent.log").read_text()
    assert "agent started" in log and str(target) in log


def test_run_rejects_a_missing_root(env, tmp_path):
    out = phiwatch(["run", "--once", "--root", str(tmp_path / "nope")], env)
    assert out.returncode == 2
    assert "not a folder" in out.stderr


def test_once_fails_when_the_check_in_cannot_be_queued(env, tmp_path):
    root = tmp_path / "root"
    root.mkdir()
    (root / "readme.txt").write_text("nothing here\n")
    state = Path(env["PHIWATCH_HOME"]) / "state"
    state.mkdir(parents=True)
    (state / "outbox.sqlite3").mkdir()  # the outbox cannot be opened: nothing can be queued
    out = phiwatch(["run", "--once", "--root", str(root)], env)
    assert out.returncode == 3
    assert "check-in could not be queued" in out.stderr


def test_status_on_a_fresh_machine(env):
    s = status(env)
    assert s["agent"]["running"] is False
    assert s["findings"] == {"open": 0, "counts": {}, "files": []}
    assert s["reporting"]["enrolled"] is False
    table = phiwatch(["status"], env).stdout
    assert "posture:    not checked yet" in table
    assert "findings:   0 open" in table
    assert "server:     not enrolled" in table
