"""Findings: one row per episode of a file holding PHI/PII on a device.

A finding that is resolved and later reappears opens a new row, so each episode keeps
its own opened/resolved times. Rows carry counts and kinds, never a matched value.
"""

from __future__ import annotations

from django.db import models
from django.db.models import Q


class Finding(models.Model):
    device = models.ForeignKey("devices.Device", on_delete=models.CASCADE, related_name="findings")
    finding_id = models.CharField(max_length=128)  # agent's HMAC of the full path
    classification = models.CharField(max_length=10)  # phi | pii
    identifiers = models.JSONField(default=dict, blank=True)  # {kind: count}
    health = models.JSONField(default=dict, blank=True)  # {kind: count}
    format = models.CharField(max_length=50, blank=True, default="")
    bytes = models.BigIntegerField(default=0)
    path = models.TextField(null=True, blank=True)  # only when policy report_paths == full
    folder = models.TextField(null=True, blank=True)
    name_hash = models.CharField(max_length=128, blank=True, default="")
    volume_mount = models.TextField(blank=True, default="")
    volume_encrypted = models.BooleanField(null=True)
    volume_removable = models.BooleanField(default=False)
    volume_cloud = models.CharField(max_length=50, null=True, blank=True)
    first_seen = models.DateTimeField(null=True, blank=True)  # agent clock
    last_seen = models.DateTimeField(null=True, blank=True)  # agent clock
    opened_at = models.DateTimeField(auto_now_add=True)  # server clock
    resolved_at = models.DateTimeField(null=True, blank=True)
    resolved_reason = models.CharField(max_length=30, blank=True, default="")

    class Meta:
        constraints = [
            # At most one open episode per file per device.
            models.UniqueConstraint(
                fields=["device", "finding_id"], condition=Q(resolved_at__isnull=True),
                name="finding_open_once",
            ),
        ]
        indexes = [
            # "open findings of device D" (every check-in's reconciliation, device page).
            models.Index(fields=["device", "resolved_at"], name="finding_device_open"),
            # "PHI files opened per week" (trend) and "open PHI findings" fleet-wide.
            models.Index(fields=["classification", "opened_at"], name="finding_class_time"),
        ]
