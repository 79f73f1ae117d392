"""POST /api/v1/enroll: secrets, limits, re-enrollment."""

from __future__ import annotations

import threading
import time
import uuid
from datetime import timedelta

import pytest
from django.db import OperationalError, connection
from django.utils import timezone

from server.devices.models import Device
from server.enrollment.models import DeviceToken, EnrollmentSecret, token_hash
from server.enrollment.service import create_secret, revoke_secret


def body(secret: str, **kw) -> dict:
    return {"secret": secret, "hostname": "lap-9", "machine_id": kw.pop("machine_id", "mid-9"),
            "os": "darwin", "os_version": "14.5", "agent_version": "0.1.0", **kw}


def enroll(client, data):
    return client.post("/api/v1/enroll", data=data, content_type="application/json")


def test_enroll_returns_device_token_and_policy_and_stores_only_hashes(client, secret):
    r = enroll(client, body(secret, hardware_serial="C02X"))
    assert r.status_code == 201
    out = r.json()
    device = Device.objects.get(pk=out["device_id"])
    assert (device.hostname, device.os, device.hardware_serial) == ("lap-9", "darwin", "C02X")
    assert out["policy"]["screen_lock_max_seconds"] == 900
    assert out["policy_version"] >= 1
    row = DeviceToken.objects.get(device=device)
    assert row.token_hash == token_hash(out["token"]) and out["token"] not in row.token_hash
    assert EnrollmentSecret.objects.filter(secret_hash=token_hash(secret)).exists()
    assert not EnrollmentSecret.objects.filter(secret_hash=secret).exists()


@pytest.mark.parametrize("make", ["unknown", "expired", "revoked", "used_up"])
def test_bad_secrets_get_401_naming_the_field(client, db, make):
    if make == "unknown":
        secret = "no-such-secret"
    else:
        row, secret = create_secret("test", uses=1)
        if make == "expired":
            EnrollmentSecret.objects.filter(pk=row.pk).update(expires_at=timezone.now()
                                                              - timedelta(seconds=1))
        elif make == "revoked":
            revoke_secret("test", row.pk)
        else:
            assert enroll(client, body(secret, machine_id="first")).status_code == 201
    r = enroll(client, body(secret))
    assert r.status_code == 401
    assert r.json()["field"] == "secret"
    assert not Device.objects.filter(machine_id="mid-9").exists()


def test_use_limit_counts_down_to_zero(client, db):
    row, secret = create_secret("test", uses=2)
    assert enroll(client, body(secret, machine_id="a")).status_code == 201
    assert enroll(client, body(secret, machine_id="b")).status_code == 201
    assert enroll(client, body(secret, machine_id="c")).status_code == 401
    row.refresh_from_db()
    assert (row.uses_left, row.used_count) == (0, 2)


@pytest.mark.django_db(transaction=True)
def test_racing_enrollments_cannot_overuse_a_secret():
    from server.enrollment.service import consume_secret
    from server.errors import ApiError

    row, secret = create_secret("test", uses=3)
    results: list[str] = []
    barrier = threading.Barrier(8)

    def worker():
        barrier.wait()
        try:
            # SQLite's test database (shared-cache memory) answers a racing write with
            # "table is locked" at once, whatever the busy timeout: the write never
            # happened, so not a use; the agent would enroll again, and so does this.
            for attempt in range(200):
                try:
                    consume_secret(secret)
                    results.append("ok")
                    return
                except ApiError:
                    results.append("refused")
                    return
                except OperationalError:
                    time.sleep(0.005 * (1 + attempt % 10))
            results.append("gave up")
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    row.refresh_from_db()
    assert sorted(results) == ["ok"] * 3 + ["refused"] * 5
    assert row.uses_left == 0 and row.used_count == 3


def test_reenrolling_a_machine_keeps_the_device_and_revokes_old_tokens(client, secret):
    first = enroll(client, body(secret)).json()
    second = enroll(client, body(secret, hostname="lap-9-reimaged")).json()
    assert first["device_id"] == second["device_id"]
    assert Device.objects.get(pk=first["device_id"]).hostname == "lap-9-reimaged"
    live = DeviceToken.objects.filter(device_id=first["device_id"], revoked_at__isnull=True)
    assert [t.token_hash for t in live] == [token_hash(second["token"])]
    r = client.get("/api/v1/policy", HTTP_AUTHORIZATION=f"Bearer {first['token']}")
    assert r.status_code == 401


@pytest.mark.parametrize(("data", "field"), [
    ({"machine_id": None}, "machine_id"),
    ({"os": "beos"}, "os"),
    ({"hostname": ""}, "hostname"),
    ({"surprise": 1}, "surprise"),
    ({"machine_id": "m" * 201}, "machine_id"),
])
def test_bad_enroll_bodies_are_422_naming_the_field(client, secret, data, field):
    d = body(secret)
    d.update(data)
    if data.get("machine_id", 1) is None:
        del d["machine_id"]
    r = enroll(client, d)
    assert r.status_code == 422
    assert r.json()["field"] == field
    assert not Device.objects.exists()


def test_malformed_json_is_400(client, secret):
    r = client.post("/api/v1/enroll", data="{not json", content_type="application/json")
    assert r.status_code == 400
    assert set(r.json()) == {"detail", "field"}


def test_unknown_machine_never_logs_the_secret(client, secret):
    from server.audit.models import AuditEntry

    enroll(client, body(secret, machine_id=str(uuid.uuid4())))
    for e in AuditEntry.objects.all():
        assert secret not in str(e.details)


def test_secrets_and_tokens_never_look_like_command_line_options(db):
    # `phiwatch enroll --secret -Abc...` would be read as an option by argparse.
    from server.enrollment.service import create_secret

    for _ in range(200):
        secret = create_secret("test")[1]
        assert secret.startswith("pwe_") and len(secret) >= 40
