"""POST /api/v1/checkin: owner, other device, no/bad token, replay, oversize, malformed."""

from __future__ import annotations

import json
import uuid

import pytest

from server.checkins.models import Event, PostureSnapshot, Report
from server.devices.models import Device
from server.findings.models import Finding
from tests.server.conftest import check, finding, now


def test_owner_checkin_is_stored_and_updates_latest_state(agent):
    inventory = {"hostname": "lap-renamed", "machine_id": "m", "hardware_serial": "SER1",
                 "hardware_model": "MacBookPro18,3", "manufacturer": "Apple",
                 "os": {"name": "darwin", "version": "14.5"}, "disks": []}
    r = agent.checkin(
        inventory=inventory,
        posture=agent.posture(check("disk_encryption", "pass"), check("screen_lock", "fail")),
        findings=[finding(1), finding(2, "pii")], findings_complete=True,
        events=[{"event_id": str(uuid.uuid4()), "type": "agent_started", "at": now(),
                 "data": {}}],
        outbox={"depth": 3, "dropped": {"compacted_posture": 12}},
    )
    assert r.status_code == 200, r.content
    out = r.json()
    assert out["status"] == "stored"
    assert out["policy"]["silent_after_seconds"] == 259200 and out["policy_version"] >= 1
    d = Device.objects.get(pk=agent.device_id)
    assert (d.hostname, d.hardware_serial, d.os_version) == ("lap-renamed", "SER1", "14.5")
    assert d.disk_encrypted is True and d.posture_failing == 1
    assert d.posture["screen_lock"]["status"] == "fail"
    assert (d.phi_files, d.pii_files, d.phi_present) == (1, 1, True)
    assert (d.outbox_depth, d.outbox_dropped) == (3, {"compacted_posture": 12})
    assert d.last_seen is not None
    assert Report.objects.filter(device=d).count() == 1
    assert PostureSnapshot.objects.get(device=d).failing == 1
    assert Event.objects.get(device=d).type == "agent_started"


def test_replayed_report_answers_duplicate_and_stores_nothing(agent):
    body = agent.report(findings=[finding(1)], findings_complete=True)
    assert agent.post("/api/v1/checkin", body).json()["status"] == "stored"
    body["findings"] = [finding(1), finding(2)]  # same report_id, different content
    r = agent.post("/api/v1/checkin", body)
    assert r.status_code == 200 and r.json()["status"] == "duplicate"
    assert Report.objects.count() == 1
    assert Finding.objects.count() == 1


def test_another_devices_id_is_404_and_nothing_is_stored(agent, enroll):
    other = enroll(hostname="lap-2")
    r = agent.checkin(device_id=other.device_id, findings=[finding(1)])
    assert r.status_code == 404
    assert r.json()["field"] == "device_id"
    assert not Report.objects.exists() and not Finding.objects.exists()
    # ...and an id that exists nowhere answers the same: no existence oracle.
    r2 = agent.checkin(device_id=str(uuid.uuid4()))
    assert (r2.status_code, r2.json()) == (404, r.json())


def test_report_id_of_another_device_is_refused(agent, enroll):
    other = enroll(hostname="lap-2")
    body = other.report()
    assert other.post("/api/v1/checkin", body).status_code == 200
    mine = agent.report(report_id=body["report_id"])
    r = agent.post("/api/v1/checkin", mine)
    assert r.status_code == 422 and r.json()["field"] == "report_id"
    assert Report.objects.get().device_id == uuid.UUID(other.device_id)


@pytest.mark.parametrize("token", [None, "not-a-token", "x" * 500])
def test_missing_or_unknown_token_is_401(agent, token):
    r = agent.checkin(token=token)
    assert r.status_code == 401
    assert set(r.json()) == {"detail", "field"}
    assert not Report.objects.exists()


def test_bad_token_with_bad_body_is_still_401(agent):
    r = agent.post("/api/v1/checkin", {"nonsense": True}, token="wrong")
    assert r.status_code == 401


def test_oversized_body_is_413(agent):
    big = agent.report(inventory={"pad": "x" * (1024 * 1024)})
    r = agent.post("/api/v1/checkin", big)
    assert r.status_code == 413
    assert not Report.objects.exists()


@pytest.mark.parametrize("raw", [b"{not json", b"", b"[1, 2]", b"null"])
def test_malformed_bodies_are_4xx_with_detail(agent, raw):
    r = agent.post("/api/v1/checkin", raw)
    assert r.status_code in (400, 422)
    assert "detail" in r.json()
    assert not Report.objects.exists()


@pytest.mark.parametrize(("change", "field"), [
    ({"report_id": "nope"}, "report_id"),
    ({"created_at": "2026-11-28T14:00:00"}, "created_at"),  # no time zone
    ({"findings": [dict(finding(1), bytes=-1)]}, "findings.0.bytes"),
    ({"findings": [dict(finding(1), classification="secret")]}, "findings.0.classification"),
    ({"findings": [dict(finding(1), identifiers={"ssn": "many"})]}, "findings.0.identifiers.ssn"),
    ({"posture": {"checked_at": now(), "checks": [check("disk_encryption", "maybe")]}},
     "posture.checks.0.status"),
    ({"events": [{"event_id": "e", "type": "x", "at": now()}]}, "events.0.event_id"),
    ({"findings_complete": "sometimes"}, "findings_complete"),
    ({"unexpected": 1}, "unexpected"),
])
def test_invalid_fields_are_422_naming_the_field(agent, change, field):
    r = agent.checkin(**change)
    assert r.status_code == 422, r.content
    assert r.json()["field"] == field
    assert field.split(".")[0] in r.json()["detail"]
    assert not Report.objects.exists()


