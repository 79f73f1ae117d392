"""Login throttling (per address) and lock-out (per account).

Both count failures of either factor. A locked account answers like a throttled
address, so the message does not tell an attacker which usernames exist.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.db.models import F
from django.utils import timezone

from server.accounts import conf
from server.accounts.errors import LockedOut
from server.accounts.models import LoginFailure, Security

MESSAGE = "Too many failed attempts. Try again later or ask IT to unlock the account."


def client_ip(request: Any) -> str | None:
    # REMOTE_ADDR, not X-Forwarded-For: a client sets that header to anything it likes.
    # Behind a load balancer, have it set REMOTE_ADDR (e.g. gunicorn --forwarded-allow-ips).
    return request.META.get("REMOTE_ADDR") or None


def check(username: str, ip: str | None) -> None:
    """Raise LockedOut when the address is throttled or the account is locked."""
    now = timezone.now()
    since = now - timedelta(seconds=conf.lockout_seconds())
    if ip and LoginFailure.objects.filter(ip=ip, at__gte=since).count() >= conf.throttle_per_ip():
        raise LockedOut(MESSAGE)
    if Security.objects.filter(
        user__username=username, locked_until__gt=now
    ).exists():
        raise LockedOut(MESSAGE)


def failed(username: str, ip: str | None, user: Any | None = None) -> None:
    """Record a failure; lock the account once it reaches the threshold."""
    LoginFailure.objects.create(username=username[:150], ip=ip)
    if user is None:
        return
    sec, _ = Security.objects.get_or_create(user=user)
    # F() increment: two parallel wrong guesses both count.
    Security.objects.filter(pk=sec.pk).update(failed_logins=F("failed_logins") + 1)
    sec.refresh_from_db(fields=["failed_logins"])
    if sec.failed_logins >= conf.lockout_threshold():
        Security.objects.filter(pk=sec.pk).update(
            locked_until=timezone.now() + timedelta(seconds=conf.lockout_seconds()),
            failed_logins=0,
        )


def succeeded(user: Any) -> None:
    Security.objects.filter(user=user).update(failed_logins=0, locked_until=None)


def unlock(user: Any) -> None:
    Security.objects.filter(user=user).update(failed_logins=0, locked_until=None)
