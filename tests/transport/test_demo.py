"""The README's first command: scripts/demo, twice (idempotent), then scripts/demo stop."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.slow  # setup check, server start, corpus build and scan, twice: ~1 minute
def test_demo_runs_the_whole_product_and_can_run_again(tmp_path):
    port = _free_port()
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("PHIWATCH_") and k not in ("DATABASE_URL", "DJANGO_SETTINGS_MODULE")
    }
    env.update(PHIWATCH_DEMO_DIR=str(tmp_path / "demo"), PHIWATCH_DEMO_PORT=str(port))

    def demo(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [str(REPO / "scripts" / "demo"), *args],
            capture_output=True,
            text=True,
            env=env,
            cwd=REPO,
            timeout=600,
        )

    try:
        first = demo()
        assert first.returncode == 0, first.stderr[-3000:]
        out = first.stdout
        assert "== phiwatch demo is running" in out
        assert f"console:   https://127.0.0.1:{port}/console/" in out
        assert "login:   compliance / " in out
        device = out.split("enrolled: device ")[1].split()[0]
        pid = (tmp_path / "demo" / "server.pid").read_text().strip()

        second = demo()
        assert second.returncode == 0, second.stderr[-3000:]
        assert f"server already running (pid {pid})" in second.stdout
        assert f"enrolled: device {device}" in second.stdout  # same device, re-enrolled

        server_env = {**env, "PHIWATCH_SERVER_HOME": str(tmp_path / "demo" / "server")}
        listed = subprocess.run(
            [sys.executable, "-m", "server", "devices", "--format", "json"],
            capture_output=True,
            text=True,
            env=server_env,
            cwd=REPO,
            timeout=120,
        )
        devices = json.loads(listed.stdout)
        assert [d["id"] for d in devices] == [device]
        assert devices[0]["phi_files"] > 50  # the sample's PHI reached the server

        agent_env = {
            **env,
            "PHIWATCH_HOME": str(tmp_path / "demo" / "agent"),
            "PHIWATCH_KEYRING": "0",
        }
        status = subprocess.run(
            [sys.executable, "-m", "agent", "status", "--format", "json"],
            capture_output=True,
            text=True,
            env=agent_env,
            cwd=REPO,
            timeout=120,
        )
        assert status.returncode in (0, 1), status.stderr
        assert device in status.stdout
    finally:
        stopped = demo("stop")
    assert "demo server stopped" in stopped.stdout
    with pytest.raises(ProcessLookupError):
        os.kill(int(pid), 0)
