"""A device and its latest state.

The fleet pages and the fleet-summary query read only this table: each check-in copies
the posture verdicts, PHI counts and violation counts here (denormalised), so a question
about 100,000 devices is one scan of one narrow table, never a join over history.
History lives in checkins (reports, posture snapshots, events), findings and violations.
"""

from __future__ import annotations

import uuid

from django.db import models

# Lifecycle states owned by server/lifecycle (issue: device lifecycle); the violation
# engine reads them (a lost, stolen or disposed device that checks in again).
LIFECYCLE_STATES = [
    ("in_service", "In service"),
    ("in_repair", "In repair"),
    ("loaned", "Loaned"),
    ("lost", "Lost"),
    ("stolen", "Stolen"),
    ("retired", "Retired"),
    ("sanitized", "Sanitized"),
    ("disposed", "Disposed"),
    ("reissued", "Reissued"),
]
GONE_STATES = ("lost", "stolen", "disposed")


class Device(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    # Enrolling the same machine again re-uses this record (docs/protocol.md, Enroll).
    machine_id = models.CharField(max_length=200, unique=True)
    hostname = models.CharField(max_length=255, blank=True, default="")
    hardware_serial = models.CharField(max_length=200, blank=True, default="")
    hardware_model = models.CharField(max_length=200, blank=True, default="")
    manufacturer = models.CharField(max_length=200, blank=True, default="")
    os = models.CharField(max_length=20, blank=True, default="")
    os_version = models.CharField(max_length=100, blank=True, default="")
    agent_version = models.CharField(max_length=50, blank=True, default="")
    enrolled_at = models.DateTimeField(auto_now_add=True)

    lifecycle_state = models.CharField(
        max_length=20, choices=LIFECYCLE_STATES, default="in_service", db_index=True
    )

    # --- latest state, rewritten by every check-in ---
    last_seen = models.DateTimeField(null=True, blank=True)
    last_report_id = models.UUIDField(null=True, blank=True)
    inventory = models.JSONField(default=dict, blank=True)
    posture = models.JSONField(default=dict, blank=True)  # {check_id: status}
    posture_checked_at = models.DateTimeField(null=True, blank=True)
    posture_failing = models.PositiveIntegerField(default=0)
    disk_encrypted = models.BooleanField(null=True)  # None: not reported / unknown
    phi_files = models.PositiveIntegerField(default=0)
    pii_files = models.PositiveIntegerField(default=0)
    phi_present = models.BooleanField(default=False)
    open_violations = models.PositiveIntegerField(default=0)
    worst_severity = models.CharField(max_length=10, blank=True, default="")
    outbox_depth = models.PositiveIntegerField(default=0)
    outbox_dropped = models.JSONField(default=dict, blank=True)

    class Meta:
        indexes = [
            # "devices silent since T" (the silent-device sweep, the fleet page's filter).
            models.Index(fields=["last_seen"], name="device_last_seen"),
            # "devices holding PHI now", newest first (compliance's first question).
            models.Index(fields=["phi_present", "last_seen"], name="device_phi_seen"),
            # "devices with an unencrypted system disk".
            models.Index(fields=["disk_encrypted"], name="device_disk_enc"),
            # "devices with open violations of severity S" (fleet page sort/filter).
            models.Index(fields=["worst_severity", "open_violations"], name="device_worst"),
            # look-up by asset tag / serial from the lifecycle pages.
            models.Index(fields=["hardware_serial"], name="device_serial"),
            models.Index(fields=["hostname"], name="device_hostname"),
        ]

    def __str__(self) -> str:
        return f"{self.hostname or self.machine_id} ({self.id})"
