"""Violations queue and actions: acknowledge, assign, exception; each audited once."""

from __future__ import annotations

import re
from datetime import timedelta

from django.utils import timezone

from server.audit.models import AuditEntry
from server.violations.models import Violation


def titles(content: bytes) -> list[str]:
    table = content.split(b'id="violations"')[1].split(b"</table>")[0]
    return [t.decode() for t in re.findall(rb'/console/violations/\d+/">([^<]+)</a>', table)]


def test_queue_orders_by_severity_and_filters(fleet, officer):
    r = officer.get("/console/violations/")
    assert titles(r.content) == ["PHI on an unencrypted disk", "Disk not encrypted",
                                 "Screen lock off"]
    assert titles(officer.get("/console/violations/?severity=medium").content) == [
        "Screen lock off"]
    assert titles(officer.get("/console/violations/?rule=disk_not_encrypted").content) == [
        "Disk not encrypted"]
    assert titles(officer.get("/console/violations/?q=silent").content) == ["Screen lock off"]
    assert officer.get("/console/violations/?status=bogus").status_code == 400
    # The rule filter offers the rules of rules/violations.yaml by title.
    assert b'<option value="disk_not_encrypted">System disk not encrypted</option>' in r.content


def test_acknowledge_once_and_audited(fleet, as_role, users):
    c = as_role["it_admin"]
    v = fleet["v_phi"]
    r = c.post(f"/console/violations/{v.pk}/acknowledge", {"next": "/console/violations/"})
    assert r.status_code == 302 and r["Location"] == "/console/violations/"
    v.refresh_from_db()
    assert v.status == "acknowledged" and v.acknowledged_by == users["it_admin"]
    assert v.acknowledged_at is not None
    # Second time: nothing changes, the user is told, no second audit entry.
    r = c.post(f"/console/violations/{v.pk}/acknowledge", follow=True)
    assert b"is not open (it is acknowledged)" in r.content
    entries = AuditEntry.objects.filter(action="violation.acknowledge", target=f"violation:{v.pk}")
    assert entries.count() == 1
    assert entries.get().details == {"device": str(v.device_id), "rule": "phi_on_unencrypted_volume"}
    # Live queue still lists it (acknowledged is still open work); status=open does not.
    assert "PHI on an unencrypted disk" in titles(c.get("/console/violations/").content)
    assert "PHI on an unencrypted disk" not in titles(
        c.get("/console/violations/?status=open").content)


def test_offsite_next_is_ignored(fleet, as_role):
    v = fleet["v_enc"]
    r = as_role["it_admin"].post(f"/console/violations/{v.pk}/acknowledge",
                                 {"next": "//evil.example/"})
    assert r["Location"] == f"/console/violations/{v.pk}/"


def test_assign_to_a_triager_only(fleet, as_role, users):
    c = as_role["compliance_officer"]
    v = fleet["v_lock"]
    it = users["it_admin"]
    r = c.post(f"/console/violations/{v.pk}/assign", {"assignee": it.username}, follow=True)
    assert b"assigned to it_admin-user" in r.content
    v.refresh_from_db()
    assert v.assignee == it
    e = AuditEntry.objects.get(action="violation.assign")
    assert e.details["assignee"] == it.username
    # An auditor cannot be handed work: their role may not triage.
    r = c.post(f"/console/violations/{v.pk}/assign", {"assignee": users["auditor"].username},
               follow=True)
    assert b"assignee: no active user" in r.content
    v.refresh_from_db()
    assert v.assignee == it
    assert titles(as_role["it_admin"].get("/console/violations/?assignee=me").content) == [
        "Screen lock off"]


def test_exception_needs_a_justification_and_a_near_end(fleet, officer):
    v = fleet["v_enc"]
    url = f"/console/violations/{v.pk}/exception"
    today = timezone.now().date()
    r = officer.post(url, {"until": str(today + timedelta(days=30)), "justification": "ok"})
    assert r.status_code == 400 and b"write at least 20 characters" in r.content
    r = officer.post(url, {"until": str(today + timedelta(days=400)),
                           "justification": "Loaner laptop, encrypted volume on order #1234"})
    assert r.status_code == 400 and b"at most 90 days" in r.content
    r = officer.post(url, {"until": str(today), "justification": "x" * 30})
    assert r.status_code == 400 and b"after today" in r.content
    v.refresh_from_db()
    assert v.status == "open" and v.exception_until is None
    assert not AuditEntry.objects.filter(action="violation.exception").exists()


def test_exception_granted_and_audited(fleet, officer):
    v = fleet["v_enc"]
    until = timezone.now().date() + timedelta(days=14)
    why = "Replacement SSD with OPAL encryption arrives next week; device offline meanwhile."
    r = officer.post(f"/console/violations/{v.pk}/exception",
                     {"until": str(until), "justification": why})
    assert r.status_code == 302
    v.refresh_from_db()
    assert v.status == "excepted" and v.exception_until.date() == until
    assert v.exception_justification == why
    e = AuditEntry.objects.get(action="violation.exception")
    assert e.actor == "user:compliance_officer-user" and e.details["justification"] == why
    page = officer.get(f"/console/violations/{v.pk}/")
    assert b'id="violation-exception">until ' + str(until).encode() in page.content
    # Excepted violations leave the live queue and the dashboard's open count.
    assert "Disk not encrypted" not in titles(officer.get("/console/violations/").content)


def test_resolved_violation_cannot_be_acted_on(fleet, officer):
    v = fleet["v_lock"]
    Violation.objects.filter(pk=v.pk).update(status="resolved", resolved_at=timezone.now())
    r = officer.post(f"/console/violations/{v.pk}/exception",
                     {"until": str(timezone.now().date() + timedelta(days=3)),
                      "justification": "x" * 30}, follow=True)
    assert b"is resolved; nothing changed" in r.content
    v.refresh_from_db()
    assert v.status == "resolved"


def test_queue_query_count_is_flat(fleet, officer):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from tests.server.console.seed import make_device, make_violation

    def count() -> int:
        with CaptureQueriesContext(connection) as ctx:
            assert officer.get("/console/violations/?status=all").status_code == 200
        # The policy read is cached for a few seconds per process: leave it out, so the
        # count does not depend on how long the seeding in between took.
        return sum("policy_policyrevision" not in q["sql"] for q in ctx.captured_queries)

    small = count()
    for i in range(30):
        make_violation(make_device(f"q-{i:02d}"), "screen_lock", "Screen lock off", "low")
    assert count() == small
