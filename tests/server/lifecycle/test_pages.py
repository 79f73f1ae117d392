"""Lifecycle pages in the console: who may read, who may change, and what they show."""

from __future__ import annotations

import pytest

from server.devices.models import Device
from server.lifecycle import service
from server.lifecycle.models import Incident, Movement
from tests.server.console.conftest import signed_in
from tests.server.console.seed import make_user

from .conftest import sanitization

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def cheap_argon2(settings):
    settings.PASSWORD_HASHERS = ["tests.server.console.hashers.CheapArgon2PasswordHasher"]


@pytest.fixture
def it(db):
    return signed_in(make_user("it-user", "it_admin", "correct horse battery 9"))


@pytest.fixture
def auditor(db):
    return signed_in(make_user("aud-user", "auditor", "correct horse battery 9"))


def test_device_lifecycle_page_and_change_by_it_admin(it, device_with_phi):
    _, device = device_with_phi
    url = f"/console/lifecycle/devices/{device.pk}/"
    r = it.get(url)
    assert r.status_code == 200
    body = r.content.decode()
    assert 'id="change-form"' in body and "In service" in body
    r = it.post(f"/console/lifecycle/devices/{device.pk}/change",
                {"to": "retired", "reason": "end of lease", "custodian": "IT store"})
    assert r.status_code == 302
    assert Device.objects.get(pk=device.pk).lifecycle_state == "retired"
    # The guard's refusal is shown, nothing changes.
    r = it.post(f"/console/lifecycle/devices/{device.pk}/change",
                {"to": "sanitized", "reason": "x"}, follow=True)
    assert "no sanitization record" in r.content.decode()
    assert Device.objects.get(pk=device.pk).lifecycle_state == "retired"
    r = it.post(f"/console/lifecycle/devices/{device.pk}/sanitize", {
        **{k: v for k, v in sanitization().items() if k not in ("performed_at", "verified_at")},
        "performed_at": "2026-01-02T10:00", "verified_at": "2026-01-02T11:00"}, follow=True)
    # Sanitized before the device's last check-in (today): kept as evidence, but the
    # device stays retired.
    assert "saved and verified" in r.content.decode()
    assert Device.objects.get(pk=device.pk).lifecycle_state == "retired"


def test_auditor_reads_but_cannot_change(auditor, device_with_phi):
    _, device = device_with_phi
    r = auditor.get(f"/console/lifecycle/devices/{device.pk}/")
    assert r.status_code == 200 and 'id="change-form"' not in r.content.decode()
    r = auditor.post(f"/console/lifecycle/devices/{device.pk}/change",
                     {"to": "retired", "reason": "x"})
    assert r.status_code == 403
    assert Device.objects.get(pk=device.pk).lifecycle_state == "in_service"


def test_incident_page_pdf_json_are_audited(it, device_with_phi):
    from server.audit.models import AuditEntry
    _, device = device_with_phi
    service.transition(device, "stolen", actor="it", reason="break-in")
    inc = Incident.objects.get()
    r = it.get(f"/console/lifecycle/incidents/{inc.pk}/")
    body = r.content.decode()
    assert r.status_code == 200 and "appears_to_apply" in body and "/home/a/data" in body
    r = it.get(f"/console/lifecycle/incidents/{inc.pk}/?format=pdf")
    assert r["Content-Type"] == "application/pdf" and r.content.startswith(b"%PDF")
    r = it.get(f"/console/lifecycle/incidents/{inc.pk}/?format=json")
    assert r.json()["assessment"]["safe_harbour"] == "appears_to_apply"
    assert AuditEntry.objects.filter(action="lifecycle.incident.read").count() == 3


def test_certificate_page_and_overview(it, device_with_phi):
    _, device = device_with_phi
    rec = service.record_sanitization(device, sanitization(), actor="it")
    r = it.get(f"/console/lifecycle/sanitization/{rec.pk}/")
    assert r.status_code == 200 and "VERIFIED" in r.content.decode()
    assert it.get(f"/console/lifecycle/sanitization/{rec.pk}/?format=pdf").content[:4] == b"%PDF"
    r = it.get("/console/lifecycle/")
    assert r.status_code == 200 and 'id="states"' in r.content.decode()


def test_custody_log_search_and_csv(it, auditor):
    r = it.post("/console/lifecycle/custody/add", {"direction": "in", "description": "Dell 7440",
                                                   "serial": "DL-9", "reference": "PO-1"})
    assert r.status_code == 302 and Movement.objects.get().serial == "DL-9"
    r = auditor.get("/console/lifecycle/custody/?q=DL-9")
    assert "PO-1" in r.content.decode()
    r = auditor.get("/console/lifecycle/custody/?q=DL-9&format=csv")
    lines = r.content.decode().splitlines()
    assert lines[0].startswith("id,at,direction") and "DL-9" in lines[1]
    assert auditor.post("/console/lifecycle/custody/add",
                        {"direction": "in", "description": "x"}).status_code == 403


def test_signed_out_is_sent_to_login(client, device_with_phi):
    _, device = device_with_phi
    r = client.get(f"/console/lifecycle/devices/{device.pk}/")
    assert r.status_code == 302 and "/accounts/login" in r["Location"]


def test_only_lifecycle_is_marked_in_the_navigation(it, device_with_phi):
    _, device = device_with_phi
    body = it.get(f"/console/lifecycle/devices/{device.pk}/").content.decode()
    marked = [line for line in body.splitlines() if 'class="on"' in line]
    assert len(marked) == 1 and ">Lifecycle<" in marked[0]
