"""The violation engine: each rule opens and resolves by itself; history stays."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from django.utils import timezone

from server.audit.models import AuditEntry
from server.devices.models import Device
from server.errors import ConfigError
from server.policy.effective import set_overrides
from server.violations.engine import reevaluate
from server.violations.models import Violation
from server.violations.rules import parse, rules
from server.violations.sweep import sweep
from tests.server.conftest import check, finding, now


def open_rules(agent) -> set[str]:
    return set(Violation.objects.filter(device_id=agent.device_id, resolved_at__isnull=True)
               .values_list("rule", flat=True))


def test_rules_file_loads_and_covers_the_issue():
    ids = {r.id for r in rules()}
    assert ids >= {"phi_on_workstation", "phi_on_unencrypted_volume", "phi_on_removable_media",
                   "disk_not_encrypted", "screen_lock", "no_auto_logoff",
                   "removable_media_used", "device_silent", "gone_device_checked_in"}
    by_id = {r.id: r for r in rules()}
    assert by_id["phi_on_unencrypted_volume"].severity == "critical"
    assert by_id["gone_device_checked_in"].severity == "critical"
    assert by_id["disk_not_encrypted"].hipaa == "164.312(a)(2)(iv)"


@pytest.mark.parametrize(("rule", "message"), [
    ({"severity": "apocalyptic"}, "severity"),
    ({"when": {"weather": "rain"}}, "unknown condition 'weather'"),
    ({"when": {"any": []}}, "non-empty list"),
    ({"when": {"finding": {"colour": "red"}}}, "finding"),
    ({"hipaa": "ISO 27001"}, "hipaa"),
    ({"surprise": 1}, "unknown keys"),
])
def test_bad_rules_fail_at_load_naming_the_problem(rule, message):
    good = {"id": "r", "title": "t", "severity": "low", "hipaa": "164.310(c)",
            "when": {"silent": True}}
    with pytest.raises(ConfigError, match=message):
        parse({"rules": [dict(good, **rule)]}, "test.yaml")


def test_duplicate_rule_ids_fail():
    r = {"id": "r", "title": "t", "severity": "low", "hipaa": "164.310(c)", "when": {"silent": True}}
    with pytest.raises(ConfigError, match="duplicate"):
        parse({"rules": [r, r]}, "test.yaml")


def test_phi_findings_open_and_close_their_violations(agent):
    agent.checkin(findings=[finding(1, encrypted=True)], findings_complete=True)
    assert open_rules(agent) == {"phi_on_workstation"}
    agent.checkin(findings=[finding(1, encrypted=False), finding(2, removable=True)],
                  findings_complete=True)
    assert open_rules(agent) == {"phi_on_workstation", "phi_on_unencrypted_volume",
                                 "phi_on_removable_media"}
    v = Violation.objects.get(device_id=agent.device_id, rule="phi_on_workstation")
    assert v.details == {"files": 2}
    agent.checkin(findings=[], findings_complete=True)
    assert open_rules(agent) == set()
    closed = Violation.objects.filter(device_id=agent.device_id)
    assert closed.count() == 3
    assert all(v.status == "resolved" and v.resolved_at >= v.opened_at for v in closed)
    d = Device.objects.get(pk=agent.device_id)
    assert (d.open_violations, d.worst_severity, d.phi_present) == (0, "", False)


def test_pii_alone_opens_nothing(agent):
    agent.checkin(findings=[finding(1, "pii", encrypted=False)], findings_complete=True)
    assert open_rules(agent) == set()


def test_posture_failures_open_and_passes_close(agent):
    agent.checkin(posture=agent.posture(check("disk_encryption", "fail"),
                                        check("screen_lock", "fail"),
                                        check("auto_logoff", "fail")))
    assert open_rules(agent) == {"disk_not_encrypted", "screen_lock", "no_auto_logoff"}
    d = Device.objects.get(pk=agent.device_id)
    assert (d.open_violations, d.worst_severity, d.disk_encrypted) == (3, "high", False)
    # A report without posture keeps the last known posture (and its violations).
    agent.checkin()
    assert len(open_rules(agent)) == 3
    agent.checkin(posture=agent.posture(check("disk_encryption", "pass"),
                                        check("screen_lock", "pass"),
                                        check("auto_logoff", "unknown")))
    assert open_rules(agent) == set()


def test_screen_lock_longer_than_server_policy_is_a_violation(agent):
    agent.checkin(posture=agent.posture(check("screen_lock", "pass",
                                              details={"lock_after_seconds": 600})))
    assert open_rules(agent) == set()
    set_overrides({"screen_lock_max_seconds": 300}, actor="user:co")
    agent.checkin()
    assert open_rules(agent) == {"screen_lock"}
    v = Violation.objects.get(device_id=agent.device_id, rule="screen_lock")
    assert v.details == {"check": "screen_lock", "lock_after_seconds": 600,
                         "screen_lock_max_seconds": 300}


def test_long_logoff_counts_only_when_the_screen_lock_may_not_stand_in(agent):
    long_logoff = agent.posture(check("auto_logoff", "pass", details={"logoff_seconds": 3600}))
    agent.checkin(posture=long_logoff)
    assert open_rules(agent) == set()
    set_overrides({"auto_logoff_accept_screen_lock": False}, actor="user:co")
    agent.checkin()
    assert open_rules(agent) == {"no_auto_logoff"}


def test_removable_media_follows_policy(agent):
    media = {"event_id": str(uuid.uuid4()), "type": "media_mounted", "at": now(),
             "data": {"vendor": "Kingston", "encrypted": False}}
    agent.checkin(events=[media])
    assert open_rules(agent) == {"removable_media_used"}
    agent.checkin(posture=agent.posture(check("removable_media", "pass")))
    assert open_rules(agent) == set()
    set_overrides({"removable_media_allowed": True}, actor="user:co")
    agent.checkin(events=[dict(media, event_id=str(uuid.uuid4()))],
                  inventory={"disks": [{"mount": "/media/usb", "removable": True}]})
    assert open_rules(agent) == set()


def test_silent_device_sweep_opens_and_checkin_closes(agent):
    agent.checkin()
    long_ago = timezone.now() - timedelta(days=4)
    Device.objects.filter(pk=agent.device_id).update(last_seen=long_ago)
    assert sweep() == {"devices_reevaluated": 1}
    assert open_rules(agent) == {"device_silent"}
    v = Violation.objects.get(rule="device_silent")
    assert v.details["silent_seconds"] >= 4 * 86400
    assert sweep() == {"devices_reevaluated": 0}  # already open: nothing to do
    agent.checkin()
    assert open_rules(agent) == set()
    assert Violation.objects.get(rule="device_silent").resolved_at is not None


def test_lost_device_checking_in_opens_critical_and_finding_it_closes(agent):
    Device.objects.filter(pk=agent.device_id).update(lifecycle_state="lost")
    reevaluate(agent.device_id)  # a lifecycle change alone opens nothing: it needs a check-in
    assert open_rules(agent) == set()
    assert agent.checkin().status_code == 409
    assert open_rules(agent) == {"gone_device_checked_in"}
    assert Device.objects.get(pk=agent.device_id).worst_severity == "critical"
    Device.objects.filter(pk=agent.device_id).update(lifecycle_state="in_service")
    assert sweep()["devices_reevaluated"] == 1
    assert open_rules(agent) == set()


def test_expired_exception_reopens(agent):
    agent.checkin(posture=agent.posture(check("disk_encryption", "fail")))
    v = Violation.objects.get(rule="disk_not_encrypted")
    Violation.objects.filter(pk=v.pk).update(
        status="excepted", exception_until=timezone.now() - timedelta(minutes=1),
        exception_justification="encrypting this week")
    sweep()
    v.refresh_from_db()
    assert (v.status, v.resolved_at) == ("open", None)


def test_reopening_is_a_new_episode_and_every_change_is_audited(agent):
    bad = agent.posture(check("disk_encryption", "fail"))
    good = agent.posture(check("disk_encryption", "pass"))
    for p in (bad, good, bad):
        agent.checkin(posture=p)
    rows = Violation.objects.filter(rule="disk_not_encrypted").order_by("id")
    assert [v.status for v in rows] == ["resolved", "open"]
    changes = AuditEntry.objects.filter(action="violations.change",
                                        target=f"device:{agent.device_id}").order_by("id")
    assert [(e.details["opened"], e.details["resolved"]) for e in changes] == [
        (["disk_not_encrypted"], []), ([], ["disk_not_encrypted"]), (["disk_not_encrypted"], [])]
