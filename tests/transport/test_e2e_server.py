"""End to end: a real `phiwatch-server run` process, real agent processes, HTTPS on
loopback. Enroll, check in, look in the server's database; server down then back; server
killed mid-request; agent clock a day ahead; token revoked; and the leak test over the
wire (plaintext seen by a TLS relay holding the server's own key)."""

from __future__ import annotations

import json
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.cli import run_agent
from tests.leaks import found
from tests.transport.tlsproxy import TLSRelay

REPO = Path(__file__).resolve().parents[2]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class RealServer:
    """`phiwatch-server run` on its embedded defaults (SQLite, self-signed TLS)."""

    def __init__(self, home: Path):
        self.home = home
        self.log = home.parent / f"{home.name}.log"
        self.port = _free_port()
        self.proc: subprocess.Popen | None = None
        self.fingerprint = ""
        env = os.environ.copy()
        env["PHIWATCH_SERVER_HOME"] = str(home)
        for var in ("DATABASE_URL", "PHIWATCH_TEST_DB", "DJANGO_SETTINGS_MODULE"):
            env.pop(var, None)
        self.env = env

    @property
    def url(self) -> str:
        return f"https://127.0.0.1:{self.port}"

    def start(self) -> RealServer:
        offset = self.log.stat().st_size if self.log.exists() else 0
        with open(self.log, "ab") as out:
            self.proc = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "server",
                    "run",
                    "--bind",
                    f"127.0.0.1:{self.port}",
                    "--workers",
                    "1",
                    "--threads",
                    "4",
                ],
                stdout=out,
                stderr=subprocess.STDOUT,
                env=self.env,
                cwd=REPO,
                start_new_session=True,  # its own process group: gunicorn master + worker
            )
        end = time.monotonic() + 90
        while time.monotonic() < end:
            text = self.log.read_bytes()[offset:].decode(errors="replace")
            if "fingerprint SHA256:" in text:
                self.fingerprint = text.split("fingerprint SHA256:")[1].split()[0]
                try:
                    socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                    return self
                except OSError:
                    pass
            assert self.proc.poll() is None, f"server exited: {text[-2000:]}"
            time.sleep(0.1)
        raise AssertionError("server did not start")

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
        if self.proc:
            self.proc.wait(20)
        self.proc = None

    def cli(self, *args: str) -> str:
        done = subprocess.run(
            [sys.executable, "-m", "server", *args],
            capture_output=True,
            text=True,
            env=self.env,
            cwd=REPO,
            timeout=120,
        )
        assert done.returncode == 0, done.stderr
        return done.stdout

    def secret(self) -> str:
        return self.cli("secret", "create", "--uses", "10").strip().splitlines()[-1]

    def query(self, sql: str, *params) -> list[tuple]:
        db = sqlite3.connect(f"file:{self.home / 'phiwatch.sqlite3'}?mode=ro", uri=True)
        try:
            return db.execute(sql, params).fetchall()
        finally:
            db.close()

    def stored_report_ids(self) -> list[str]:
        # Django stores a UUIDField in SQLite as 32 hex digits without dashes.
        return sorted(r[0] for r in self.query("SELECT report_id FROM checkins_report"))


@pytest.fixture
def server(tmp_path):
    s = RealServer(tmp_path / "server").start()
    yield s
    s.stop()


phiwatch = run_agent


CHECKIN = """
import json, subprocess, sys
{prelude}
from agent.reporter import Reporter
out = subprocess.run([sys.executable, "-m", "agent", "posture", "--format", "json"],
                     capture_output=True, text=True).stdout
posture = json.loads(out)
r = Reporter()
rid = r.queue(posture={{"checked_at": posture["checked_at"], "checks": posture["checks"]}},
              events=[{{"type": "agent_started"}}])
print(json.dumps({{"report_id": rid, **r.flush(timeout=20)}}))
"""


def agent_checkin(prelude: str = "") -> dict:
    done = subprocess.run(
        [sys.executable, "-c", CHECKIN.format(prelude=prelude)],
        capture_output=True,
        text=True,
        cwd=REPO,
        env=os.environ.copy(),
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.splitlines()[-1])


