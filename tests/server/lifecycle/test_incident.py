"""Lost/stolen incidents get their facts from real check-ins, and the breach draft says
what those facts mean (shared/reference/lifecycle.md 5.5)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from server.checkins.models import PostureSnapshot
from server.devices.models import Device
from server.lifecycle import service
from server.lifecycle.models import Incident
from tests.server.conftest import check, finding

pytestmark = pytest.mark.django_db


def _report(agent, disk: str, findings: list[dict]):
    r = agent.checkin(
        posture=agent.posture(check("disk_encryption", disk)),
        findings=findings, findings_complete=True)
    assert r.status_code == 200, r.content


def _lose(agent, kind="stolen") -> Incident:
    device = Device.objects.get(pk=agent.device_id)
    service.transition(device, kind, actor="it", reason="taken from a car",
                       police_report="PR-1")
    return Incident.objects.get(device=device)


def _phi(n, ids, encrypted=True):
    f = finding(n, encrypted=encrypted)
    f["identifiers"] = ids
    return f


def test_encrypted_laptop_with_phi_safe_harbour_appears_to_apply(agent):
    _report(agent, "pass", [_phi(1, {"name": 1200, "mrn": 1200, "dob": 1200}),
                            _phi(2, {"ssn": 30})])
    inc = _lose(agent)
    f, a = inc.facts, inc.assessment
    assert f["encryption"]["status"] == "pass"
    assert f["encryption"]["last_verified_encrypted_at"] is not None
    assert f["phi"]["phi_files"] == 2
    assert f["phi"]["individuals_estimate"] == 1230
    assert f["phi"]["identifier_kinds"] == {"dob": 1200, "mrn": 1200, "name": 1200, "ssn": 30}
    assert f["phi"]["folders"] == ["/home/a/data"]
    assert a["safe_harbour"] == "appears_to_apply"
    assert "NIST SP 800-111" in a["safe_harbour_text"]
    assert a["notices"] is None
    assert "A thief" in a["factors"][1]["draft"]
    assert inc.police_report == "PR-1"


def test_unencrypted_laptop_with_phi_is_presumed_a_breach_with_clocks(agent):
    _report(agent, "fail", [_phi(1, {"name": 800, "ssn": 800}, encrypted=False)])
    inc = _lose(agent, "lost")
    a = inc.assessment
    assert inc.facts["encryption"]["status"] == "fail"
    assert inc.facts["phi"]["on_unencrypted_volume"] == 1
    assert a["safe_harbour"] == "does_not_apply"
    assert "Presumed a breach" in a["conclusion"]
    assert a["notices"]["hhs"].startswith("contemporaneously")  # 800 >= 500
    assert "required" in a["notices"]["media"]
    discovered = timezone.now().date()
    assert a["notices"]["individuals_by"] == str(discovered + timedelta(days=60))
    assert "Unknown finder" in a["factors"][1]["draft"]


def test_small_breach_goes_to_the_annual_log(agent):
    _report(agent, "fail", [_phi(1, {"name": 12})])
    a = _lose(agent).assessment
    assert a["safe_harbour"] == "does_not_apply"
    assert "log it" in a["notices"]["hhs"] and "not required" in a["notices"]["media"]


def test_encrypted_laptop_without_phi_needs_no_safe_harbour(agent):
    _report(agent, "pass", [])
    inc = _lose(agent)
    assert inc.facts["phi"]["phi_files"] == 0
    assert inc.assessment["safe_harbour"] == "not_needed"
    assert "No PHI" in inc.assessment["conclusion"]


def test_stale_encryption_evidence_cannot_show_safe_harbour(agent):
    _report(agent, "pass", [_phi(1, {"name": 3})])
    old = timezone.now() - timedelta(days=40)
    PostureSnapshot.objects.filter(device_id=agent.device_id).update(checked_at=old)
    a = _lose(agent).assessment
    assert a["safe_harbour"] == "cannot_be_shown"
    assert "164.414(b)" in a["safe_harbour_text"]
    assert a["notices"] is not None


def test_never_reported_posture_cannot_show_encryption(agent):
    _report(agent, "unknown", [_phi(1, {"mrn": 5})])
    inc = _lose(agent)
    assert inc.facts["encryption"]["last_verified_encrypted_at"] is None
    assert inc.assessment["safe_harbour"] == "cannot_be_shown"


def test_encryption_turned_off_after_it_was_verified_uses_the_latest_verdict(agent):
    _report(agent, "pass", [_phi(1, {"name": 2})])
    _report(agent, "fail", [_phi(1, {"name": 2}, encrypted=False)])
    inc = _lose(agent)
    assert inc.facts["encryption"]["status"] == "fail"
    assert inc.facts["encryption"]["last_verified_encrypted_at"] is not None
    assert inc.assessment["safe_harbour"] == "does_not_apply"


def test_incident_holds_no_phi_values_and_timeline_is_ordered(agent):
    _report(agent, "pass", [_phi(1, {"name": 2})])
    inc = _lose(agent)
    times = [e["at"] for e in inc.facts["timeline"]]
    assert times == sorted(times)
    assert inc.facts["timeline"][-1]["what"] == "reported missing"
    assert any("stolen" in e["what"] for e in inc.facts["timeline"])
