"""A lost, stolen or disposed device that checks in again: critical violation, 409 to the
agent, and a sighting that tells IT where and when."""

from __future__ import annotations

import pytest

from server.audit.models import AuditEntry
from server.devices.models import Device
from server.lifecycle import service
from server.lifecycle.models import Sighting
from server.violations.models import Violation

from .conftest import sanitization

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("state", ["lost", "stolen", "disposed"])
def test_gone_device_checking_in_raises_a_critical_violation_and_a_sighting(
        device_with_phi, state):
    agent, device = device_with_phi
    if state == "disposed":
        service.transition(device, "retired", actor="it", reason="end of life")
        service.record_sanitization(device, sanitization(), actor="it")
        service.transition(device, "disposed", actor="it", reason="to recycler")
    else:
        service.transition(device, state, actor="it", reason="reported by user")
    body = agent.report(inventory={"hostname": "found-it", "users": ["mallory"],
                                   "interfaces": [{"name": "wlan0",
                                                   "addresses": ["203.0.113.9"]}]})
    r = agent.post("/api/v1/checkin", body, REMOTE_ADDR="198.51.100.7")
    assert r.status_code == 409
    assert state in r.json()["detail"]
    v = Violation.objects.get(device=device, rule="gone_device_checked_in", resolved_at=None)
    assert v.severity == "critical"
    s = Sighting.objects.get(device=device)
    assert (s.state, s.remote_addr, s.hostname, s.users) == (state, "198.51.100.7", "found-it",
                                                             ["mallory"])
    assert "203.0.113.9" in s.addresses
    assert AuditEntry.objects.filter(action="lifecycle.device.sighting").exists()


def test_recovered_device_resolves_the_violation(device_with_phi):
    agent, device = device_with_phi
    service.transition(device, "lost", actor="it", reason="left on a train")
    assert agent.checkin().status_code == 409
    assert Violation.objects.filter(device=device, rule="gone_device_checked_in",
                                    resolved_at=None).exists()
    service.transition(Device.objects.get(pk=device.pk), "in_service", actor="it",
                       reason="returned by the rail company")
    assert not Violation.objects.filter(device=device, rule="gone_device_checked_in",
                                        resolved_at=None).exists()
    assert agent.checkin().status_code == 200
    assert Violation.objects.filter(device=device, rule="gone_device_checked_in").count() == 1


def test_in_service_device_makes_no_sighting(device_with_phi):
    agent, device = device_with_phi
    assert agent.checkin().status_code == 200
    assert not Sighting.objects.exists()
