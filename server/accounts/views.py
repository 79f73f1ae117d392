"""Console sign-in: password, then TOTP when the account needs it; sign-out."""

from __future__ import annotations

import time
from urllib.parse import urlencode

from django.contrib.auth import authenticate, get_user_model, login, logout
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.csrf import csrf_protect
from django.views.decorators.http import require_http_methods, require_POST

from server.accounts import conf, lockout, totp
from server.accounts.audit import record
from server.accounts.context import idle_text, nav
from server.accounts.errors import LockedOut
from server.accounts.forms import LoginForm, TotpForm
from server.accounts.guard import MFA, SEEN, secure_headers
from server.accounts.roles import role_requires_totp

PENDING = "console_pending"  # session: user id that passed the password, awaiting the code
PENDING_AT = "console_pending_at"
PENDING_SECONDS = 300

REASONS = {
    "idle": "You were signed out after {idle} without activity "
    "(automatic logoff, 45 CFR 164.312(a)(2)(iii)).",
    "mfa": "This account needs its second factor. Sign in again.",
    "signed_out": "You are signed out.",
}


def _next(request: HttpRequest) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return reverse("console:dashboard")


def needs_totp(user) -> bool:
    if role_requires_totp(user) or conf.totp_for_all():
        return True
    sec = totp.security_of(user)
    return sec.totp_required or bool(sec.totp_sealed)


def _finish(request: HttpRequest, user, mfa: bool) -> HttpResponse:
    login(request, user)  # rotates the session key (no session fixation)
    request.session[MFA] = mfa
    request.session[SEEN] = time.time()
    lockout.succeeded(user)
    record(user, "console.login", f"user:{user.get_username()}", {"second_factor": mfa})
    return HttpResponseRedirect(_next(request))


def _page(request: HttpRequest, template: str, context: dict, status: int = 200) -> HttpResponse:
    context = {**nav(request), **context}
    context.setdefault("next", request.POST.get("next") or request.GET.get("next") or "")
    return secure_headers(request, render(request, template, context, status=status))


@csrf_protect
@require_http_methods(["GET", "POST"])
def login_view(request: HttpRequest) -> HttpResponse:
    reason = request.GET.get("reason")
    message = REASONS.get(reason or "", "").format(idle=idle_text(conf.idle_seconds()))
    form = LoginForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        username = form.cleaned_data["username"]
        ip = lockout.client_ip(request)
        try:
            lockout.check(username, ip)
        except LockedOut as e:
            return _page(request, "accounts/login.html", {"form": form, "error": str(e)}, 429)
        user = authenticate(request, username=username, password=form.cleaned_data["password"])
        if user is None:
            known = get_user_model().objects.filter(username=username).first()
            lockout.failed(username, ip, known)
            error = "Wrong username or password."
            return _page(request, "accounts/login.html", {"form": form, "error": error}, 401)
        if not needs_totp(user):
            return _finish(request, user, mfa=False)
        if not totp.has_totp(user):
            error = (
                "This account needs a second factor and has none yet. Ask IT to run "
                "`phiwatch-server totp_enroll <username>`."
            )
            return _page(request, "accounts/login.html", {"form": form, "error": error}, 403)
        request.session.cycle_key()
        request.session[PENDING] = user.pk
        request.session[PENDING_AT] = time.time()
        nxt = _next(request)
        return HttpResponseRedirect(f"{reverse('accounts:totp')}?{urlencode({'next': nxt})}")
    return _page(request, "accounts/login.html", {"form": form, "message": message})


@csrf_protect
@require_http_methods(["GET", "POST"])
def totp_view(request: HttpRequest) -> HttpResponse:
    pk = request.session.get(PENDING)
    started = float(request.session.get(PENDING_AT) or 0)
    if not pk or time.time() - started > PENDING_SECONDS:
        request.session.pop(PENDING, None)
        return HttpResponseRedirect(reverse("accounts:login"))
    user = get_user_model().objects.filter(pk=pk, is_active=True).first()
    if user is None:
        return HttpResponseRedirect(reverse("accounts:login"))
    form = TotpForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        ip = lockout.client_ip(request)
        try:
            lockout.check(user.get_username(), ip)
        except LockedOut as e:
            request.session.pop(PENDING, None)
            return _page(request, "accounts/login.html", {"form": LoginForm(), "error": str(e)}, 429)
        if totp.verify(user, form.cleaned_data["code"]):
            request.session.pop(PENDING, None)
            request.session.pop(PENDING_AT, None)
            return _finish(request, user, mfa=True)
        lockout.failed(user.get_username(), ip, user)
        error = "That code is wrong or was already used. Wait for the next one."
        return _page(request, "accounts/totp.html", {"form": form, "error": error}, 401)
    return _page(request, "accounts/totp.html", {"form": form})


@csrf_protect
@require_POST
def logout_view(request: HttpRequest) -> HttpResponse:
    if request.user.is_authenticated:
        record(request.user, "console.logout", f"user:{request.user.get_username()}", {})
    logout(request)
    return HttpResponseRedirect(f"{reverse('accounts:login')}?reason=signed_out")
