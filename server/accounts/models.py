"""Console account state: second factor, lock-out, failed-login log, role permissions."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from server.accounts.roles import PERMISSIONS


class Access(models.Model):
    """No table: only the home of the console permissions that the role groups hold."""

    class Meta:
        managed = False
        default_permissions = ()
        permissions = list(PERMISSIONS.items())


class Security(models.Model):
    """Per-user second factor and lock-out state."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="console_security"
    )
    # Fernet token of the base32 TOTP secret (see totp.seal): a database dump alone does
    # not give the second factor away.
    totp_sealed = models.TextField(blank=True, default="")
    totp_required = models.BooleanField(default=False)
    # Highest 30-second step already accepted: a code works once (RFC 6238 section 5.2).
    totp_last_step = models.BigIntegerField(default=0)
    failed_logins = models.PositiveIntegerField(default=0)
    locked_until = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"security of {self.user}"


class LoginFailure(models.Model):
    """One failed login (password or code); serves the per-address throttle."""

    username = models.CharField(max_length=150)
    ip = models.GenericIPAddressField(null=True, blank=True)
    at = models.DateTimeField(auto_now_add=True)

    class Meta:
        # Serves the throttle query: failures from one address since a moment.
        indexes = [models.Index(fields=["ip", "at"], name="accounts_fail_ip_at")]
