"""The IT command line, in-process against the test database (no prompts, JSON lists)."""

from __future__ import annotations

import json

import pytest
from django.contrib.auth.models import User

from server.audit.models import AuditEntry
from server.cli import main
from server.enrollment.models import EnrollmentSecret
from tests.server.conftest import check, finding


@pytest.fixture(autouse=True)
def _keep_test_connection(monkeypatch):
    # run_from_argv closes every connection when a command ends; in a test that would
    # close the connection holding the test's transaction (PostgreSQL).
    from django.db import connections

    monkeypatch.setattr(connections, "close_all", lambda: None)


def run(capsys, *argv: str) -> tuple[int, str, str]:
    try:
        code = main(list(argv))
    except SystemExit as e:  # CommandError: Django prints the message and exits 1
        code = e.code
    out = capsys.readouterr()
    return code, out.out, out.err


def test_secret_create_prints_the_secret_last_and_it_enrolls(db, capsys, client):
    code, out, _ = run(capsys, "secret", "create", "--uses", "2", "--expires", "7")
    assert code == 0
    secret = out.strip().splitlines()[-1]
    r = client.post("/api/v1/enroll", data={"secret": secret, "hostname": "h", "machine_id": "m",
                                            "os": "windows"}, content_type="application/json")
    assert r.status_code == 201
    row = EnrollmentSecret.objects.get()
    assert (row.uses_allowed, row.uses_left) == (2, 1)


def test_secret_list_json_never_shows_secrets_and_revoke_works(db, capsys):
    run(capsys, "secret", "create")
    _, out, _ = run(capsys, "secret", "create", "--uses", "1")
    secret = out.strip().splitlines()[-1]
    code, out, _ = run(capsys, "secret", "list", "--format", "json")
    rows = json.loads(out)
    assert code == 0 and [r["state"] for r in rows] == ["active", "active"]
    assert secret not in out
    assert run(capsys, "secret", "revoke", str(rows[1]["id"]))[0] == 0
    rows = json.loads(run(capsys, "secret", "list", "--format", "json")[1])
    assert [r["state"] for r in rows] == ["active", "revoked"]
    code, _, err = run(capsys, "secret", "revoke", "999")
    assert code == 1 and "999" in err


@pytest.mark.parametrize("args", [["--uses", "0"], ["--expires", "-1"]])
def test_secret_create_refuses_nonsense(db, capsys, args):
    code, _, err = run(capsys, "secret", "create", *args)
    assert code == 1 and err
    assert not EnrollmentSecret.objects.exists()


def test_devices_and_violations_list_as_json_and_the_read_is_audited(agent, capsys):
    agent.checkin(posture=agent.posture(check("disk_encryption", "fail")),
                  findings=[finding(1, encrypted=False)], findings_complete=True)
    code, out, _ = run(capsys, "devices", "--format", "json")
    (d,) = json.loads(out)
    assert code == 0
    assert (d["id"], d["phi_files"], d["disk_encrypted"], d["worst_severity"]) == (
        agent.device_id, 1, False, "critical")
    code, out, _ = run(capsys, "violations", "--format", "json")
    assert {v["rule"] for v in json.loads(out)} == {"phi_on_workstation",
                                                   "phi_on_unencrypted_volume",
                                                   "disk_not_encrypted"}
    assert json.loads(run(capsys, "violations", "--severity", "critical", "--format",
                          "json")[1])[0]["rule"] == "phi_on_unencrypted_volume"
    assert AuditEntry.objects.filter(action__in=["devices.list", "violations.list"]).count() == 3
    table = run(capsys, "devices")[1]
    assert table.splitlines()[0].startswith("ID") and agent.device_id in table


def test_token_revoke_cuts_the_device_off(agent, capsys):
    code, out, _ = run(capsys, "token", "revoke", agent.device_id)
    assert code == 0 and "revoked 1" in out
    assert agent.checkin().status_code == 401
    assert run(capsys, "token", "revoke", "no-such-device")[0] == 1


def test_audit_verify_passes_then_names_a_tampered_entry(agent, capsys):
    from django.db import connection

    code, out, _ = run(capsys, "audit", "verify")
    assert code == 0 and "intact" in out
    first = AuditEntry.objects.order_by("id").first()
    with connection.cursor() as c:
        c.execute("UPDATE audit_auditentry SET actor = %s WHERE id = %s", ["x", first.id])
    code, _, err = run(capsys, "audit", "verify")
    assert code == 1 and f"id {first.id}" in err


def test_createadmin_from_password_file_joins_it_admin(db, capsys, tmp_path):
    pw = tmp_path / "pw"
    pw.write_text("a long enough passphrase 42\n")
    code, out, _ = run(capsys, "createadmin", "alice", "--password-file", str(pw))
    assert code == 0
    user = User.objects.get(username="alice")
    assert user.check_password("a long enough passphrase 42")
    assert user.password.startswith("argon2")
    assert list(user.groups.values_list("name", flat=True)) == ["it_admin"]
    assert "passphrase" not in out


def test_createadmin_refuses_weak_or_missing_password(db, capsys, monkeypatch):
    monkeypatch.delenv("PHIWATCH_ADMIN_PASSWORD", raising=False)
    assert run(capsys, "createadmin", "bob")[0] == 1
    code, _, err = run(capsys, "createadmin", "bob", "--password", "12345")
    assert code == 1 and "password" in err
    assert not User.objects.filter(username="bob").exists()
    monkeypatch.setenv("PHIWATCH_ADMIN_PASSWORD", "another fine passphrase 7")
    assert run(capsys, "createadmin", "bob")[0] == 0


def test_policy_set_overrides_keys_and_agents_receive_them(agent, capsys):
    code, out, _ = run(capsys, "policy", "set", "screen_lock_max_seconds=300",
                       "removable_media_allowed=true")
    assert code == 0 and out.startswith("policy version")
    shown = json.loads(run(capsys, "policy", "show", "--format", "json")[1])
    assert shown["policy"]["screen_lock_max_seconds"] == 300
    assert shown["policy"]["removable_media_allowed"] is True
    assert agent.checkin().json()["policy"]["screen_lock_max_seconds"] == 300
    # a second set keeps the first override
    run(capsys, "policy", "set", "silent_after_seconds=86400")
    shown = json.loads(run(capsys, "policy", "show", "--format", "json")[1])
    assert (shown["policy"]["screen_lock_max_seconds"],
            shown["policy"]["silent_after_seconds"]) == (300, 86400)
    code, _, err = run(capsys, "policy", "set", "no_such_key=1")
    assert code == 1 and "no_such_key" in err
    assert AuditEntry.objects.filter(action="policy.update").count() == 2


@pytest.mark.parametrize("pair", ["silent_after_seconds=soon", "removable_media_allowed=1",
                                  "screen_lock_max_seconds=-5", "report_paths=7"])
def test_policy_set_refuses_wrong_types(db, capsys, pair):
    code, _, err = run(capsys, "policy", "set", pair)
    assert code == 1 and pair.split("=")[0] in err
    assert not AuditEntry.objects.filter(action="policy.update").exists()
