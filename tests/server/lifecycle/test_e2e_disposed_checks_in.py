"""The whole path with real processes: a real `phiwatch-server run` over HTTPS (SQLite,
or PostgreSQL with PHIWATCH_TEST_DB=postgres), a real agent (`phiwatch enroll`,
`phiwatch run --once`), IT's real command line. The device is retired, sanitized and
disposed; then the agent checks in again: critical violation and a sighting."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from tests.server.conftest import ROOT, start_server, stop_server

# Not marked slow (about 30 s): it also runs in the PostgreSQL pass of scripts/test.


@pytest.fixture
def server(tmp_path):
    (tmp_path / "server").mkdir()
    s = start_server(tmp_path / "server", workers=1, threads=4)
    yield s
    stop_server(s)


def _agent(home, *args, check=True):
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "PHIWATCH_TEST_DB")}
    env["PHIWATCH_HOME"] = str(home)
    return subprocess.run([sys.executable, "-m", "agent", *args], env=env, cwd=ROOT,
                          capture_output=True, text=True, timeout=300, check=check)


def test_disposed_device_that_checks_in_again_raises_a_critical_violation(server, tmp_path):
    home, root = tmp_path / "agent", tmp_path / "files"
    root.mkdir()
    (root / "notes.txt").write_text("nothing to see here\n")
    secret = server.new_secret("--uses", "1")
    out = _agent(home, "enroll", "--server", server.url, "--secret", secret,
                 "--fingerprint", server.fingerprint, "--format", "json")
    device_id = json.loads(out.stdout)["device_id"]
    assert _agent(home, "run", "--once", "--root", str(root)).returncode == 0

    server.cli("device", "retire", device_id, "--reason", "end of lease")
    server.cli("device", "sanitize", device_id, "--method", "purge", "--technique",
               "crypto erase", "--tool", "nvme-cli", "--tool-version", "2.4", "--media-type",
               "SSD", "--verification", "full", "--result", "pass", "--performed-by", "Sam",
               "--verified-by", "Vera", "--destination", "recycling")
    done = json.loads(server.cli("device", "dispose", device_id, "--reason", "to recycler",
                                 "--format", "json").stdout)
    assert done["to"] == "disposed"
    before = json.loads(server.cli("violations", "--format", "json").stdout)
    assert not [v for v in before if v["rule"] == "gone_device_checked_in"]

    # The "disposed" laptop comes back online and its agent reports.
    _agent(home, "run", "--once", "--root", str(root), check=False)
    violations = json.loads(server.cli("violations", "--format", "json").stdout)
    gone = [v for v in violations if v["rule"] == "gone_device_checked_in"]
    assert len(gone) == 1 and gone[0]["severity"] == "critical"
    shown = json.loads(server.cli("device", "show", device_id, "--format", "json").stdout)
    assert shown["state"] == "disposed"
    assert shown["sightings"] and shown["sightings"][0]["remote_addr"] == "127.0.0.1"
    assert shown["sightings"][0]["state"] == "disposed"
    status = json.loads(_agent(home, "status", "--format", "json").stdout)
    assert "disposed" in json.dumps(status)
