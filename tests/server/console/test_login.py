"""Sign-in: password, TOTP second factor, replay, lock-out, throttling, safe redirects."""

from __future__ import annotations

import pyotp
import pytest
from django.core.management import call_command
from django.test import Client

from server.accounts import totp
from server.accounts.models import LoginFailure, Security
from server.audit.models import AuditEntry
from tests.server.console.conftest import PASSWORD


def enrol(user) -> pyotp.TOTP:
    secret, uri = totp.enrol(user)
    assert uri.startswith("otpauth://totp/phiwatch:") and f"secret={secret}" in uri
    return pyotp.TOTP(secret)


def password_step(c: Client, username: str, password: str = PASSWORD, next: str = ""):
    return c.post("/accounts/login/", {"username": username, "password": password,
                                       "next": next})


def test_admin_needs_password_then_code(users):
    admin = users["it_admin"]
    otp = enrol(admin)
    c = Client()
    r = password_step(c, admin.username, next="/console/devices/")
    assert r.status_code == 302 and r["Location"].startswith("/accounts/login/code/")
    # Password alone does not open the console.
    assert c.get("/console/").status_code == 302
    r = c.post(r["Location"], {"code": otp.now()})
    assert r.status_code == 302 and r["Location"] == "/console/devices/"
    assert c.get("/console/devices/").status_code == 200
    entry = AuditEntry.objects.filter(action="console.login").last()
    assert entry.actor == f"user:{admin.username}" and entry.details == {"second_factor": True}


def test_admin_without_enrolled_totp_is_refused_with_the_fix(users):
    r = password_step(Client(), users["it_admin"].username)
    assert r.status_code == 403
    assert b"phiwatch-server totp_enroll" in r.content


def test_compliance_officer_signs_in_with_password_when_totp_not_required(users):
    c = Client()
    r = password_step(c, users["compliance_officer"].username)
    assert r.status_code == 302 and r["Location"] == "/console/"
    assert c.get("/console/").status_code == 200


def test_totp_for_everyone_when_configured(users, settings):
    settings.CONSOLE_TOTP_REQUIRED_FOR_ALL = True
    r = password_step(Client(), users["auditor"].username)
    assert r.status_code == 403 and b"second factor" in r.content


def test_a_code_works_once(users):
    admin = users["it_admin"]
    otp = enrol(admin)
    code = otp.now()
    first, second = Client(), Client()
    password_step(first, admin.username)
    password_step(second, admin.username)
    assert first.post("/accounts/login/code/", {"code": code}).status_code == 302
    r = second.post("/accounts/login/code/", {"code": code})
    assert r.status_code == 401 and b"already used" in r.content
    assert second.get("/console/").status_code == 302


def test_wrong_password_and_lockout_after_threshold(users, settings):
    settings.CONSOLE_LOCKOUT_THRESHOLD = 3
    user = users["auditor"]
    c = Client()
    for _ in range(3):
        r = password_step(c, user.username, "wrong password 123")
        assert r.status_code == 401 and b"Wrong username or password" in r.content
    # Locked: even the right password is refused, with the same message for everyone.
    r = password_step(c, user.username)
    assert r.status_code == 429 and b"Too many failed attempts" in r.content
    assert Security.objects.get(user=user).locked_until is not None
    call_command("console_user", user.username, "--unlock")
    assert password_step(c, user.username).status_code == 302


def test_wrong_codes_count_towards_lockout(users, settings):
    settings.CONSOLE_LOCKOUT_THRESHOLD = 2
    admin = users["it_admin"]
    otp = enrol(admin)
    c = Client()
    password_step(c, admin.username)
    assert c.post("/accounts/login/code/", {"code": "000000"}).status_code == 401
    assert c.post("/accounts/login/code/", {"code": "000001"}).status_code == 401
    r = c.post("/accounts/login/code/", {"code": otp.now()})
    assert r.status_code == 429


def test_address_throttle(users, settings):
    settings.CONSOLE_THROTTLE_PER_IP = 4
    c = Client(REMOTE_ADDR="10.9.8.7")
    for i in range(4):
        password_step(c, f"nobody{i}", "x")
    assert LoginFailure.objects.filter(ip="10.9.8.7").count() == 4
    assert password_step(c, users["auditor"].username).status_code == 429
    # Another address is not affected.
    assert password_step(Client(REMOTE_ADDR="10.9.8.8"), users["auditor"].username).status_code == 302


@pytest.mark.parametrize("target", ["https://evil.example/", "//evil.example/x"])
def test_next_never_leaves_the_site(users, target):
    r = password_step(Client(), users["compliance_officer"].username, next=target)
    assert r.status_code == 302 and r["Location"] == "/console/"


def test_logout_needs_post_and_ends_the_session(as_role):
    c = as_role["auditor"]
    assert c.get("/accounts/logout/").status_code == 405
    r = c.post("/accounts/logout/")
    assert r.status_code == 302 and "signed_out" in r["Location"]
    assert c.get("/console/").status_code == 302


def test_totp_secret_is_sealed_at_rest(users):
    admin = users["it_admin"]
    secret, _ = totp.enrol(admin)
    sealed = Security.objects.get(user=admin).totp_sealed
    assert secret not in sealed and totp.unseal(sealed) == secret


def test_passwords_are_hashed_with_argon2_by_the_real_settings(users):
    import server.settings as real
    from server.accounts.checks import ARGON2

    assert real.PASSWORD_HASHERS[0] == ARGON2
    # The fixture users went through the (test-cost) argon2 hasher: same stored format.
    assert users["auditor"].password.startswith("argon2$argon2id$")


def test_per_user_totp_requirement(users):
    auditor = users["auditor"]
    call_command("console_user", auditor.username, "--require-totp")
    r = password_step(Client(), auditor.username)
    assert r.status_code == 403 and b"totp_enroll" in r.content
    otp = enrol(auditor)
    c = Client()
    assert password_step(c, auditor.username)["Location"].startswith("/accounts/login/code/")
    assert c.post("/accounts/login/code/", {"code": otp.now()}).status_code == 302


def test_system_check_names_a_weak_hasher(settings):
    from server.accounts.checks import check_console_security

    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.SESSION_COOKIE_SECURE = False
    ids = {p.id for p in check_console_security(None)}
    assert ids == {"accounts.E001", "accounts.W001"}
