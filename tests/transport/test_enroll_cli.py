"""`phiwatch enroll` as a user runs it: a real agent process, a real TLS server."""

from __future__ import annotations

import json
import stat
import subprocess

from agent.enroll import ensure_enrolled, load_enrollment
from agent.reporter import Reporter
from agent.transport import format_fingerprint
from tests.cli import run_agent
from tests.transport.conftest import SECRET


def phiwatch(*args: str) -> subprocess.CompletedProcess:
    return run_agent(*args, timeout=60)


def test_enroll_with_fingerprint_prints_device_and_token_place(fake_server, agent_home):
    server = fake_server()
    out = phiwatch(
        "enroll",
        "--server",
        server.url,
        "--secret",
        SECRET,
        "--fingerprint",
        format_fingerprint(server.fingerprint),
    )
    assert out.returncode == 0, out.stderr
    e = load_enrollment()
    assert f"enrolled: device {e.device_id}" in out.stdout
    token_file = agent_home / "state" / "device-token"
    assert f"token:    file {token_file} (mode 0600)" in out.stdout
    assert stat.S_IMODE(token_file.stat().st_mode) == 0o600
    assert SECRET not in out.stdout + out.stderr
    assert token_file.read_text() not in out.stdout + out.stderr
    assert e.fingerprint == server.fingerprint


def test_enroll_refusals_are_clear(fake_server, agent_home, certs):
    server = fake_server()
    bad = phiwatch(
        "enroll", "--server", server.url, "--secret", "nope", "--fingerprint", server.fingerprint
    )
    assert bad.returncode == 1
    assert "refused the enrollment secret" in bad.stderr and "nope" not in bad.stderr
    wrong = phiwatch(
        "enroll",
        "--server",
        server.url,
        "--secret",
        SECRET,
        "--fingerprint",
        certs["other"].fingerprint,
    )
    assert wrong.returncode == 1 and "does not match the pinned fingerprint" in wrong.stderr
    plain = phiwatch("enroll", "--server", server.url.replace("https", "http"), "--secret", SECRET)
    assert plain.returncode == 1 and "HTTPS only" in plain.stderr
    assert load_enrollment() is None
    assert phiwatch("enroll").returncode == 2


def test_enroll_with_ca_and_trust_on_first_use(fake_server, agent_home, certs):
    server = fake_server()
    out = phiwatch(
        "enroll",
        "--server",
        server.url,
        "--secret",
        SECRET,
        "--ca-cert",
        str(certs["ca"].cert),
        "--format",
        "json",
    )
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout)["pin"] == f"CA {agent_home / 'state' / 'server-ca.pem'}"
    tofu = phiwatch("enroll", "--server", server.url, "--secret", SECRET, "--trust-on-first-use")
    assert tofu.returncode == 0, tofu.stderr
    assert format_fingerprint(server.fingerprint) in tofu.stdout
    # Re-enrolling the same machine keeps its device id (the server matches machine_id).
    assert (
        len(
            {
                d["device_id"]
                for d in json.loads((server.state / "tokens.json").read_text()).values()
            }
        )
        == 1
    )


def test_managed_configuration_enrolls_on_first_start(
    fake_server, agent_home, tmp_path, monkeypatch
):
    server = fake_server()
    managed = tmp_path / "managed.toml"
    managed.write_text(
        f'server_url = "{server.url}"\nenrollment_secret = "{SECRET}"\n'
        f'fingerprint = "{format_fingerprint(server.fingerprint)}"\n'
    )
    monkeypatch.setenv("PHIWATCH_MANAGED_CONFIG", str(managed))
    assert ensure_enrolled() is True
    assert Reporter().enrolled
    assert ensure_enrolled() is True  # no second enrollment
    assert len(server.requests("/api/v1/enroll")) == 1


def test_failed_automatic_enrollment_is_not_retried_in_a_loop(
    fake_server, agent_home, tmp_path, monkeypatch
):
    server = fake_server()
    managed = tmp_path / "managed.toml"
    managed.write_text(
        f'server_url = "{server.url}"\nenrollment_secret = "used-up"\n'
        f'fingerprint = "{server.fingerprint}"\n'
    )
    monkeypatch.setenv("PHIWATCH_MANAGED_CONFIG", str(managed))
    for _ in range(5):
        assert ensure_enrolled() is False
    assert len(server.requests("/api/v1/enroll")) == 1
    assert "automatic enrollment failed" in Reporter().status()["last_error"]


def test_revoked_token_shows_in_status(enrolled):
    r = Reporter()
    r.queue(events=[{"type": "agent_started"}])
    enrolled.revoke_all()
    r.flush()
    st = r.status()
    assert st["needs_reenroll"] is True and st["outbox_depth"] == 1
    assert "token was revoked or the device deleted" in st["last_error"]
