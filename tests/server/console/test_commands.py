"""IT's scriptable commands: console_user and totp_enroll."""

from __future__ import annotations

import io
import json

import pyotp
import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command

from server.accounts import totp
from server.accounts.roles import role_of


def run(*args, stdin: str | None = None, monkeypatch=None) -> str:
    out = io.StringIO()
    if stdin is not None:
        monkeypatch.setattr("sys.stdin", io.StringIO(stdin))
    call_command(*args, stdout=out)
    return out.getvalue()


def test_console_user_creates_with_role_and_password_from_stdin(db, monkeypatch):
    out = run("console_user", "carol", "--role", "auditor", "--password-stdin",
              stdin="a long passphrase 42\n", monkeypatch=monkeypatch)
    assert out.strip() == "created console user carol"
    carol = get_user_model().objects.get(username="carol")
    assert role_of(carol) == "auditor" and carol.check_password("a long passphrase 42")
    run("console_user", "carol", "--role", "compliance_officer")
    carol.refresh_from_db()
    assert role_of(carol) == "compliance_officer"
    assert [g.name for g in carol.groups.all()] == ["compliance_officer"]


def test_console_user_refuses_weak_password_and_missing_role(db, monkeypatch):
    with pytest.raises(CommandError, match="too short|too common"):
        run("console_user", "dave", "--role", "auditor", "--password-stdin", stdin="abc\n",
            monkeypatch=monkeypatch)
    with pytest.raises(CommandError, match="needs --role"):
        run("console_user", "erin")
    assert not get_user_model().objects.filter(username__in=["dave", "erin"]).exists()


def test_totp_enroll_prints_uri_and_secret_last(db):
    run("console_user", "frank", "--role", "it_admin")
    out = run("totp_enroll", "frank").strip().splitlines()
    secret = out[-1]
    assert out[0].startswith("provisioning URI: otpauth://totp/phiwatch:frank?secret=")
    frank = get_user_model().objects.get(username="frank")
    assert totp.verify(frank, pyotp.TOTP(secret).now())
    data = json.loads(run("totp_enroll", "frank", "--format", "json"))
    assert data["secret"] != secret and data["uri"].endswith("issuer=phiwatch")
    with pytest.raises(CommandError, match="no console user"):
        run("totp_enroll", "nobody")


def test_groups_hold_exactly_the_role_permissions(db):
    from django.contrib.auth.models import Group

    from server.accounts.roles import ROLES

    for role, spec in ROLES.items():
        codes = set(Group.objects.get(name=role).permissions.values_list("codename", flat=True))
        assert codes == set(spec["permissions"])


def test_console_snapshot_records_today(fleet):
    from server.console.models import DailyFleetStat

    out = json.loads(run("console_snapshot", "--format", "json"))
    assert out["devices"] == 4 and out["phi_devices"] == 1
    assert out["controls"]["disk_encryption"] == {"pass": 2, "fail": 1, "applicable": 4}
    assert out["violations"] == {"critical": 1, "high": 1, "medium": 1, "low": 0}
    assert DailyFleetStat.objects.get().phi_devices == 1
