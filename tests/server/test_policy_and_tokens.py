"""GET /api/v1/policy, POST /api/v1/token/rotate, token revocation."""

from __future__ import annotations

from server.devices.models import Device
from server.enrollment.service import revoke_tokens
from server.policy.effective import set_overrides


def test_policy_as_owner(agent, client):
    r = client.get("/api/v1/policy", HTTP_AUTHORIZATION=f"Bearer {agent.token}")
    assert r.status_code == 200
    assert r.json()["policy"]["report_paths"] == "hashed"


def test_policy_without_or_with_bad_token_is_401(agent, client):
    assert client.get("/api/v1/policy").status_code == 401
    assert client.get("/api/v1/policy", HTTP_AUTHORIZATION="Bearer nope").status_code == 401
    assert client.get("/api/v1/policy", HTTP_AUTHORIZATION=f"Basic {agent.token}").status_code \
        == 401


def test_server_override_changes_policy_and_bumps_version(agent, client):
    before = client.get("/api/v1/policy", HTTP_AUTHORIZATION=f"Bearer {agent.token}").json()
    set_overrides({"screen_lock_max_seconds": 300}, actor="user:alice")
    after = client.get("/api/v1/policy", HTTP_AUTHORIZATION=f"Bearer {agent.token}").json()
    assert after["policy"]["screen_lock_max_seconds"] == 300
    assert after["policy"]["auto_logoff_max_seconds"] == 900  # untouched keys keep defaults
    assert after["policy_version"] > before["policy_version"]
    r = agent.checkin()
    assert r.json()["policy_version"] == after["policy_version"]


def test_rotate_gives_a_new_token_and_the_old_stops_at_once(agent):
    r = agent.post("/api/v1/token/rotate", {})
    assert r.status_code == 200
    new = r.json()["token"]
    assert new != agent.token
    assert agent.checkin().status_code == 401
    assert agent.checkin(token=new).status_code == 200


def test_rotate_without_token_is_401(agent):
    assert agent.post("/api/v1/token/rotate", {}, token=None).status_code == 401
    assert agent.post("/api/v1/token/rotate", {}, token="bad").status_code == 401


def test_revoked_device_gets_401(agent):
    assert revoke_tokens("cli:test", Device.objects.get(pk=agent.device_id)) == 1
    assert agent.checkin().status_code == 401


def test_openapi_is_published(client):
    r = client.get("/api/v1/openapi.json")
    assert r.status_code == 200
    paths = r.json()["paths"]
    assert {"/api/v1/enroll", "/api/v1/checkin", "/api/v1/policy", "/api/v1/token/rotate"} \
        <= set(paths)
