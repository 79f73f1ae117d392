"""The controls the console reports on, each with its HIPAA Security Rule section.

Data, not code: to add a control, add a row. `kind` says where its verdict comes from:
  posture - Device.posture[id]["status"], as the agent's check reported it ("pass", ...)
  phi     - Device.phi_present is False (no file holding PHI at the last scan)
  recent  - Device.last_seen within the policy's silent_after_seconds
Sections follow /work/shared/reference/posture.md section 0.4 (45 CFR Part 164).
"""

from __future__ import annotations

CONTROLS: list[dict[str, str]] = [
    {"id": "disk_encryption", "short": "Disk", "label": "Disk encryption", "hipaa": "164.312(a)(2)(iv)",
     "rule": "Encryption and decryption", "kind": "posture"},
    {"id": "screen_lock", "short": "Lock", "label": "Screen lock", "hipaa": "164.310(c)",
     "rule": "Workstation security", "kind": "posture"},
    {"id": "auto_logoff", "short": "Logoff", "label": "Automatic logoff", "hipaa": "164.312(a)(2)(iii)",
     "rule": "Automatic logoff", "kind": "posture"},
    {"id": "no_phi", "short": "PHI", "label": "No PHI on the workstation", "hipaa": "164.310(d)(1)",
     "rule": "Device and media controls", "kind": "phi"},
    {"id": "checked_in", "short": "Seen", "label": "Checked in recently", "hipaa": "164.312(b)",
     "rule": "Audit controls", "kind": "recent"},
    {"id": "removable_media", "short": "Media", "label": "Removable media", "hipaa": "164.310(d)(1)",
     "rule": "Device and media controls", "kind": "posture"},
    {"id": "firewall", "short": "Firewall", "label": "Firewall", "hipaa": "164.312(e)(1)",
     "rule": "Transmission security", "kind": "posture"},
    {"id": "os_updates", "short": "Updates", "label": "Automatic updates", "hipaa": "164.308(a)(5)(ii)(B)",
     "rule": "Protection from malicious software", "kind": "posture"},
    {"id": "os_supported", "short": "OS", "label": "Supported OS", "hipaa": "164.308(a)(1)(ii)(B)",
     "rule": "Risk management", "kind": "posture"},
]
BY_ID = {c["id"]: c for c in CONTROLS}
POSTURE_IDS = [c["id"] for c in CONTROLS if c["kind"] == "posture"]

# Devices the fleet figures count: the ones people use. Lost, stolen and retired devices
# have their own pages (lifecycle) and would skew the shares either way.
ACTIVE_STATES = ["in_service", "in_repair", "loaned", "reissued"]

SEVERITIES = ["critical", "high", "medium", "low"]
