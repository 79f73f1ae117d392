"""Write the macOS configuration profile that carries phiwatch's managed settings.

    python installers/macos/make_profile.py --server-url https://phiwatch.example.org:8443 \
        --secret "$(phiwatch-server secret create --uses 500 --expires 14 | tail -1)" \
        --fingerprint AB:CD:... -o phiwatch.mobileconfig

Upload the result to Jamf (Configuration Profiles > Upload), Kandji (Custom Profile) or
Intune (Devices > macOS > Configuration > Templates > Custom). macOS then writes
/Library/Managed Preferences/com.phiwatch.agent.plist, which the agent reads
(docs/protocol.md, "Managed configuration"). The payload's type is the preference domain
itself, com.phiwatch.agent, with the settings as plain keys (deployment.md 2.3, the
pattern of Fleet's com.fleetdm.fleetd.config).

Standard library only: IT can run it anywhere Python 3.11 runs.
"""

from __future__ import annotations

import argparse
import plistlib
import sys
import uuid
from pathlib import Path
from typing import Any

DOMAIN = "com.phiwatch.agent"
PROFILE_ID = "com.phiwatch.profile.settings"


def build_profile(
    settings: dict[str, Any],
    organization: str = "phiwatch",
    profile_uuid: str | None = None,
    payload_uuid: str | None = None,
) -> dict[str, Any]:
    """The profile as a dict (plistlib writes it). Empty settings are left out."""
    if not str(settings.get("server_url", "")).startswith("https://"):
        raise ValueError("server_url must be an https:// URL")
    payload: dict[str, Any] = {
        "PayloadType": DOMAIN,
        "PayloadIdentifier": f"{PROFILE_ID}.{DOMAIN}",
        "PayloadUUID": payload_uuid or str(uuid.uuid4()).upper(),
        "PayloadVersion": 1,
        "PayloadDisplayName": "phiwatch agent settings",
        "PayloadDescription": "Server and enrollment settings for the phiwatch agent",
        "PayloadOrganization": organization,
    }
    payload.update({k: v for k, v in settings.items() if v not in (None, "", [])})
    return {
        "PayloadType": "Configuration",
        "PayloadVersion": 1,
        "PayloadIdentifier": PROFILE_ID,
        "PayloadUUID": profile_uuid or str(uuid.uuid4()).upper(),
        "PayloadDisplayName": "phiwatch",
        "PayloadDescription": "Managed settings for the phiwatch endpoint compliance agent",
        "PayloadOrganization": organization,
        "PayloadScope": "System",
        # Only IT (the MDM) removes it: the user cannot delete it in System Settings.
        "PayloadRemovalDisallowed": True,
        "PayloadContent": [payload],
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--server-url", required=True)
    parser.add_argument("--secret", required=True, help="enrollment secret")
    pin = parser.add_mutually_exclusive_group()
    pin.add_argument("--fingerprint", help="SHA-256 of the server certificate")
    pin.add_argument("--ca-cert", help="path of a CA bundle on the Macs")
    parser.add_argument(
        "--root", action="append", default=[], dest="roots", help="folder to watch (repeat)"
    )
    parser.add_argument("--organization", default="phiwatch")
    parser.add_argument("-o", "--output", type=Path, required=True)
    args = parser.parse_args(argv)
    settings = {
        "server_url": args.server_url,
        "enrollment_secret": args.secret,
        "fingerprint": args.fingerprint,
        "ca_cert": args.ca_cert,
        "roots": args.roots,
    }
    try:
        profile = build_profile(settings, args.organization)
    except ValueError as e:
        print(f"make_profile: {e}", file=sys.stderr)
        return 2
    args.output.write_bytes(plistlib.dumps(profile, sort_keys=True))
    print(args.output)
    return 0


if __name__ == "__main__":
    sys.exit(main())
