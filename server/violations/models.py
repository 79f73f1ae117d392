"""Violations: one row per episode of a rule holding true for a device.

The engine (server/violations/engine.py) opens and resolves them; people acknowledge,
assign or grant a time-boxed exception (the console). Resolved rows stay as history.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q

SEVERITIES = [("critical", "Critical"), ("high", "High"), ("medium", "Medium"), ("low", "Low")]
SEVERITY_RANK = {"critical": 4, "high": 3, "medium": 2, "low": 1, "": 0}
STATUSES = [
    ("open", "Open"),
    ("acknowledged", "Acknowledged"),
    ("excepted", "Excepted"),
    ("resolved", "Resolved"),
]


class Violation(models.Model):
    device = models.ForeignKey(
        "devices.Device", on_delete=models.CASCADE, related_name="violations"
    )
    rule = models.CharField(max_length=50)  # id in rules/violations.yaml
    title = models.CharField(max_length=200)
    severity = models.CharField(max_length=10, choices=SEVERITIES)
    hipaa = models.CharField(max_length=50)  # e.g. "164.312(a)(2)(iv)"
    status = models.CharField(max_length=15, choices=STATUSES, default="open")
    details = models.JSONField(default=dict, blank=True)  # counts and kinds, never values
    opened_at = models.DateTimeField()
    resolved_at = models.DateTimeField(null=True, blank=True)
    last_checked_at = models.DateTimeField(null=True, blank=True)
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
        related_name="assigned_violations",
    )
    acknowledged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
        related_name="acknowledged_violations",
    )
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    exception_until = models.DateTimeField(null=True, blank=True)
    exception_justification = models.TextField(blank=True, default="")

    class Meta:
        constraints = [
            # At most one unresolved episode per rule per device; the engine relies on it.
            models.UniqueConstraint(
                fields=["device", "rule"], condition=Q(resolved_at__isnull=True),
                name="violation_open_once",
            ),
        ]
        indexes = [
            # "unresolved violations of device D" (every check-in's reconciliation).
            models.Index(fields=["device", "resolved_at"], name="violation_device_open"),
            # "open violations by status and severity" (the console's queue).
            models.Index(fields=["status", "severity", "-opened_at"], name="violation_queue"),
            # "violations of rule R opened in a period" (trend, audit evidence).
            models.Index(fields=["rule", "opened_at"], name="violation_rule_time"),
        ]

    @property
    def is_open(self) -> bool:
        return self.resolved_at is None
