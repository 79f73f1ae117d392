"""Enrollment secrets (create, revoke, consume) and device tokens (issue, rotate, revoke)."""

from __future__ import annotations

import hmac
from datetime import timedelta

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from server.audit import log
from server.devices.models import Device
from server.enrollment.models import DeviceToken, EnrollmentSecret, new_token, token_hash
from server.errors import ApiError, ServerError


def create_secret(actor: str, uses: int | None = None, expires_days: float | None = None,
                  note: str = "") -> tuple[EnrollmentSecret, str]:
    """Returns the row and the secret itself (shown once, never stored)."""
    if uses is not None and uses < 1:
        raise ServerError("--uses must be at least 1")
    if expires_days is not None and expires_days <= 0:
        raise ServerError("--expires must be a positive number of days")
    secret = new_token("pwe_")
    row = EnrollmentSecret.objects.create(
        secret_hash=token_hash(secret), prefix=secret[:6], note=note, created_by=actor,
        uses_allowed=uses, uses_left=uses,
        expires_at=timezone.now() + timedelta(days=expires_days) if expires_days else None,
    )
    log.record(actor, "secret.create", f"secret:{row.id}",
               {"uses": uses, "expires_days": expires_days})
    return row, secret


def revoke_secret(actor: str, secret_id: int) -> EnrollmentSecret:
    n = EnrollmentSecret.objects.filter(pk=secret_id, revoked_at__isnull=True).update(
        revoked_at=timezone.now())
    if not n:
        raise ServerError(f"no active enrollment secret with id {secret_id}")
    log.record(actor, "secret.revoke", f"secret:{secret_id}", {})
    return EnrollmentSecret.objects.get(pk=secret_id)


def consume_secret(secret: str) -> EnrollmentSecret:
    """Use one enrollment of the secret, or raise ApiError(401)."""
    digest = token_hash(secret)
    row = EnrollmentSecret.objects.filter(secret_hash=digest).first()
    now = timezone.now()
    bad = ApiError(401, "unknown, expired, revoked or used-up enrollment secret", "secret")
    if row is None or not hmac.compare_digest(row.secret_hash, digest):
        raise bad
    live = EnrollmentSecret.objects.filter(pk=row.pk, revoked_at__isnull=True).exclude(
        expires_at__lte=now)
    if row.uses_left is None:
        n = live.filter(uses_left__isnull=True).update(used_count=F("used_count") + 1)
    else:
        # Conditional decrement: of two racing enrollments on the last use, the database
        # lets exactly one UPDATE match uses_left > 0; the other gets 0 rows and a 401.
        n = live.filter(uses_left__gt=0).update(
            uses_left=F("uses_left") - 1, used_count=F("used_count") + 1)
    if n != 1:
        raise bad
    return row


def issue_token(device_id, reason: str) -> str:
    """Revoke every live token of the device and return a new one (stored as a hash)."""
    now = timezone.now()
    DeviceToken.objects.filter(device_id=device_id, revoked_at__isnull=True).update(
        revoked_at=now, revoked_reason=reason)
    token = new_token("pwt_")
    DeviceToken.objects.create(device_id=device_id, token_hash=token_hash(token))
    return token


def enroll(data) -> tuple[Device, str]:
    with transaction.atomic():
        secret = consume_secret(data.secret)
        fields = {
            "hostname": data.hostname, "hardware_serial": data.hardware_serial or "",
            "os": data.os, "os_version": data.os_version, "agent_version": data.agent_version,
        }
        # A re-imaged laptop keeps its record and history; its older tokens stop working.
        device = Device.objects.select_for_update().filter(machine_id=data.machine_id).first()
        if device is None:
            device = Device.objects.create(machine_id=data.machine_id, **fields)
            action = "device.enroll"
        else:
            Device.objects.filter(pk=device.pk).update(**fields)
            action = "device.reenroll"
        token = issue_token(device.id, "reenrolled")
        log.record("device:" + str(device.id), action, f"device:{device.id}",
                   {"secret_id": secret.id, "hostname": data.hostname, "os": data.os})
    return device, token


def rotate(device_id) -> str:
    with transaction.atomic():
        token = issue_token(device_id, "rotated")
        log.record(f"device:{device_id}", "token.rotate", f"device:{device_id}", {})
    return token


def revoke_tokens(actor: str, device: Device) -> int:
    with transaction.atomic():
        n = DeviceToken.objects.filter(device=device, revoked_at__isnull=True).update(
            revoked_at=timezone.now(), revoked_reason="revoked")
        log.record(actor, "token.revoke", f"device:{device.id}", {"tokens": n})
    return n