def test_missing_required_field_is_named(agent):
    body = agent.report()
    del body["created_at"]
    r = agent.post("/api/v1/checkin", body)
    assert (r.status_code, r.json()["field"]) == (422, "created_at")


def test_unknown_api_version_is_404(agent):
    r = agent.post("/api/v2/checkin", agent.report())
    assert r.status_code == 404
    assert "v1" in r.json()["detail"]
    assert not Report.objects.exists()


def test_findings_complete_resolves_the_rest_and_additions_do_not(agent):
    agent.checkin(findings=[finding(1), finding(2)], findings_complete=True)
    agent.checkin(findings=[finding(3)], findings_complete=False)
    assert Finding.objects.filter(resolved_at__isnull=True).count() == 3
    agent.checkin(findings=[finding(2)], findings_complete=True)
    open_ids = set(Finding.objects.filter(resolved_at__isnull=True).values_list("finding_id",
                                                                                 flat=True))
    assert open_ids == {finding(2)["finding_id"]}
    assert set(Finding.objects.filter(resolved_at__isnull=False).values_list(
        "resolved_reason", flat=True)) == {"absent"}
    assert Device.objects.get(pk=agent.device_id).phi_files == 1


def test_finding_resolved_event_closes_it_and_a_reappearance_is_a_new_episode(agent):
    agent.checkin(findings=[finding(1)])
    agent.checkin(events=[{"event_id": str(uuid.uuid4()), "type": "finding_resolved",
                           "at": now(), "data": {"finding_id": finding(1)["finding_id"],
                                                 "reason": "deleted"}}])
    f = Finding.objects.get()
    assert (f.resolved_reason, f.resolved_at is not None) == ("deleted", True)
    agent.checkin(findings=[finding(1)])
    assert Finding.objects.count() == 2
    assert Finding.objects.filter(resolved_at__isnull=True).count() == 1


def test_an_event_resent_in_a_later_report_is_stored_once(agent):
    ev = {"event_id": str(uuid.uuid4()), "type": "media_mounted", "at": now(),
          "data": {"vendor": "SanDisk", "mount": "/media/usb", "encrypted": False}}
    agent.checkin(events=[ev])
    agent.checkin(events=[ev])
    assert Event.objects.count() == 1
    assert Report.objects.count() == 2


def test_findings_carry_no_values_only_counts(agent):
    agent.checkin(findings=[finding(1)])
    f = Finding.objects.get()
    assert f.identifiers == {"ssn": 2} and f.health == {"icd10": 3}
    stored = json.dumps({k: str(v) for k, v in f.__dict__.items()})
    assert "123-45" not in stored


def test_disposed_device_checking_in_is_stored_with_409(agent):
    Device.objects.filter(pk=agent.device_id).update(lifecycle_state="stolen")
    r = agent.checkin()
    assert r.status_code == 409
    assert "stolen" in r.json()["detail"]
    assert Report.objects.count() == 1


@pytest.mark.parametrize(("change", "field"), [
    ({"agent_version": "0.1\x00"}, "agent_version"),
    ({"inventory": {"hostname": "a\x00b"}}, "inventory.hostname"),
    ({"findings": [dict(finding(1), folder="/tmp/\x00")]}, "findings.0.folder"),
])
def test_nul_characters_are_422_not_a_database_error(agent, change, field):
    r = agent.checkin(**change)
    assert (r.status_code, r.json()["field"]) == (422, field)
    assert not Report.objects.exists()


@pytest.mark.parametrize(("change", "field"), [
    ({"created_at": "2026-11-28T14:00:00-19:14"}, "created_at"),
    ({"created_at": "0001-01-01T00:00:00+01:00"}, "created_at"),
    ({"findings": [dict(finding(1), bytes=2**64)]}, "findings.0.bytes"),
    ({"outbox": {"depth": 2**40, "dropped": {}}}, "outbox.depth"),
])
def test_values_the_database_cannot_hold_are_422(agent, change, field):
    r = agent.checkin(**change)
    assert (r.status_code, r.json()["field"]) == (422, field)


def test_nan_and_deep_nesting_are_refused(agent):
    body = json.dumps(agent.report(inventory={"x": 1})).replace('"x": 1', '"x": NaN')
    r = agent.post("/api/v1/checkin", body)
    assert (r.status_code, r.json()["field"]) == (422, "inventory.x")
    deep = agent.report(inventory={})
    node = deep["inventory"]
    for _ in range(40):
        node["a"] = {}
        node = node["a"]
    r = agent.checkin(inventory=deep["inventory"])
    assert r.status_code == 422 and "nested" in r.json()["detail"]
    raw = b'{"report_id": ' + b"[" * 100000 + b"]" * 100000 + b"}"
    r = agent.post("/api/v1/checkin", raw)
    assert 400 <= r.status_code < 500
    assert not Report.objects.exists()


def test_posture_history_is_written_on_change_and_every_check_is_evidenced(agent):
    same = [check("disk_encryption", "pass"), check("screen_lock", "pass")]
    for _ in range(3):
        assert agent.checkin(posture=agent.posture(*same)).status_code == 200
    agent.checkin(posture=agent.posture(check("disk_encryption", "fail"),
                                        check("screen_lock", "pass")))
    agent.checkin()  # no posture in this report
    snaps = PostureSnapshot.objects.filter(device_id=agent.device_id).order_by("checked_at")
    assert [s.failing for s in snaps] == [0, 1]
    assert Report.objects.filter(posture_checked_at__isnull=False).count() == 4
    assert Report.objects.filter(posture_checked_at__isnull=True).count() == 1
