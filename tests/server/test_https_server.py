"""A real `phiwatch-server run` process (gunicorn, self-signed TLS) spoken to over HTTPS."""

from __future__ import annotations

import hashlib
import json
import socket
import ssl
import uuid
from urllib.parse import urlsplit

import pytest
import requests

from tests.server.conftest import check, finding, now


def test_prints_url_and_the_fingerprint_of_the_certificate_it_serves(https_server):
    u = urlsplit(https_server.url)
    assert (u.scheme, u.hostname) == ("https", "127.0.0.1")
    served = ssl.get_server_certificate((u.hostname, u.port))
    der = ssl.PEM_cert_to_DER_cert(served)
    digest = hashlib.sha256(der).hexdigest().upper()
    assert https_server.fingerprint.replace(":", "") == digest
    assert ssl.PEM_cert_to_DER_cert(https_server.cert.read_text()) == der
    assert oct(https_server.cert.with_name("key.pem").stat().st_mode & 0o777) == "0o600"


def test_tls_below_1_2_is_refused_and_1_2_plus_is_used(https_server):
    u = urlsplit(https_server.url)
    old = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    old.check_hostname, old.verify_mode = False, ssl.CERT_NONE
    old.set_ciphers("DEFAULT:@SECLEVEL=0")
    old.minimum_version = ssl.TLSVersion.TLSv1
    old.maximum_version = ssl.TLSVersion.TLSv1_1
    with socket.create_connection((u.hostname, u.port)) as raw, pytest.raises(ssl.SSLError):
        old.wrap_socket(raw, server_hostname=u.hostname).close()
    good = ssl.create_default_context(cafile=str(https_server.cert))
    with socket.create_connection((u.hostname, u.port)) as raw, good.wrap_socket(
            raw, server_hostname=u.hostname) as tls:
        assert tls.version() in ("TLSv1.2", "TLSv1.3")


def test_plain_http_gets_no_answer(https_server):
    u = urlsplit(https_server.url)
    with socket.create_connection((u.hostname, u.port), timeout=30) as s:
        s.sendall(b"GET /api/v1/openapi.json HTTP/1.1\r\nHost: x\r\n\r\n")
        data = s.recv(4096)
    assert b"openapi" not in data and not data.startswith(b"HTTP/1.1 200")


def test_enroll_checkin_replay_and_cli_over_real_https(https_server):
    api = https_server.url + "/api/v1"
    verify = str(https_server.cert)
    secret = https_server.new_secret("--uses", "1")
    machine = str(uuid.uuid4())
    r = requests.post(api + "/enroll", verify=verify, json={
        "secret": secret, "hostname": "live-1", "machine_id": machine, "os": "linux"})
    assert r.status_code == 201, r.text
    device_id, token = r.json()["device_id"], r.json()["token"]
    assert r.headers["X-Content-Type-Options"] == "nosniff"
    assert "max-age" in r.headers["Strict-Transport-Security"]
    again = requests.post(api + "/enroll", verify=verify, json={
        "secret": secret, "hostname": "live-2", "machine_id": "other", "os": "linux"})
    assert again.status_code == 401  # --uses 1

    body = {"report_id": str(uuid.uuid4()), "device_id": device_id, "created_at": now(),
            "agent_version": "0.1.0", "inventory": None,
            "posture": {"checked_at": now(), "checks": [check("disk_encryption", "fail")]},
            "findings": [finding(1, encrypted=False)], "findings_complete": True,
            "events": [], "outbox": None}
    with requests.Session() as s:
        s.headers["Authorization"] = f"Bearer {token}"
        first = s.post(api + "/checkin", json=body, verify=verify)
        second = s.post(api + "/checkin", json=body, verify=verify)
        big = s.post(api + "/checkin", data=b"{" + b" " * (1024 * 1024 + 10) + b"}",
                     headers={"Content-Type": "application/json"}, verify=verify)
    assert (first.status_code, first.json()["status"]) == (200, "stored")
    assert (second.status_code, second.json()["status"]) == (200, "duplicate")
    assert big.status_code == 413

    out = https_server.cli("violations", "--device", device_id, "--format", "json").stdout
    assert {v["rule"] for v in json.loads(out)} == {
        "phi_on_workstation", "phi_on_unencrypted_volume", "disk_not_encrypted"}
    assert "intact" in https_server.cli("audit", "verify").stdout


def test_simulator_checks_in_a_small_fleet_over_https(https_server):
    out = https_server.cli("simulate", "--url", https_server.url, "--ca-cert",
                           str(https_server.cert), "--devices", "6", "--concurrency", "3",
                           "--reports", "2", "--format", "json").stdout
    result = json.loads(out)
    assert (result["enrolled"], result["checkins"], result["checkins_ok"]) == (6, 12, 12)
    assert result["checkin_statuses"] == {"200": 12}
    assert result["p95_ms"] >= result["p50_ms"] > 0
