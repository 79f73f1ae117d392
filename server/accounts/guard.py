"""The gate every console page passes: login, second factor, idle logoff, role, headers.

A decorator rather than middleware, so the console's rules travel with its views and
do not depend on the order of MIDDLEWARE (which the API shares).
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

from django.contrib.auth import logout
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.csrf import csrf_protect

from server.accounts import conf
from server.accounts.context import nav
from server.accounts.roles import perm, role_requires_totp

SEEN = "console_seen"  # session key: time of the last request
MFA = "console_mfa"  # session key: the second factor was passed in this session

# Strict CSP: no inline script or style anywhere in the console (SVG charts use
# presentation attributes, not style=""), nothing from another origin.
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "font-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'none'; "
    "frame-ancestors 'none'; form-action 'self'"
)


def secure_headers(request: HttpRequest, response: HttpResponse) -> HttpResponse:
    response["Content-Security-Policy"] = CSP
    response["X-Content-Type-Options"] = "nosniff"
    response["X-Frame-Options"] = "DENY"
    # same-origin, not no-referrer: with no-referrer Chromium sends "Origin: null" on form
    # POSTs, and Django's CSRF check over HTTPS (rightly) refuses those.
    response["Referrer-Policy"] = "same-origin"
    response["Cross-Origin-Opener-Policy"] = "same-origin"
    if request.is_secure():
        # Browsers ignore HSTS over plain HTTP (RFC 6797 section 8.1), so only send it on TLS.
        response["Strict-Transport-Security"] = "max-age=31536000; includeSubDomains"
    if not response.has_header("Cache-Control"):
        # Pages name devices and where PHI sits on them: keep them out of disk caches.
        response["Cache-Control"] = "no-store"
    return response


def login_redirect(request: HttpRequest, reason: str | None = None) -> HttpResponse:
    query = {"next": request.get_full_path()}
    if reason:
        query["reason"] = reason
    return HttpResponseRedirect(f"{reverse('accounts:login')}?{urlencode(query)}")


def idle_expired(request: HttpRequest) -> bool:
    seen = request.session.get(SEEN)
    return seen is not None and time.time() - float(seen) > conf.idle_seconds()


def touch(request: HttpRequest) -> None:
    """Record activity. Writing the session on every request costs a database write per
    page; a tenth of the idle limit (at most 10 s) of slack keeps the logoff honest."""
    now = time.time()
    seen = float(request.session.get(SEEN) or 0)
    if now - seen >= min(10.0, conf.idle_seconds() / 10):
        request.session[SEEN] = now


def console_view(permission: str | None = None) -> Callable:
    """Wrap a console view: signed in with the required factors, not idle, allowed."""

    def wrap(view: Callable) -> Callable:
        @functools.wraps(view)
        @csrf_protect
        def inner(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            user = request.user
            if not user.is_authenticated:
                return secure_headers(request, login_redirect(request))
            if idle_expired(request):
                logout(request)
                return secure_headers(request, login_redirect(request, "idle"))
            if role_requires_totp(user) and not request.session.get(MFA):
                # Signed in some other way (e.g. the admin site) without the second factor.
                logout(request)
                return secure_headers(request, login_redirect(request, "mfa"))
            touch(request)
            if permission and not user.has_perm(perm(permission)):
                resp = render(request, "accounts/forbidden.html", nav(request), status=403)
                return secure_headers(request, resp)
            return secure_headers(request, view(request, *args, **kwargs))

        inner.console_permission = permission  # type: ignore[attr-defined]
        return inner

    return wrap
