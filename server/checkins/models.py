"""Check-in history: one Report per delivered report_id, posture snapshots, events."""

from __future__ import annotations

from django.db import models


class Report(models.Model):
    # Unique: a report delivered twice is stored once (the second answers "duplicate").
    report_id = models.UUIDField(unique=True)
    device = models.ForeignKey("devices.Device", on_delete=models.CASCADE, related_name="reports")
    created_at = models.DateTimeField()  # agent clock
    received_at = models.DateTimeField(auto_now_add=True)  # server clock
    agent_version = models.CharField(max_length=50, blank=True, default="")
    findings_count = models.PositiveIntegerField(default=0)
    findings_complete = models.BooleanField(default=False)
    # When the report carried posture: the agent's check time. A snapshot row is written
    # only when a verdict changed, so this is the evidence that an unchanged posture was
    # checked again (a fleet reporting every 10 minutes would otherwise write 14 million
    # identical snapshots a day at 100,000 devices).
    posture_checked_at = models.DateTimeField(null=True, blank=True)
    outbox = models.JSONField(default=dict, blank=True)

    class Meta:
        indexes = [
            # "a device's check-ins, newest first" (device page, evidence age at loss).
            models.Index(fields=["device", "-received_at"], name="report_device_time"),
            # "check-ins per hour across the fleet" (trend charts).
            models.Index(fields=["received_at"], name="report_time"),
        ]


class PostureSnapshot(models.Model):
    device = models.ForeignKey("devices.Device", on_delete=models.CASCADE, related_name="postures")
    report = models.OneToOneField(Report, on_delete=models.CASCADE, related_name="posture")
    checked_at = models.DateTimeField()
    checks = models.JSONField(default=list)  # the CHECK objects as received
    failing = models.PositiveIntegerField(default=0)

    class Meta:
        indexes = [
            # "posture of device D over time" (trend, audit evidence at a date).
            models.Index(fields=["device", "-checked_at"], name="posture_device_time"),
        ]


class Event(models.Model):
    device = models.ForeignKey("devices.Device", on_delete=models.CASCADE, related_name="events")
    report = models.ForeignKey(Report, on_delete=models.CASCADE, related_name="events")
    event_id = models.UUIDField()
    type = models.CharField(max_length=40)
    at = models.DateTimeField()
    data = models.JSONField(default=dict, blank=True)

    class Meta:
        constraints = [
            # An event re-sent inside a later report is stored once.
            models.UniqueConstraint(fields=["device", "event_id"], name="event_once"),
        ]
        indexes = [
            # "events of device D, newest first" (device timeline).
            models.Index(fields=["device", "-at"], name="event_device_time"),
            # "all media_mounted events this week" (removable media report).
            models.Index(fields=["type", "-at"], name="event_type_time"),
        ]
