"""Fixtures for the transport area: test certificates, a real HTTPS stand-in server in a
subprocess, and an isolated agent home."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from tests.transport.certs import make_certs

FAKESERVER = Path(__file__).with_name("fakeserver.py")
SECRET = "good-secret"


@pytest.fixture(scope="session")
def certs(tmp_path_factory):
    return make_certs(tmp_path_factory.mktemp("certs"))


class FakeServer:
    """One fakeserver.py subprocess; restartable on the same port and state."""

    def __init__(
        self,
        state: Path,
        certs,
        cert: str = "leaf",
        tls_max: str | None = None,
        plain: bool = False,
    ):
        self.state = state
        self.certs = certs
        self.cert = cert
        self.tls_max = tls_max
        self.plain = plain
        self.port = 0
        self.proc: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"https://127.0.0.1:{self.port}"

    @property
    def fingerprint(self) -> str:
        return self.certs[self.cert].fingerprint

    def start(self, cert: str | None = None) -> FakeServer:
        if cert:
            self.cert = cert
        c = self.certs[self.cert]
        argv = [
            sys.executable,
            str(FAKESERVER),
            str(self.state),
            "--cert",
            str(c.cert),
            "--key",
            str(c.key),
            "--port",
            str(self.port),
        ]
        if self.tls_max:
            argv += ["--tls-max", self.tls_max]
        if self.plain:
            argv.append("--plain")
        self.proc = subprocess.Popen(argv, stdout=subprocess.PIPE, text=True)
        line = self.proc.stdout.readline()
        assert line.strip().isdigit(), "fake server did not start"
        self.port = int(line)
        return self

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
        if self.proc:
            self.proc.wait(10)
            self.proc.stdout.close()
        self.proc = None

    def plan(self, *items: dict) -> None:
        (self.state / "plan.json").write_text(json.dumps(list(items)))

    def stored(self) -> list[dict]:
        f = self.state / "stored.jsonl"
        return [json.loads(x) for x in f.read_text().splitlines()] if f.exists() else []

    def requests(self, path: str | None = None) -> list[dict]:
        f = self.state / "requests.jsonl"
        rows = [json.loads(x) for x in f.read_text().splitlines()] if f.exists() else []
        return [r for r in rows if path is None or r["path"] == path]

    def revoke_all(self) -> None:
        tokens = json.loads((self.state / "tokens.json").read_text())
        (self.state / "revoked.json").write_text(json.dumps(list(tokens)))


@pytest.fixture
def fake_server(tmp_path, certs):
    servers: list[FakeServer] = []

    def start(**kw) -> FakeServer:
        s = FakeServer(tmp_path / f"server{len(servers)}", certs, **kw).start()
        servers.append(s)
        return s

    yield start
    for s in servers:
        s.stop()


@pytest.fixture
def agent_home(tmp_path, monkeypatch):
    """PHIWATCH_HOME for in-process agent code and for agent subprocesses."""
    home = tmp_path / "agent"
    monkeypatch.setenv("PHIWATCH_HOME", str(home))
    monkeypatch.setenv("PHIWATCH_KEYRING", "0")
    # Never read a managed config this machine may have in /etc/phiwatch.
    monkeypatch.setenv("PHIWATCH_MANAGED_CONFIG", str(tmp_path / "no-managed.toml"))
    monkeypatch.setenv("PHIWATCH_MACHINE_ID", f"test-machine-{os.getpid()}-{tmp_path.name}")
    for var in ("https_proxy", "HTTPS_PROXY", "all_proxy", "ALL_PROXY"):
        monkeypatch.delenv(var, raising=False)
    return home


@pytest.fixture
def enrolled(agent_home, fake_server):
    """A fake server and an agent enrolled with it by fingerprint."""
    from agent.enroll import enroll

    server = fake_server()
    enroll(server.url, SECRET, fingerprint=server.fingerprint)
    return server
