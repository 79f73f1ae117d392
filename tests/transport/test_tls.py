"""HTTPS only, TLS 1.2+, pinning, timeouts: against a real TLS server subprocess."""

from __future__ import annotations

import socket
import ssl
import threading
import warnings

import pytest

from agent.transport import (
    InsecureURLError,
    NetworkError,
    PinError,
    TLSError,
    Transport,
    TransportError,
    fetch_fingerprint,
    format_fingerprint,
    normalise_fingerprint,
    system_proxy_for,
)
from tests.transport.conftest import SECRET

ENROLL = {"secret": SECRET, "machine_id": "m1", "hostname": "h"}


def test_fingerprint_pin_accepts_the_right_certificate(fake_server):
    server = fake_server()
    t = Transport(server.url, fingerprint=format_fingerprint(server.fingerprint))
    r = t.request("POST", "/api/v1/enroll", body=ENROLL)
    assert r.status == 201 and r.body["token"]


def test_wrong_fingerprint_is_refused_with_a_clear_message(fake_server, certs):
    server = fake_server()
    t = Transport(server.url, fingerprint=certs["other"].fingerprint)
    with pytest.raises(PinError) as e:
        t.request("POST", "/api/v1/enroll", body=ENROLL)
    msg = str(e.value)
    assert "does not match the pinned fingerprint" in msg
    assert format_fingerprint(certs["other"].fingerprint) in msg  # what we pinned
    assert format_fingerprint(server.fingerprint) in msg  # what the server showed
    # Nothing reached the application: the body (with the secret) was never sent.
    assert server.requests() == []


def test_certificate_swapped_after_enrollment_is_refused(fake_server, certs):
    server = fake_server()
    t = Transport(server.url, fingerprint=server.fingerprint)
    assert t.request("POST", "/api/v1/enroll", body=ENROLL).status == 201
    server.stop()
    server.start(cert="other")  # same host and port, another certificate
    t2 = Transport(server.url, fingerprint=certs["leaf"].fingerprint)
    with pytest.raises(PinError, match="certificate was replaced or the connection is intercepted"):
        t2.request("POST", "/api/v1/enroll", body=ENROLL)
    assert len(server.requests()) == 1


def test_ca_pin_accepts_its_leaf_and_refuses_another(fake_server, certs):
    server = fake_server()
    ok = Transport(server.url, ca_cert=str(certs["ca"].cert))
    assert ok.request("POST", "/api/v1/enroll", body=ENROLL).status == 201
    other = fake_server(cert="other")
    bad = Transport(other.url, ca_cert=str(certs["ca"].cert))
    with pytest.raises(PinError, match="not signed by the pinned CA"):
        bad.request("POST", "/api/v1/enroll", body=ENROLL)


def test_self_signed_server_without_pin_is_refused(fake_server):
    server = fake_server()
    with pytest.raises(PinError, match="not signed by a trusted CA"):
        Transport(server.url).request("POST", "/api/v1/enroll", body=ENROLL)


@pytest.mark.parametrize("url", ["http://127.0.0.1:1/", "ftp://x", "127.0.0.1:8443", "HTTP://h"])
def test_plain_http_url_is_refused_before_connecting(url):
    with pytest.raises(InsecureURLError, match="HTTPS only|no host"):
        Transport(url, fingerprint="00" * 32)


def test_https_url_to_a_plain_http_server_is_refused(fake_server):
    server = fake_server(plain=True)
    t = Transport(server.url, fingerprint=server.fingerprint)
    with pytest.raises(TLSError, match="did not answer with TLS"):
        t.request("POST", "/api/v1/enroll", body=ENROLL)
    assert server.requests() == []  # no plaintext request was made


def test_tls_1_1_server_is_refused(fake_server, certs):
    server = fake_server(tls_max="1.1")
    # Control: the server really speaks TLS 1.1 to a client that allows it.
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    ctx.set_ciphers("DEFAULT:@SECLEVEL=0")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # TLS 1.1 is deprecated: the point
        ctx.minimum_version = ssl.TLSVersion.TLSv1_1
    with socket.create_connection(("127.0.0.1", server.port), timeout=5) as s:
        with ctx.wrap_socket(s) as tls:
            assert tls.version() == "TLSv1.1"
    t = Transport(server.url, fingerprint=server.fingerprint)
    with pytest.raises(TLSError, match="older than 1.2"):
        t.request("POST", "/api/v1/enroll", body=ENROLL)


