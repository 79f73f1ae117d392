"""TOTP second factor (RFC 6238, 30-second steps, 6 digits) with pyotp.

Secrets are kept sealed with a Fernet key derived from SECRET_KEY, and each code is
accepted once: verify() records the step it matched with a conditional update, so two
concurrent logins with one code cannot both pass.
"""

from __future__ import annotations

import base64
import hashlib
import time
from typing import Any

import pyotp
from cryptography.fernet import Fernet, InvalidToken
from django.conf import settings

from server.accounts.models import Security

ISSUER = "phiwatch"


def _fernet() -> Fernet:
    digest = hashlib.sha256(b"phiwatch-totp-seal:" + settings.SECRET_KEY.encode()).digest()
    return Fernet(base64.urlsafe_b64encode(digest))


def seal(secret: str) -> str:
    return _fernet().encrypt(secret.encode()).decode()


def unseal(token: str) -> str | None:
    """The secret, or None when it was sealed under another SECRET_KEY (re-enrol then)."""
    try:
        return _fernet().decrypt(token.encode()).decode()
    except InvalidToken:
        return None


def security_of(user: Any) -> Security:
    sec, _ = Security.objects.get_or_create(user=user)
    return sec


def enrol(user: Any) -> tuple[str, str]:
    """Give the user a new TOTP secret; returns (secret, otpauth provisioning URI)."""
    secret = pyotp.random_base32()
    sec = security_of(user)
    sec.totp_sealed = seal(secret)
    sec.totp_last_step = 0
    sec.save(update_fields=["totp_sealed", "totp_last_step"])
    uri = pyotp.TOTP(secret).provisioning_uri(name=user.get_username(), issuer_name=ISSUER)
    return secret, uri


def has_totp(user: Any) -> bool:
    sec = Security.objects.filter(user=user).first()
    return bool(sec and sec.totp_sealed)


def verify(user: Any, code: str, now: float | None = None) -> bool:
    """True once per valid code: the current step or one either side (clock drift)."""
    code = (code or "").strip().replace(" ", "")
    if not (code.isdigit() and len(code) == 6):
        return False
    sec = Security.objects.filter(user=user).first()
    secret = unseal(sec.totp_sealed) if sec and sec.totp_sealed else None
    if not secret:
        return False
    totp = pyotp.TOTP(secret)
    now = time.time() if now is None else now
    for drift in (0, -1, 1):
        at = now + drift * totp.interval
        if totp.verify(code, for_time=at, valid_window=0):
            step = totp.timecode(at)
            # Conditional update: only a step newer than the last accepted one counts.
            return bool(
                Security.objects.filter(pk=sec.pk, totp_last_step__lt=step).update(
                    totp_last_step=step
                )
            )
    return False

