"""The lifecycle API for IT automation: API-key auth, role checks, guards as 409s."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group, User
from django.utils import timezone

from server.lifecycle import service
from server.lifecycle.models import Incident

pytestmark = pytest.mark.django_db


@pytest.fixture
def keys(db):
    admin = User.objects.create_user("itadmin", password="x" * 16)
    admin.groups.add(Group.objects.get_or_create(name="it_admin")[0])
    auditor = User.objects.create_user("aud", password="x" * 16)
    auditor.groups.add(Group.objects.get_or_create(name="auditor")[0])
    return (service.create_api_key(admin, "ci", "test"),
            service.create_api_key(auditor, "ro", "test"))


def _call(client, method, path, key, body=None):
    kw = {"HTTP_AUTHORIZATION": f"Bearer {key}"} if key else {}
    if method == "get":
        return client.get(path, **kw)
    return client.post(path, data=body or {}, content_type="application/json", **kw)


def test_admin_key_moves_a_device_and_guards_answer_409(client, device_with_phi, keys):
    admin_key, _ = keys
    _, device = device_with_phi
    base = f"/api/v1/lifecycle/devices/{device.hardware_serial}"
    r = _call(client, "post", base + "/transition", admin_key, {"to": "retired",
                                                                "reason": "end of lease"})
    assert r.status_code == 200 and r.json() == {"from": "in_service", "to": "retired",
                                                 "override": False}
    r = _call(client, "post", base + "/transition", admin_key, {"to": "disposed", "reason": "x"})
    assert r.status_code == 409 and "allowed moves" in r.json()["detail"]
    now = timezone.now().isoformat()
    r = _call(client, "post", base + "/sanitization", admin_key, {
        "media_type": "SSD", "method": "purge", "technique": "crypto erase", "tool": "nvme-cli",
        "tool_version": "2.4", "verification_method": "full", "verification_result": "pass",
        "performed_by": "Sam", "performed_at": now, "verified_by": "Vera", "verified_at": now,
        "destination": "recycling"})
    assert r.status_code == 201 and r.json()["state"] == "sanitized"
    r = _call(client, "get", base, admin_key)
    assert [t["to"] for t in r.json()["transitions"]] == ["retired", "sanitized"]
    assert r.json()["transitions"][0]["actor"] == "api:itadmin"


def test_stolen_via_api_returns_the_incident(client, device_with_phi, keys):
    _, device = device_with_phi
    r = _call(client, "post", f"/api/v1/lifecycle/devices/{device.pk}/transition", keys[0],
              {"to": "stolen", "reason": "break-in", "police_report": "PR-3"})
    assert r.status_code == 200
    inc = Incident.objects.get(pk=r.json()["incident"])
    r = _call(client, "get", f"/api/v1/lifecycle/incidents/{inc.pk}", keys[1])
    assert r.status_code == 200
    assert r.json()["assessment"]["safe_harbour"] == "appears_to_apply"


def test_read_only_role_cannot_write(client, device_with_phi, keys):
    _, device = device_with_phi
    r = _call(client, "post", f"/api/v1/lifecycle/devices/{device.pk}/transition", keys[1],
              {"to": "retired", "reason": "x"})
    assert r.status_code == 403
    assert _call(client, "get", f"/api/v1/lifecycle/devices/{device.pk}", keys[1]).status_code == 200


@pytest.mark.parametrize("key", [None, "pwk_wrong"])
def test_missing_or_wrong_key_is_401(client, device_with_phi, keys, key):
    _, device = device_with_phi
    assert _call(client, "get", f"/api/v1/lifecycle/devices/{device.pk}", key).status_code == 401


def test_device_token_is_not_an_api_key(client, device_with_phi):
    agent, device = device_with_phi
    r = _call(client, "get", f"/api/v1/lifecycle/devices/{device.pk}", agent.token)
    assert r.status_code == 401


def test_bad_body_names_the_field(client, device_with_phi, keys):
    _, device = device_with_phi
    r = _call(client, "post", f"/api/v1/lifecycle/devices/{device.pk}/transition", keys[0],
              {"to": "retired"})
    assert r.status_code == 422 and r.json()["field"] == "reason"
    r = _call(client, "post", "/api/v1/lifecycle/devices/nope/transition", keys[0],
              {"to": "retired", "reason": "x"})
    assert r.status_code == 404


def test_movement_via_api(client, keys):
    r = _call(client, "post", "/api/v1/lifecycle/movements", keys[0],
              {"direction": "in", "description": "Dell Latitude", "serial": "D1"})
    assert r.status_code == 201
    r = _call(client, "post", "/api/v1/lifecycle/movements", keys[0],
              {"direction": "sideways", "description": "x"})
    assert r.status_code == 422 and r.json()["field"] == "direction"
