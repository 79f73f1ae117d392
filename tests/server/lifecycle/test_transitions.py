"""Every device transition in rules/lifecycle.yaml and every guard, with who/when/why."""

from __future__ import annotations

import pytest

from server.audit.models import AuditEntry
from server.devices.models import Device
from server.lifecycle import service
from server.lifecycle.errors import LifecycleError, TransitionRefused
from server.lifecycle.models import Movement, Transition
from server.lifecycle.states import machine

from .conftest import sanitization

pytestmark = pytest.mark.django_db


def _device(agent) -> Device:
    return Device.objects.get(pk=agent.device_id)


def _force(device: Device, state: str) -> Device:
    Device.objects.filter(pk=device.pk).update(lifecycle_state=state)
    device.refresh_from_db()
    return device


def _path_to(device, state):
    """Reach `state` through allowed moves only (sanitizing on the way where needed)."""
    steps = {
        "in_service": [], "in_repair": ["in_repair"], "loaned": ["loaned"], "lost": ["lost"],
        "stolen": ["stolen"], "retired": ["retired"], "sanitized": ["retired", "sanitized"],
        "disposed": ["retired", "sanitized", "disposed"],
        "reissued": ["retired", "sanitized", "reissued"],
    }[state]
    for s in steps:
        if s == "sanitized":
            service.record_sanitization(device, sanitization(), actor="it", advance=True)
            device.refresh_from_db()
            continue
        service.transition(device, s, actor="it", reason=f"test to {s}")
        device.refresh_from_db()
    assert device.lifecycle_state == state
    return device


ALL_MOVES = [(src, m.to) for m in machine().moves for src in m.sources]


@pytest.mark.parametrize("src,dst", ALL_MOVES)
def test_every_allowed_transition_is_recorded_with_who_when_why(enroll, src, dst):
    device = _path_to(_device(enroll()), src)
    if "verified_sanitization" in (machine().move(src, dst).requires):
        service.record_sanitization(device, sanitization(), actor="it", advance=False)
    before = Transition.objects.count()
    t = service.transition(device, dst, actor="cli:alice", reason="because the test says so",
                           custodian="Bob", location="HQ")
    device.refresh_from_db()
    assert device.lifecycle_state == dst
    assert Transition.objects.count() == before + 1
    assert (t.from_state, t.to_state, t.actor, t.reason) == (src, dst, "cli:alice",
                                                            "because the test says so")
    assert t.at is not None and not t.override
    entry = AuditEntry.objects.filter(action="lifecycle.transition").order_by("-id").first()
    assert entry.details["from"] == src and entry.details["to"] == dst
    move = machine().move(src, dst)
    if move.movement:
        mv = Movement.objects.order_by("-id").first()
        assert mv.direction == move.movement and mv.device_id == device.pk


def test_disallowed_transition_names_the_allowed_ones(agent):
    device = _device(agent)
    with pytest.raises(TransitionRefused, match="allowed moves are: .*in_repair"):
        service.transition(device, "disposed", actor="it", reason="skip ahead")
    assert _device(agent).lifecycle_state == "in_service"
    assert not Transition.objects.exists()


def test_disposed_is_terminal(agent):
    device = _path_to(_device(agent), "disposed")
    for target in ("in_service", "retired", "lost"):
        with pytest.raises(TransitionRefused):
            service.transition(device, target, actor="it", reason="resurrect")


def test_reason_is_required(agent):
    with pytest.raises(LifecycleError, match="reason"):
        service.transition(_device(agent), "retired", actor="it", reason="  ")


@pytest.mark.parametrize("target", ["disposed", "reissued"])
def test_disposal_and_reuse_need_a_verified_sanitization_record(agent, target):
    device = _force(_device(agent), "sanitized")
    with pytest.raises(TransitionRefused, match="no sanitization record"):
        service.transition(device, target, actor="it", reason="done")
    # A record whose verification failed is not enough...
    service.record_sanitization(device, sanitization(verification_result="fail"), actor="it")
    with pytest.raises(TransitionRefused, match="no verified sanitization record"):
        service.transition(device, target, actor="it", reason="done")
    # ...nor one verified by the same person who sanitized (800-88: independent check).
    service.record_sanitization(device, sanitization(verified_by="Sam Tech"), actor="it")
    with pytest.raises(TransitionRefused, match="no verified"):
        service.transition(device, target, actor="it", reason="done")
    service.record_sanitization(device, sanitization(), actor="it")
    service.transition(device, target, actor="it", reason="done")
    assert _device(agent).lifecycle_state == target


def test_sanitization_older_than_the_last_checkin_does_not_count(agent):
    from datetime import timedelta

    from django.utils import timezone
    device = _device(agent)
    agent.checkin()  # last_seen = now
    device = _force(device, "sanitized")
    old = timezone.now() - timedelta(days=3)
    service.record_sanitization(device, sanitization(performed_at=old, verified_at=old),
                                actor="it")
    with pytest.raises(TransitionRefused, match="older than the asset's last check-in"):
        service.transition(device, "disposed", actor="it", reason="done")


def test_admin_override_needs_a_justification_and_is_flagged(agent):
    device = _force(_device(agent), "sanitized")
    with pytest.raises(TransitionRefused, match="only an IT admin"):
        service.transition(device, "disposed", actor="console:bob", reason="x",
                           override_justification="vendor certificate arrives next week, ok",
                           may_override=False)
    with pytest.raises(TransitionRefused, match="at least 20 characters"):
        service.transition(device, "disposed", actor="it", reason="x",
                           override_justification="trust me", may_override=True)
    t = service.transition(device, "disposed", actor="it", reason="shredded by vendor",
                           override_justification="shredded on site, certificate CD-2291 "
                                                  "on paper in the safe", may_override=True)
    assert t.override and "CD-2291" in t.override_justification
    entry = AuditEntry.objects.filter(action="lifecycle.transition").order_by("-id").first()
    assert entry.details["override"] is True
    assert entry.details["failed_guards"] == ["verified_sanitization"]


def test_verified_record_moves_a_retired_device_to_sanitized(agent):
    device = _path_to(_device(agent), "retired")
    rec = service.record_sanitization(device, sanitization(), actor="it")
    assert rec.verified
    assert _device(agent).lifecycle_state == "sanitized"


@pytest.mark.parametrize("bad,msg", [
    ({"method": "shred"}, "method"),
    ({"performed_by": ""}, "performed_by"),
    ({"verified_at": "yesterday-ish"}, "verified_at"),
    ({"destination": "ebay"}, "destination"),
])
def test_bad_sanitization_records_are_refused_with_the_field(agent, bad, msg):
    with pytest.raises(LifecycleError, match=msg):
        service.record_sanitization(_device(agent), sanitization(**bad), actor="it")


def test_verification_before_sanitization_is_refused(agent):
    from datetime import timedelta

    from django.utils import timezone
    now = timezone.now()
    with pytest.raises(LifecycleError, match="verification cannot come before"):
        service.record_sanitization(_device(agent), sanitization(
            performed_at=now, verified_at=now - timedelta(hours=1)), actor="it")
