"""System checks that name a console configuration that would weaken sign-in."""

from __future__ import annotations

from django.conf import settings
from django.core.checks import Error, Warning, register

ARGON2 = "django.contrib.auth.hashers.Argon2PasswordHasher"


@register()
def check_console_security(app_configs, **kwargs):
    problems = []
    hashers = list(getattr(settings, "PASSWORD_HASHERS", []))
    if not hashers or hashers[0] != ARGON2:
        problems.append(
            Error(
                "Console passwords must be hashed with argon2.",
                hint=f"Put {ARGON2!r} first in PASSWORD_HASHERS.",
                id="accounts.E001",
            )
        )
    for name in ("SESSION_COOKIE_SECURE", "CSRF_COOKIE_SECURE"):
        if not getattr(settings, name, False):
            problems.append(
                Warning(
                    f"{name} is off: the console's cookies could travel over plain HTTP.",
                    hint=f"Set {name} = True (the server always serves HTTPS).",
                    id="accounts.W001",
                )
            )
    if "django.contrib.sessions.middleware.SessionMiddleware" not in settings.MIDDLEWARE:
        problems.append(
            Error("The console needs SessionMiddleware.", id="accounts.E002")
        )
    return problems
