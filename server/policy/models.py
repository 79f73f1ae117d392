"""Server-side policy overrides: each change is a new revision (history kept)."""

from __future__ import annotations

from django.db import models


class PolicyRevision(models.Model):
    overrides = models.JSONField(default=dict)  # keys of rules/policy.yaml -> new values
    created_at = models.DateTimeField(auto_now_add=True)
    actor = models.CharField(max_length=150, blank=True, default="")
    note = models.CharField(max_length=200, blank=True, default="")
