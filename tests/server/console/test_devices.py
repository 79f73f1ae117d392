"""Device list: search, filters, sorting, pages, bad input; the device page."""

from __future__ import annotations

import re

import pytest

from server.audit.models import AuditEntry
from tests.server.console.seed import SECRET_VALUE, make_device


def hostnames(content: bytes) -> list[str]:
    table = content.split(b'id="devices"')[1].split(b"</table>")[0]
    return [h.decode() for h in re.findall(rb'/console/devices/[0-9a-f-]+/">([^<]+)</a>', table)]


@pytest.mark.parametrize("query, expected", [
    ("", ["lap-ok-01", "lap-phi-02", "lap-silent-03", "lap-lost-04", "lap-new-05"]),
    ("os=darwin", ["lap-phi-02"]),
    ("failing=disk_encryption", ["lap-phi-02"]),
    ("failing=screen_lock", ["lap-silent-03"]),
    ("failing=checked_in", ["lap-silent-03", "lap-lost-04", "lap-new-05"]),
    ("phi=yes", ["lap-phi-02"]),
    ("phi=no", ["lap-ok-01", "lap-silent-03", "lap-lost-04", "lap-new-05"]),
    ("state=lost", ["lap-lost-04"]),
    ("seen=1d", ["lap-ok-01", "lap-phi-02"]),
    ("seen=silent", ["lap-silent-03", "lap-lost-04", "lap-new-05"]),
    ("seen=never", ["lap-new-05"]),
    ("q=SILENT", ["lap-silent-03"]),
    ("q=SN-LAP-PHI-02", ["lap-phi-02"]),
    ("os=linux&phi=no&seen=30d", ["lap-ok-01"]),
])
def test_filters(fleet, officer, query, expected):
    r = officer.get(f"/console/devices/?{query}&sort=hostname")
    assert r.status_code == 200
    assert hostnames(r.content) == sorted(expected)
    assert f"{len(expected)} device".encode() in r.content


def test_sorts(fleet, officer):
    # Never-seen first on both databases, then newest first (phi was seeded after ok).
    assert hostnames(officer.get("/console/devices/").content) == [
        "lap-new-05", "lap-phi-02", "lap-ok-01", "lap-silent-03", "lap-lost-04"]
    assert hostnames(officer.get("/console/devices/?sort=violations").content)[:2] == [
        "lap-phi-02", "lap-silent-03"]
    assert hostnames(officer.get("/console/devices/?sort=phi").content)[0] == "lap-phi-02"


def test_pages_keep_filters_and_never_repeat_a_device(db, officer):
    for i in range(120):
        make_device(f"bulk-{i:03d}", seen_days_ago=i % 7)
    seen_names: list[str] = []
    url = "/console/devices/?os=linux&sort=hostname"
    for number in (1, 2, 3):
        r = officer.get(f"{url}&page={number}")
        names = hostnames(r.content)
        seen_names += names
        if number < 3:
            assert b"os=linux&amp;sort=hostname&amp;page=%d" % (number + 1) in r.content
    assert seen_names == sorted(f"bulk-{i:03d}" for i in range(120))


def test_list_query_count_is_flat(db, officer):
    """No query per row: 3 devices or 50 on the page cost the same number of queries."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def count() -> int:
        with CaptureQueriesContext(connection) as ctx:
            assert officer.get("/console/devices/").status_code == 200
        # The policy read is cached for a few seconds per process: leave it out, so the
        # count does not depend on how long the seeding in between took.
        return sum("policy_policyrevision" not in q["sql"] for q in ctx.captured_queries)

    for i in range(3):
        make_device(f"flat-{i:03d}", phi_files=1)
    small = count()
    for i in range(3, 60):
        make_device(f"flat-{i:03d}", phi_files=1)
    assert count() == small <= 12


@pytest.mark.parametrize("query, field", [("os=beos", "os"), ("failing=nope", "failing"),
                                          ("sort=password", "sort"), ("page=x", "page"),
                                          ("seen=2y", "seen")])
def test_bad_filters_are_named(fleet, officer, query, field):
    r = officer.get(f"/console/devices/?{query}")
    assert r.status_code == 400
    assert f"{field}: ".encode() in r.content


def test_device_page_shows_inventory_posture_findings_events_violations(fleet, officer):
    d = fleet["phi"]
    r = officer.get(f"/console/devices/{d.pk}/")
    assert r.status_code == 200
    body = r.content
    assert b"SN-LAP-PHI-02" in body and b"Latitude 7440" in body
    assert b'id="lifecycle-state">In service' in body
    posture = body.split(b'id="posture"')[1].split(b"</table>")[0]
    assert b"disk_encryption" in posture and b"st-fail" in posture and b"Fix: Turn it on" in posture
    findings = body.split(b'id="open-findings"')[1].split(b"</table>")[0]
    assert findings.split(b"<tbody>")[1].count(b"<tr>") == 2
    assert b"/home/alice/Downloads/export" in findings
    assert b"ssn \xc3\x97" in findings and b"icd10 \xc3\x97" in findings
    assert b"SanDisk Ultra /Volumes/USB" in body and b"encrypted: no" in body
    assert b"PHI on an unencrypted disk" in body
    assert SECRET_VALUE.encode() not in body


def test_viewing_findings_is_audited(fleet, officer):
    d = fleet["phi"]
    officer.get(f"/console/devices/{d.pk}/")
    assert SECRET_VALUE not in str(list(AuditEntry.objects.values_list("details", "target")))
    e = AuditEntry.objects.filter(action="device.findings_viewed").last()
    assert e.target == f"device:{d.pk}" and e.actor == "user:compliance_officer-user"
    assert e.details["open_findings"] == 2


def test_unknown_device_is_404(fleet, officer):
    assert officer.get("/console/devices/00000000-0000-0000-0000-000000000000/").status_code == 404


def test_device_page_links_to_lifecycle_when_installed(fleet, officer):
    from django.urls import NoReverseMatch, reverse

    d = fleet["lost"]
    body = officer.get(f"/console/devices/{d.pk}/").content
    assert b'id="lifecycle-state">Lost' in body
    try:
        url = reverse("lifecycle:device", args=[d.pk])
    except NoReverseMatch:  # the lifecycle app is optional
        assert b'id="lifecycle-link"' not in body
    else:
        assert f'href="{url}" id="lifecycle-link"'.encode() in body
