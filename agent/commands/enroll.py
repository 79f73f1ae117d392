"""Enroll this device with a phiwatch server.

Pins the server's certificate (--fingerprint as printed by `phiwatch-server run`, or
--ca-cert; --trust-on-first-use only when asked), stores the device token and prints the
device id and where the token is kept. Without arguments, uses the managed (or user)
configuration: server_url, enrollment_secret, fingerprint / ca_cert.
"""

from __future__ import annotations

import argparse
import json
import sys

from agent.config import ConfigError, load_config
from agent.credentials import CredentialError, TokenStore
from agent.enroll import EnrollError, enroll
from agent.transport import TransportError, format_fingerprint


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--server", metavar="URL", help="https URL of the server")
    parser.add_argument("--secret", help="enrollment secret from `phiwatch-server secret create`")
    pin = parser.add_mutually_exclusive_group()
    pin.add_argument("--fingerprint", metavar="SHA256", help="SHA-256 of the server certificate")
    pin.add_argument(
        "--ca-cert", metavar="FILE", help="PEM CA file that signs the server certificate"
    )
    pin.add_argument(
        "--trust-on-first-use",
        action="store_true",
        help="pin whatever certificate the server shows now (printed; check it)",
    )
    parser.add_argument("--format", choices=("table", "json"), default="table")


def run(args: argparse.Namespace) -> int:
    try:
        config = load_config()
    except ConfigError as e:
        print(f"phiwatch enroll: {e}", file=sys.stderr)
        return 2
    server = args.server or config.server_url
    secret = args.secret or config.enrollment_secret
    fingerprint, ca_cert = args.fingerprint, args.ca_cert
    if not (fingerprint or ca_cert or args.trust_on_first_use) and not args.server:
        fingerprint, ca_cert = config.fingerprint, config.ca_cert
    if not server or not secret:
        print(
            "phiwatch enroll: --server and --secret are needed (or managed configuration "
            "with server_url and enrollment_secret)",
            file=sys.stderr,
        )
        return 2
    try:
        result = enroll(
            server,
            secret,
            fingerprint=fingerprint,
            ca_cert=ca_cert,
            trust_on_first_use=args.trust_on_first_use,
            config=config,
        )
    except (EnrollError, TransportError, CredentialError) as e:
        print(f"phiwatch enroll: {e}", file=sys.stderr)
        return 1
    where = TokenStore(kind=result.token_store).describe()
    pin = (
        f"fingerprint {format_fingerprint(result.fingerprint)}"
        if result.fingerprint
        else f"CA {result.ca_cert}"
        if result.ca_cert
        else "system CAs"
    )
    if args.format == "json":
        print(
            json.dumps(
                {
                    "device_id": result.device_id,
                    "server_url": result.server_url,
                    "token_store": where,
                    "pin": pin,
                }
            )
        )
    else:
        print(f"enrolled: device {result.device_id}")
        print(f"server:   {result.server_url}")
        print(f"pinned:   {pin}")
        print(f"token:    {where}")
    return 0
