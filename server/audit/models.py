"""The audit log: append-only rows, each carrying the SHA-256 of its predecessor.

Refused at the model level: saving an existing row, deleting, queryset update/delete.
(SQL run around Django can still change rows; ``phiwatch-server audit verify`` catches
that by recomputing the chain.)
"""

from __future__ import annotations

from django.db import models

from server.errors import AppendOnly


class AppendOnlyQuerySet(models.QuerySet):
    def update(self, **kwargs):
        raise AppendOnly("the audit log is append-only: update refused")

    def delete(self):
        raise AppendOnly("the audit log is append-only: delete refused")

    def bulk_update(self, objs, fields, batch_size=None):
        raise AppendOnly("the audit log is append-only: update refused")


class AuditEntry(models.Model):
    id = models.BigAutoField(primary_key=True)
    at = models.DateTimeField()
    actor = models.CharField(max_length=150)  # "user:alice", "device:<uuid>", "system", "cli"
    action = models.CharField(max_length=80)  # e.g. "device.enroll", "violation.open"
    target = models.CharField(max_length=200)  # e.g. "device:<uuid>"
    details = models.JSONField(default=dict)  # never a PHI value
    prev_hash = models.CharField(max_length=64)
    hash = models.CharField(max_length=64, unique=True)

    objects = AppendOnlyQuerySet.as_manager()

    class Meta:
        indexes = [
            # "what happened to target T" (device page history, auditor's export).
            models.Index(fields=["target", "id"], name="audit_target"),
            # "what did actor A do" (access review).
            models.Index(fields=["actor", "id"], name="audit_actor"),
        ]

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise AppendOnly("the audit log is append-only: update refused")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise AppendOnly("the audit log is append-only: delete refused")


class AuditHead(models.Model):
    """One row: the chain's last hash. Locked (select_for_update) by each append so two
    processes never chain onto the same predecessor."""

    id = models.PositiveSmallIntegerField(primary_key=True, default=1)
    last_hash = models.CharField(max_length=64)
    last_id = models.BigIntegerField(default=0)
