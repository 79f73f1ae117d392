"""The server's self-signed certificate, made on first start (cryptography)."""

from __future__ import annotations

import datetime
import hashlib
import ipaddress
import os
import socket
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID


def paths(home: Path) -> tuple[Path, Path]:
    d = home / "tls"
    return d / "cert.pem", d / "key.pem"


def ensure_certificate(home: Path, extra_hosts: list[str] = ()) -> tuple[Path, Path]:
    """Return (cert, key), creating them when missing. The key file is owner-only."""
    cert_path, key_path = paths(home)
    if cert_path.exists() and key_path.exists():
        return cert_path, key_path
    cert_path.parent.mkdir(parents=True, exist_ok=True)
    key = ec.generate_private_key(ec.SECP256R1())
    hostname = socket.gethostname()
    names: list[x509.GeneralName] = [x509.DNSName("localhost")]
    if hostname and hostname != "localhost":
        names.append(x509.DNSName(hostname))
    ips = {"127.0.0.1", "::1"}
    for h in extra_hosts:
        try:
            ips.add(str(ipaddress.ip_address(h)))
        except ValueError:
            if h and h not in ("localhost", hostname):
                names.append(x509.DNSName(h))
    names += [x509.IPAddress(ipaddress.ip_address(i)) for i in sorted(ips) if i != "0.0.0.0"]
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, f"phiwatch-server {hostname}")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject).issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        # 825 days: the longest validity Apple platforms accept for a TLS server cert.
        .not_valid_after(now + datetime.timedelta(days=825))
        .add_extension(x509.SubjectAlternativeName(names), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .sign(key, hashes.SHA256())
    )
    fd = os.open(key_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(key.private_bytes(serialization.Encoding.PEM,
                                  serialization.PrivateFormat.PKCS8,
                                  serialization.NoEncryption()))
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    return cert_path, key_path


def fingerprint(cert_path: Path) -> str:
    """SHA-256 of the DER certificate, colon-separated upper-case hex (what agents pin)."""
    cert = x509.load_pem_x509_certificate(cert_path.read_bytes())
    digest = hashlib.sha256(cert.public_bytes(serialization.Encoding.DER)).hexdigest().upper()
    return ":".join(digest[i:i + 2] for i in range(0, len(digest), 2))
