"""Server test fixtures: enrolled agents speaking the API in-process, and a real
`phiwatch-server run` process over HTTPS (SQLite, or PostgreSQL with
PHIWATCH_TEST_DB=postgres)."""

from __future__ import annotations

import datetime as dt
import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests

ROOT = Path(__file__).resolve().parents[2]
PG_ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/postgres"


def now(offset_seconds: float = 0) -> str:
    return (dt.datetime.now(dt.UTC) + dt.timedelta(seconds=offset_seconds)).isoformat()


def check(id: str, status: str, **extra) -> dict:
    return {"id": id, "status": status, "observed": "x", "policy": "y", "hipaa": "164.310(c)",
            "reason": None, "fix": None, "details": extra.pop("details", {}), **extra}


def finding(n: int = 1, classification: str = "phi", encrypted: bool | None = True,
            removable: bool = False) -> dict:
    return {"finding_id": f"{n:064x}", "path": None, "folder": "/home/a/data",
            "name_hash": f"{n + 1000:064x}", "classification": classification,
            "identifiers": {"ssn": 2}, "health": {"icd10": 3}, "format": "csv", "bytes": 1234,
            "volume": {"mount": "/media/usb" if removable else "/", "encrypted": encrypted,
                       "removable": removable, "cloud": None},
            "first_seen": now(), "last_seen": now()}


@dataclass
class Agent:
    """One enrolled device speaking the agent API through Django's test client."""

    client: object
    device_id: str
    token: str

    def report(self, **fields) -> dict:
        body = {"report_id": str(uuid.uuid4()), "device_id": self.device_id,
                "created_at": now(), "agent_version": "0.1.0", "inventory": None,
                "posture": None, "findings": None, "findings_complete": False, "events": [],
                "outbox": {"depth": 0, "dropped": {}}}
        body.update(fields)
        return body

    def post(self, path: str, body, token: str | None = "own", **kw):
        headers = {}
        if token == "own":
            token = self.token
        if token is not None:
            headers["HTTP_AUTHORIZATION"] = f"Bearer {token}"
        data = body if isinstance(body, bytes | str) else __import__("json").dumps(body)
        return self.client.post(path, data=data, content_type="application/json",
                                **headers, **kw)

    def checkin(self, token: str | None = "own", **fields):
        return self.post("/api/v1/checkin", self.report(**fields), token=token)

    def posture(self, *checks: dict) -> dict:
        return {"checked_at": now(), "checks": list(checks)}


@pytest.fixture(autouse=True)
def _fresh_policy_cache():
    """Each test's database starts from scratch; so must the per-process policy cache."""
    from server.policy.effective import clear_cache

    clear_cache()
    yield
    clear_cache()


@pytest.fixture
def secret(db) -> str:
    from server.enrollment.service import create_secret

    return create_secret("test", uses=None)[1]


@pytest.fixture
def enroll(client, secret):
    def _enroll(machine_id: str | None = None, hostname: str = "lap-1") -> Agent:
        r = client.post("/api/v1/enroll", data={
            "secret": secret, "hostname": hostname, "machine_id": machine_id or str(uuid.uuid4()),
            "hardware_serial": "C02TEST", "os": "linux", "os_version": "12",
            "agent_version": "0.1.0"}, content_type="application/json")
        assert r.status_code == 201, r.content
        return Agent(client, r.json()["device_id"], r.json()["token"])

    return _enroll


@pytest.fixture
def agent(enroll) -> Agent:
    return enroll()


# --- a real server process --------------------------------------------------------------

def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def port_tag() -> str:
    return uuid.uuid4().hex[:8]


def _fresh_pg_database(name: str) -> str:
    import psycopg

    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    return f"postgres://postgres@127.0.0.1:5432/{name}"


@dataclass
class LiveServer:
    url: str
    cert: Path
    fingerprint: str
    env: dict
    proc: subprocess.Popen

    def cli(self, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "server", *args], env=self.env,
                              capture_output=True, text=True, check=check, cwd=ROOT)

    def new_secret(self, *args: str) -> str:
        return self.cli("secret", "create", *args).stdout.strip().splitlines()[-1]


def start_server(home: Path, workers: int = 2, threads: int = 4,
                 postgres: bool | None = None) -> LiveServer:
    """Start `phiwatch-server run` on a free port. postgres=None follows PHIWATCH_TEST_DB;
    with PostgreSQL the server gets a fresh database of its own, dropped by stop_server."""
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "PHIWATCH_TEST_DB")}
    env["PHIWATCH_SERVER_HOME"] = str(home)
    if postgres is None:
        postgres = os.environ.get("PHIWATCH_TEST_DB") == "postgres"
    if postgres:
        env["DATABASE_URL"] = _fresh_pg_database(f"phiwatch_live_{os.getpid()}_{port_tag()}")
    port = free_port()
    log = open(home / "server.log", "w")  # noqa: SIM115 - closed with the process
    proc = subprocess.Popen(
        [sys.executable, "-m", "server", "run", "--bind", f"127.0.0.1:{port}",
         "--workers", str(workers), "--threads", str(threads)],
        env=env, stdout=subprocess.PIPE, stderr=log, text=True, cwd=ROOT,
        start_new_session=True,
    )
    lines = []
    for line in proc.stdout:
        lines.append(line.strip())
        if line.startswith("fingerprint SHA256:"):
            break
    assert lines and lines[-1].startswith("fingerprint"), (lines, (home / "server.log").read_text())
    said = {line.split(": ", 1)[0]: line.split(": ", 1)[1] for line in lines if ": " in line}
    url = said["phiwatch-server"].rstrip("/")
    cert = Path(said["certificate"])
    # Wait until gunicorn accepts connections (bounded; not a timing assertion).
    for _ in range(300):
        try:
            requests.get(url + "/api/v1/openapi.json", verify=str(cert), timeout=5)
            break
        except requests.ConnectionError:
            if proc.poll() is not None:
                raise AssertionError((home / "server.log").read_text()) from None
            time.sleep(0.1)
    return LiveServer(url, cert, said["fingerprint SHA256"], env, proc)


def stop_server(server: LiveServer) -> None:
    os.killpg(server.proc.pid, signal.SIGTERM)
    try:
        server.proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        os.killpg(server.proc.pid, signal.SIGKILL)
        server.proc.wait()
    if server.env.get("DATABASE_URL", "").startswith("postgres"):
        import psycopg

        name = server.env["DATABASE_URL"].rsplit("/", 1)[1]
        with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="session")
def https_server(tmp_path_factory):
    server = start_server(tmp_path_factory.mktemp("server-home"))
    yield server
    stop_server(server)
