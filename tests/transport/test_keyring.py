"""The device token in a real keyring: gnome-keyring's Secret Service on a private D-Bus
session bus (what a Linux desktop user has), driven by real agent processes."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.transport.conftest import SECRET

REPO = Path(__file__).resolve().parents[2]

SESSION = """
set -e
echo -n test-login-password | gnome-keyring-daemon --unlock --components=secrets >/dev/null
"$PY" -m agent enroll --server "$URL" --secret "$SECRET" --fingerprint "$FP"
"$PY" -c 'import json
from agent.reporter import Reporter
r = Reporter()
r.queue(events=[{"type": "agent_started"}])
print(json.dumps({"flush": r.flush(), "status": r.status()}))'
"""


@pytest.mark.skipif(
    not (shutil.which("gnome-keyring-daemon") and shutil.which("dbus-run-session")),
    reason="needs gnome-keyring and dbus (scripts/setup installs both)",
)
def test_token_goes_to_the_keyring_when_a_real_one_is_there(fake_server, agent_home, tmp_path):
    import sys

    server = fake_server()
    home = tmp_path / "home"
    (home / "run").mkdir(parents=True, mode=0o700)
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("PHIWATCH_KEYRING", "DBUS_SESSION_BUS_ADDRESS")
    }
    env.update(
        HOME=str(home),
        XDG_RUNTIME_DIR=str(home / "run"),
        XDG_DATA_HOME=str(home / ".local" / "share"),
        PY=sys.executable,
        URL=server.url,
        SECRET=SECRET,
        FP=server.fingerprint,
    )
    done = subprocess.run(
        ["dbus-run-session", "--", "sh", "-c", SESSION],
        capture_output=True,
        text=True,
        env=env,
        cwd=REPO,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert "token:    keyring (keyring.backends.SecretService.Keyring)" in done.stdout
    result = json.loads(done.stdout.splitlines()[-1])
    assert result["flush"] == {"sent": 1, "pending": 0, "error": None}  # read back from it
    assert result["status"]["token_store"].startswith("keyring (")
    # No token file in the state dir; the token is in gnome-keyring's own store.
    assert not (agent_home / "state" / "device-token").exists()
    token = json.loads((server.state / "tokens.json").read_text())
    assert list(token) and not any(
        t in p.read_text(errors="replace")
        for t in token
        for p in (agent_home / "state").glob("*.json")
    )
    assert list((home / ".local" / "share" / "keyrings").iterdir())
