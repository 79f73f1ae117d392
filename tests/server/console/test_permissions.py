"""Each role sees what it needs and nothing more; anonymous users see nothing."""

from __future__ import annotations

import pytest

PAGES = {
    "dashboard": "/console/",
    "devices": "/console/devices/",
    "violations": "/console/violations/",
    "reports": "/console/reports/",
    "posture_csv": "/console/reports/posture.csv",
    "audit": "/console/audit/",
}
ALLOWED = {
    "it_admin": {"dashboard", "devices", "violations", "device"},
    "compliance_officer": {"dashboard", "devices", "violations", "device", "reports",
                           "posture_csv", "audit"},
    "auditor": {"dashboard", "devices", "violations", "device", "reports", "posture_csv",
                "audit"},
}


@pytest.mark.parametrize("role", list(ALLOWED))
def test_role_page_matrix(fleet, as_role, role):
    pages = {**PAGES, "device": f"/console/devices/{fleet['phi'].pk}/"}
    for name, url in pages.items():
        r = as_role[role].get(url)
        expected = 200 if name in ALLOWED[role] else 403
        assert r.status_code == expected, (role, name, r.status_code)
        if expected == 403:
            assert b"may not see this page" in r.content


def test_anonymous_is_sent_to_sign_in(fleet, client):
    for url in [*PAGES.values(), f"/console/devices/{fleet['phi'].pk}/"]:
        r = client.get(url)
        assert r.status_code == 302 and r["Location"].startswith("/accounts/login/?next=")


def test_auditor_is_read_only(fleet, as_role):
    c = as_role["auditor"]
    v = fleet["v_phi"]
    assert c.post(f"/console/violations/{v.pk}/acknowledge").status_code == 403
    assert c.post(f"/console/violations/{v.pk}/assign", {"assignee": ""}).status_code == 403
    r = c.post(f"/console/violations/{v.pk}/exception",
               {"until": "2099-01-01", "justification": "x" * 40})
    assert r.status_code == 403
    v.refresh_from_db()
    assert v.status == "open"
    page = c.get(f"/console/violations/{v.pk}/")
    assert b'id="acknowledge"' not in page.content
    assert b"may read violations but not act" in page.content


def test_it_admin_may_triage_but_not_grant_exceptions(fleet, as_role):
    c = as_role["it_admin"]
    v = fleet["v_enc"]
    r = c.post(f"/console/violations/{v.pk}/exception",
               {"until": "2099-01-01", "justification": "x" * 40})
    assert r.status_code == 403
    assert c.post(f"/console/violations/{v.pk}/acknowledge").status_code == 302
    v.refresh_from_db()
    assert v.status == "acknowledged"


def test_nav_shows_only_allowed_sections(as_role):
    it = as_role["it_admin"].get("/console/").content
    assert b'href="/console/audit/"' not in it and b'href="/console/reports/"' not in it
    co = as_role["compliance_officer"].get("/console/").content
    assert b'href="/console/audit/"' in co and b'href="/console/reports/"' in co


def test_admin_session_without_second_factor_is_refused(users, fleet):
    """A session made by some other login path (e.g. Django admin) lacks the MFA flag."""
    from django.test import Client

    c = Client()
    c.force_login(users["it_admin"])
    r = c.get("/console/")
    assert r.status_code == 302 and "reason=mfa" in r["Location"]