def flush() -> dict:
    done = subprocess.run(
        [
            sys.executable,
            "-c",
            "import json; from agent.reporter import Reporter; print(json.dumps(Reporter().flush()))",
        ],
        capture_output=True,
        text=True,
        cwd=REPO,
        env=os.environ.copy(),
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def _due_now(agent_home: Path) -> None:
    """Time passes: the backoff of waiting reports is over."""
    db = sqlite3.connect(agent_home / "state" / "outbox.sqlite3")
    db.execute("UPDATE reports SET next_attempt_at = 0")
    db.commit()
    db.close()


def _hex(report_id: str) -> str:
    return report_id.replace("-", "")


def test_enroll_check_in_and_see_device_and_posture(server, agent_home):
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
    device_id = out.stdout.split("enrolled: device ")[1].split()[0]
    res = agent_checkin()
    assert res["sent"] == 1 and res["pending"] == 0 and res["error"] is None
    (row,) = server.query("SELECT id, hostname, os, posture, last_report_id FROM devices_device")
    assert row[0].replace("-", "") == device_id.replace("-", "")
    assert row[1] == socket.gethostname() and row[2] == "linux"
    assert "disk_encryption" in json.loads(row[3])
    assert row[4].replace("-", "") == _hex(res["report_id"])
    (checks,) = server.query("SELECT checks FROM checkins_posturesnapshot")
    assert {c["id"] for c in json.loads(checks[0])} >= {"disk_encryption", "firewall"}
    listed = json.loads(server.cli("devices", "--format", "json"))
    assert [d["id"] for d in listed] == [device_id]


def test_server_down_for_a_while_then_back_delivers_each_report_once(server, agent_home):
    assert (
        phiwatch(
            "enroll",
            "--server",
            server.url,
            "--secret",
            server.secret(),
            "--fingerprint",
            server.fingerprint,
        ).returncode
        == 0
    )
    server.stop()
    ids = []
    for _ in range(3):
        res = agent_checkin()
        assert res["sent"] == 0 and "cannot reach the server" in res["error"]
        ids.append(res["report_id"])
    assert res["pending"] == 3
    server.start()  # same port, same data dir, same certificate
    _due_now(agent_home)
    assert flush() == {"sent": 3, "pending": 0, "error": None}
    assert server.stored_report_ids() == sorted(_hex(i) for i in ids)
    assert flush()["sent"] == 0


@pytest.mark.parametrize("after", [0.0, 0.3], ids=["while-reading", "after-storing"])
def test_server_killed_mid_request_stores_the_report_once(server, agent_home, after):
    relay = TLSRelay(server.home / "tls" / "cert.pem", server.home / "tls" / "key.pem", server.port)
    try:
        assert (
            phiwatch(
                "enroll",
                "--server",
                relay.url,
                "--secret",
                server.secret(),
                "--fingerprint",
                server.fingerprint,
            ).returncode
            == 0
        )

        def kill_server(path: str) -> bool:
            if path == "/api/v1/checkin":
                time.sleep(after)  # the request is on its way in; the server dies under it
                server.stop()
                return True
            return False

        relay.after_forward = kill_server
        res = agent_checkin()
        assert res["sent"] == 0 and res["error"] and res["pending"] == 1
        relay.after_forward = None
        server.start()
        _due_now(agent_home)
        assert flush() == {"sent": 1, "pending": 0, "error": None}
        # Stored once, whether the killed server had committed it or not.
        assert server.stored_report_ids() == [_hex(res["report_id"])]
    finally:
        relay.close()


def test_agent_clock_a_day_ahead_is_accepted_and_shown(server, agent_home):
    assert (
        phiwatch(
            "enroll",
            "--server",
            server.url,
            "--secret",
            server.secret(),
            "--fingerprint",
            server.fingerprint,
        ).returncode
        == 0
    )
    skew = "import time; _t = time.time; time.time = lambda: _t() + 86400"
    res = agent_checkin(prelude=skew)
    assert res["sent"] == 1, res
    (created,) = server.query("SELECT created_at FROM checkins_report")
    assert created[0][:10] == time.strftime("%Y-%m-%d", time.gmtime(time.time() + 86400))
    from agent.reporter import Reporter

    # Reported, not "corrected": IT sees a laptop whose clock is off.
    assert abs(Reporter().status()["clock_skew_seconds"] - 86400) < 120


def test_revoked_token_waits_for_reenrollment(server, agent_home):
    secret = server.secret()
    assert (
        phiwatch(
            "enroll",
            "--server",
            server.url,
            "--secret",
            secret,
            "--fingerprint",
            server.fingerprint,
        ).returncode
        == 0
    )
    assert agent_checkin()["sent"] == 1
    device = json.loads(server.cli("devices", "--format", "json"))[0]["id"]
    server.cli("token", "revoke", device)
    res = agent_checkin()
    assert res["sent"] == 0 and "re-enroll" in res["error"]
    assert flush()["error"] == res["error"]  # waits: no request, same reason
    assert (
        phiwatch(
            "enroll",
            "--server",
            server.url,
            "--secret",
            secret,
            "--fingerprint",
            server.fingerprint,
        ).returncode
        == 0
    )
    assert flush() == {"sent": 1, "pending": 0, "error": None}
    assert [d["id"] for d in json.loads(server.cli("devices", "--format", "json"))] == [device]


def _planted_hits(values: set[str], blobs: dict[str, bytes]) -> list[str]:
    """Names of the places where a planted value appears (never the value itself)."""
    hits = []
    for where, blob in blobs.items():
        if found(values, blob.decode("utf-8", "replace")):
            hits.append(where)
    return hits


def _files_under(root: Path) -> dict[str, bytes]:
    return {str(p): p.read_bytes() for p in root.rglob("*") if p.is_file()}


@pytest.mark.slow  # builds the corpus and scans it: ~20-30 s on 2 cores
def test_no_planted_value_leaves_over_the_wire(server, agent_home, corpus):
    relay = TLSRelay(server.home / "tls" / "cert.pem", server.home / "tls" / "key.pem", server.port)
    try:
        assert (
            phiwatch(
                "enroll",
                "--server",
                relay.url,
                "--secret",
                server.secret(),
                "--fingerprint",
                server.fingerprint,
            ).returncode
            == 0
        )
        run = phiwatch("run", "--once", "--root", str(corpus.files), timeout=600)
        assert run.returncode in (0, 1), run.stderr[-2000:]
        checkins = [b for p, b in relay.bodies if p == "/api/v1/checkin"]
        assert checkins, "the agent sent no check-in"
        sent = [json.loads(b) for b in checkins]
        assert sum(len(b.get("findings") or []) for b in sent) > 50  # PHI was found and reported
        values = corpus.planted_values()
        assert len(values) > 500
        # Control: the search finds planted values where they are (the corpus itself).
        assert len(_planted_hits(values, _files_under(corpus.files))) > 100
        wire = {f"request {i}": b for i, (_, b) in enumerate(relay.bodies)}
        assert _planted_hits(values, wire) == []
        assert _planted_hits(values, _files_under(server.home)) == []  # database, WAL, TLS
        assert _planted_hits(values, {"server log": server.log.read_bytes()}) == []
        assert _planted_hits(values, _files_under(agent_home)) == []  # state, logs, cache
        assert _planted_hits(values, {"agent output": (run.stdout + run.stderr).encode()}) == []
        # The database holds what the agent sent.
        n = server.query("SELECT COUNT(*) FROM findings_finding")[0][0]
        assert n == sum(len(b.get("findings") or []) for b in sent)
    finally:
        relay.close()


def test_token_rotation_keeps_reporting(server, agent_home):
    from agent.credentials import TokenStore
    from agent.reporter import Reporter

    assert (
        phiwatch(
            "enroll",
            "--server",
            server.url,
            "--secret",
            server.secret(),
            "--fingerprint",
            server.fingerprint,
        ).returncode
        == 0
    )
    old = TokenStore().load()
    r = Reporter()
    assert r.rotate_token() is None
    assert TokenStore().load() != old
    assert agent_checkin()["sent"] == 1  # the new token works
    # ...and the old one does not.
    from agent.enroll import load_enrollment

    t = load_enrollment().transport()
    assert t.request("GET", "/api/v1/policy", token=old).status == 401
    assert t.request("GET", "/api/v1/policy", token=TokenStore().load()).status == 200
