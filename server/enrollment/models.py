"""Enrollment secrets and device tokens. Only SHA-256 hashes are stored.

Both are 32 random bytes (secrets.token_urlsafe), so a plain SHA-256 is not
brute-forceable and keeps the per-request look-up one indexed equality.
"""

from __future__ import annotations

import hashlib
import secrets

from django.db import models


def new_token(prefix: str) -> str:
    """32 random bytes behind a fixed prefix. The prefix keeps the value from starting
    with "-" (token_urlsafe does 1 time in 64, and `phiwatch enroll --secret -xyz` is
    then read as an option) and lets secret scanners recognise a leaked one."""
    return prefix + secrets.token_urlsafe(32)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


class EnrollmentSecret(models.Model):
    secret_hash = models.CharField(max_length=64, unique=True)  # the enroll look-up
    prefix = models.CharField(max_length=8)  # first characters, to tell secrets apart
    note = models.CharField(max_length=200, blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.CharField(max_length=150, blank=True, default="")
    expires_at = models.DateTimeField(null=True, blank=True)
    uses_allowed = models.PositiveIntegerField(null=True, blank=True)  # None: unlimited
    uses_left = models.PositiveIntegerField(null=True, blank=True)
    used_count = models.PositiveIntegerField(default=0)
    revoked_at = models.DateTimeField(null=True, blank=True)

    def state(self, now) -> str:
        if self.revoked_at:
            return "revoked"
        if self.expires_at and self.expires_at <= now:
            return "expired"
        if self.uses_left is not None and self.uses_left <= 0:
            return "used_up"
        return "active"


class DeviceToken(models.Model):
    device = models.ForeignKey("devices.Device", on_delete=models.CASCADE, related_name="tokens")
    token_hash = models.CharField(max_length=64, unique=True)  # every API request's look-up
    created_at = models.DateTimeField(auto_now_add=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoked_reason = models.CharField(max_length=50, blank=True, default="")

    class Meta:
        indexes = [
            # "revoke every live token of device D" (re-enroll, rotate, CLI token revoke).
            models.Index(fields=["device", "revoked_at"], name="token_device_live"),
        ]