def test_read_timeout_is_enforced(fake_server):
    server = fake_server()
    t = Transport(server.url, fingerprint=server.fingerprint, read_timeout=0.5)
    token = t.request("POST", "/api/v1/enroll", body=ENROLL).body["token"]
    server.plan({"sleep": 3})
    with pytest.raises(NetworkError, match="no answer within 0.5 s"):
        t.request("POST", "/api/v1/checkin", token=token, body={})


def test_connection_refused_is_a_network_error(fake_server):
    server = fake_server()
    url = server.url
    server.stop()
    with pytest.raises(NetworkError, match="cannot reach the server"):
        Transport(url, fingerprint=server.fingerprint, connect_timeout=2).request("GET", "/")


def test_trust_on_first_use_reads_the_servers_fingerprint(fake_server):
    server = fake_server()
    assert fetch_fingerprint(server.url) == server.fingerprint


def test_fingerprint_forms():
    fp = "ab" * 32
    assert normalise_fingerprint(format_fingerprint(fp)) == fp
    assert normalise_fingerprint("SHA256:" + fp.upper()) == fp
    with pytest.raises(TransportError, match="64 hex digits"):
        normalise_fingerprint("abcd")


def test_proxy_settings_are_explicit(monkeypatch):
    monkeypatch.setenv("https_proxy", "http://proxy.example:3128")
    monkeypatch.delenv("no_proxy", raising=False)
    monkeypatch.delenv("NO_PROXY", raising=False)
    # system: the environment/OS proxy is used for a remote server...
    assert system_proxy_for("https://phiwatch.example.org") == {
        "https": "http://proxy.example:3128"
    }
    # ...not for loopback, nor for a host the bypass list names.
    assert system_proxy_for("https://127.0.0.1:8443") == {}
    monkeypatch.setenv("no_proxy", "example.org")
    assert system_proxy_for("https://phiwatch.example.org") == {}
    # none and an explicit URL.
    assert system_proxy_for("https://phiwatch.example.net", "none") == {}
    assert system_proxy_for("https://x.example.net", "http://p:1") == {"https": "http://p:1"}


def test_ca_bundle_environment_cannot_replace_the_pin(fake_server, certs, monkeypatch):
    server = fake_server(cert="other")
    # With requests' defaults this variable would make the "other" cert trusted.
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(certs["other"].cert))
    t = Transport(server.url, ca_cert=str(certs["ca"].cert))
    with pytest.raises(PinError):
        t.request("POST", "/api/v1/enroll", body=ENROLL)


class ConnectProxy:
    """A minimal HTTP CONNECT proxy (what corporate proxies do for https): records the
    targets it tunnels to and relays bytes it cannot read."""

    def __init__(self):
        self.targets: list[str] = []
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self):
        while True:
            try:
                client, _ = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=self._tunnel, args=(client,), daemon=True).start()

    def _tunnel(self, client: socket.socket):
        with client:
            head = b""
            while b"\r\n\r\n" not in head:
                chunk = client.recv(4096)
                if not chunk:
                    return
                head += chunk
            method, target, _ = head.split(b"\r\n")[0].decode().split(" ", 2)
            assert method == "CONNECT"
            self.targets.append(target)
            host, port = target.rsplit(":", 1)
            with socket.create_connection((host, int(port)), timeout=10) as upstream:
                client.sendall(b"HTTP/1.1 200 Connection established\r\n\r\n")
                pumps = [
                    threading.Thread(target=_pump, args=(a, b), daemon=True)
                    for a, b in ((client, upstream), (upstream, client))
                ]
                for p in pumps:
                    p.start()
                for p in pumps:
                    p.join(30)

    def close(self):
        self.sock.close()
        self.thread.join(5)


def _pump(src: socket.socket, dst: socket.socket) -> None:
    try:
        while data := src.recv(65536):
            dst.sendall(data)
    except OSError:
        pass
    finally:
        try:
            dst.shutdown(socket.SHUT_WR)
        except OSError:
            pass


def test_the_pin_holds_through_a_proxy(fake_server, certs):
    server = fake_server()
    proxy = ConnectProxy()
    try:
        via = f"http://127.0.0.1:{proxy.port}"
        t = Transport(server.url, fingerprint=server.fingerprint, proxy=via)
        assert t.request("POST", "/api/v1/enroll", body=ENROLL).status == 201
        t.close()
        assert proxy.targets == [f"127.0.0.1:{server.port}"]
        # A proxy cannot swap the certificate: the pin is checked inside the tunnel.
        bad = Transport(server.url, fingerprint=certs["other"].fingerprint, proxy=via)
        with pytest.raises(PinError):
            bad.request("POST", "/api/v1/enroll", body=ENROLL)
        bad.close()
        assert len(proxy.targets) == 2
    finally:
        proxy.close()
