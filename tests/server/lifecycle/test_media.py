"""Removable media seen by agents: one record per drive, the devices it was mounted on,
and its own lifecycle."""

from __future__ import annotations

import uuid

import pytest

from server.lifecycle import service
from server.lifecycle.errors import LifecycleError, TransitionRefused
from server.lifecycle.models import Incident, Medium, MediumMount
from tests.server.conftest import finding, now

from .conftest import sanitization

pytestmark = pytest.mark.django_db

STICK = {"vendor": "SanDisk", "model": "Cruzer Blade", "serial": "4C530001", "size": 16000000000,
         "mount": "/media/alice/USB", "encrypted": False}


def _mounted(agent, data=STICK, event_id=None):
    return {"event_id": event_id or str(uuid.uuid4()), "type": "media_mounted", "at": now(),
            "data": data}


def test_media_are_tracked_across_devices_once_per_event(enroll):
    a, b = enroll(hostname="lap-a"), enroll(hostname="lap-b")
    ev = _mounted(a)
    assert a.checkin(events=[ev]).status_code == 200
    assert a.checkin(events=[ev]).status_code == 200  # re-sent in a later report
    assert b.checkin(events=[_mounted(b)]).status_code == 200
    m = Medium.objects.get()
    assert (m.vendor, m.model, m.serial, m.last_encrypted) == ("SanDisk", "Cruzer Blade",
                                                               "4C530001", False)
    assert MediumMount.objects.filter(medium=m).count() == 2
    assert {x.device.hostname for x in m.mounts.all()} == {"lap-a", "lap-b"}
    assert m.last_device.hostname == "lap-b"


def test_unidentifiable_media_are_not_recorded(agent):
    agent.checkin(events=[_mounted(agent, {"mount": "/media/x"})])
    assert not Medium.objects.exists()


def test_medium_lifecycle_and_incident_with_phi_seen_on_it(agent):
    f = finding(5, encrypted=False, removable=True)
    f["volume"]["mount"] = STICK["mount"]
    f["identifiers"] = {"name": 40, "mrn": 40}
    assert agent.checkin(events=[_mounted(agent)], findings=[f],
                         findings_complete=True).status_code == 200
    m = Medium.objects.get()
    with pytest.raises(LifecycleError, match="no state 'in_repair'"):
        service.transition(m, "in_repair", actor="it", reason="x")
    service.transition(m, "lost", actor="it", reason="dropped at the conference")
    inc = Incident.objects.get(medium=m)
    assert inc.facts["phi"]["phi_files"] == 1
    assert inc.facts["phi"]["individuals_estimate"] == 40
    assert inc.facts["encryption"]["status"] == "fail"
    assert inc.assessment["safe_harbour"] == "does_not_apply"
    assert inc.facts["mounted_on"][0]["mount"] == STICK["mount"]


def test_medium_disposal_needs_verified_sanitization(agent):
    agent.checkin(events=[_mounted(agent)])
    m = Medium.objects.get()
    service.transition(m, "retired", actor="it", reason="old stick")
    m.refresh_from_db()
    with pytest.raises(TransitionRefused):
        service.transition(m, "sanitized", actor="it", reason="x")
    service.record_sanitization(m, sanitization(media_type="USB flash", method="destroy",
                                                technique="shred", destination="destroyed"),
                                actor="it")
    m.refresh_from_db()
    assert m.lifecycle_state == "sanitized"
    service.transition(m, "disposed", actor="it", reason="shredded")
    m.refresh_from_db()
    assert m.lifecycle_state == "disposed"


def test_a_lost_drive_mounted_again_raises_a_critical_violation(enroll):
    from server.violations.models import Violation

    a, b = enroll(hostname="lap-a"), enroll(hostname="lap-b")
    assert a.checkin(events=[_mounted(a)]).status_code == 200
    m = Medium.objects.get()
    service.transition(m, "lost", actor="it", reason="left at the conference")
    assert not Violation.objects.filter(rule="gone_medium_mounted").exists()
    other = dict(STICK, serial="OTHER-1")
    assert b.checkin(events=[_mounted(b, other)]).status_code == 200
    assert not Violation.objects.filter(rule="gone_medium_mounted").exists()
    assert b.checkin(events=[_mounted(b)]).status_code == 200
    v = Violation.objects.get(rule="gone_medium_mounted", resolved_at=None)
    assert v.severity == "critical" and v.device.hostname == "lap-b"
    assert v.details == {"media": [m.pk], "states": ["lost"]}
