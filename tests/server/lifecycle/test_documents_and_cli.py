"""The certificate of sanitization and the incident report as PDFs (read back with
pypdf), and IT's command line for the lifecycle."""

from __future__ import annotations

import io
import json

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone
from pypdf import PdfReader

from server.devices.models import Device
from server.lifecycle import documents, service
from server.lifecycle.models import Incident, Movement, SanitizationRecord

from .conftest import sanitization

pytestmark = pytest.mark.django_db


def _text(pdf: bytes) -> str:
    assert pdf.startswith(b"%PDF")
    # Lines wrap anywhere in a PDF: compare with white space folded.
    return " ".join(" ".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf)).pages).split())


def _cli(*args) -> str:
    out = io.StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


def test_certificate_pdf_carries_the_800_88_fields(device_with_phi):
    _, device = device_with_phi
    rec = service.record_sanitization(device, sanitization(property_number="PN-0042"),
                                      actor="it")
    text = _text(documents.certificate_pdf(rec, timezone.now()))
    for expected in (f"Certificate of Sanitization No. {rec.pk}", "NIST SP 800-88", "SER-7",
                     "PN-0042", "SSD (NVMe)", "Purge", "NVMe Format, crypto erase",
                     "nvme-cli 2.4", "Quick sampling", "Pass", "Sam Tech", "Vera Lead",
                     "Recycling facility", "GreenCycle ITAD", "Status: VERIFIED"):
        assert expected in text, expected


def test_unverified_certificate_says_so(device_with_phi):
    _, device = device_with_phi
    rec = service.record_sanitization(device, sanitization(verification_result="fail"),
                                      actor="it")
    assert "NOT VERIFIED" in _text(documents.certificate_pdf(rec, timezone.now()))


def test_incident_pdf_has_the_facts_and_the_draft(device_with_phi):
    _, device = device_with_phi
    service.transition(device, "stolen", actor="it", reason="car break-in",
                       circumstances="car break-in, laptop bag taken", police_report="PR-77")
    inc = Incident.objects.get(device=device)
    text = _text(documents.incident_pdf(inc, timezone.now()))
    for expected in ("Incident", "stolen", "PR-77", "SER-7", "Disk encryption at last check",
                     "pass", "Files with PHI", "/home/a/data", "safe harbour appears to apply",
                     "1. Nature and extent of the PHI", "not a legal", "Timeline"):
        assert expected in text, expected


def test_cli_retire_sanitize_dispose_and_certificate(device_with_phi, tmp_path):
    _, device = device_with_phi
    with pytest.raises(CommandError, match="allowed moves are: .*retired"):
        _cli("device", "dispose", "SER-7", "--reason", "x")
    _cli("device", "retire", "lap-7", "--reason", "end of lease")
    with pytest.raises(CommandError, match="no sanitization record"):
        _cli("device", "transition", "SER-7", "--to", "sanitized", "--reason", "x")
    out = json.loads(_cli(
        "device", "sanitize", str(device.pk), "--method", "purge", "--technique", "crypto erase",
        "--tool", "nvme-cli", "--tool-version", "2.4", "--media-type", "SSD",
        "--verification", "full", "--result", "pass", "--performed-by", "Sam",
        "--verified-by", "Vera", "--destination", "recycling", "--format", "json"))
    assert out["verified"] is True and out["state"] == "sanitized"
    out = json.loads(_cli("device", "dispose", "SER-7", "--reason", "to recycler",
                          "--custodian", "GreenCycle", "--format", "json"))
    assert (out["from"], out["to"], out["override"]) == ("sanitized", "disposed", False)
    assert Device.objects.get(pk=device.pk).lifecycle_state == "disposed"
    history = json.loads(_cli("device", "history", "SER-7", "--format", "json"))
    assert [h["to"] for h in history] == ["retired", "sanitized", "disposed"]
    pdf = tmp_path / "cert.pdf"
    _cli("device", "certificate", str(SanitizationRecord.objects.get().pk), "--out", str(pdf))
    assert "Sam" in _text(pdf.read_bytes())
    mv = Movement.objects.get(direction="out")
    assert mv.to_party == "GreenCycle" and mv.serial == "SER-7"


def test_cli_stolen_opens_an_incident_and_exports_it(device_with_phi, tmp_path):
    out = json.loads(_cli("device", "stolen", "lap-7", "--reason", "break-in",
                          "--police-report", "PR-9", "--format", "json"))
    assert out["safe_harbour"] == "appears_to_apply" and out["phi_files"] == 2
    shown = json.loads(_cli("incident", "show", str(out["incident"])))
    assert shown["police_report"] == "PR-9"
    assert shown["assessment"]["safe_harbour"] == "appears_to_apply"
    _cli("incident", "pdf", str(out["incident"]), "--out", str(tmp_path / "i.pdf"))
    assert "PR-9" in _text((tmp_path / "i.pdf").read_bytes())
    _cli("incident", "sign-off", str(out["incident"]))
    with pytest.raises(Exception, match="signed off"):
        _cli("incident", "sign-off", str(out["incident"]))


def test_cli_custody_log_receive_remove_search_csv(db, capsys):
    _cli("custody", "receive", "--description", "Dell Latitude 7440", "--serial", "DL-1",
         "--from", "Dell", "--reference", "PO-5")
    _cli("custody", "remove", "--description", "Lenovo T14", "--serial", "LN-2",
         "--to", "GreenCycle", "--reference", "manifest 88")
    rows = json.loads(_cli("custody", "list", "--search", "greencycle", "--format", "json"))
    assert [r["serial"] for r in rows] == ["LN-2"]
    rows = json.loads(_cli("custody", "list", "--direction", "in", "--format", "json"))
    assert [r["reference"] for r in rows] == ["PO-5"]
    call_command("custody", "list", "--format", "csv")
    csv_text = capsys.readouterr().out
    assert csv_text.splitlines()[0].startswith("id,at,direction,description,serial")
    assert "DL-1" in csv_text and "LN-2" in csv_text


def test_cli_unknown_device_is_a_clear_error(db):
    with pytest.raises(CommandError, match="no device with id, serial or hostname"):
        _cli("device", "retire", "nope", "--reason", "x")
