"""`phiwatch run --once` against a real `phiwatch-server run` over HTTPS: the findings the
agent reports are the server's open findings, and a file deleted while the agent was
stopped is resolved by the next run (findings_complete)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess

import pytest

from tests.cli import run_agent
from tests.run.conftest import sample
from tests.transport.test_e2e_server import RealServer


@pytest.fixture
def server(tmp_path):
    s = RealServer(tmp_path / "server").start()
    yield s
    s.stop()


@pytest.mark.slow  # a server process and two agent runs: about 20 s
def test_once_reports_findings_and_resolves_deleted_files(server, corpus, tmp_path):
    home = tmp_path / "agent-home"
    env = {
        **os.environ,
        "PHIWATCH_HOME": str(home),
        "PHIWATCH_MANAGED_CONFIG": str(tmp_path / "none.toml"),
    }
    env.pop("DBUS_SESSION_BUS_ADDRESS", None)  # no desktop here: warnings go to the log

    def phiwatch(*args: str) -> subprocess.CompletedProcess:
        return run_agent(*args, env=env, timeout=240)

    out = phiwatch(
        "enroll",
        "--server",
        server.url,
        "--secret",
        server.secret(),
        "--fingerprint",
        server.fingerprint,
    )
    assert out.returncode == 0, out.stderr
    root = tmp_path / "root"
    root.mkdir()
    a, b = root / "visit.hl7", root / "labs.csv"
    shutil.copyfile(sample(corpus, "phi", "hl7")[0], a)
    shutil.copyfile(sample(corpus, "phi", "csv")[0], b)
    (root / "readme.txt").write_text("Nothing to see here.\n")

    first = phiwatch("run", "--once", "--root", str(root))
    assert first.returncode == 0, first.stderr
    rows = server.query(
        "SELECT classification, path, folder, name_hash, resolved_at "
        "FROM findings_finding ORDER BY id"
    )
    assert [(r[0], r[1], r[2], r[4]) for r in rows] == [("phi", None, str(root), None)] * 2
    assert all(len(r[3]) == 64 for r in rows)  # keyed hash of the name, not the name
    status = json.loads(phiwatch("status", "--format", "json").stdout)
    assert status["reporting"]["outbox_depth"] == 0 and status["reporting"]["last_checkin"]
    assert status["last_warning"]["delivered"] is False  # no session bus: log and status

    a.unlink()  # deleted while no agent was running
    second = phiwatch("run", "--once", "--root", str(root))
    assert second.returncode == 0, second.stderr
    open_rows = server.query("SELECT COUNT(*) FROM findings_finding WHERE resolved_at IS NULL")
    assert open_rows == [(1,)]
    (reason,) = server.query(
        "SELECT resolved_reason FROM findings_finding WHERE resolved_at IS NOT NULL"
    )
    assert reason == ("deleted",)  # the agent's finding_resolved event names why
    log = (home / "logs/agent.log").read_text()
    assert "WARNING PHI found in 2 files" in log
