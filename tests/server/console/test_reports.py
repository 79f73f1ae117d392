"""Fleet posture report and PHI attestation: CSV and PDF content, dates, audit."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

from django.utils import timezone
from pypdf import PdfReader

from server.audit.models import AuditEntry
from server.findings.models import Finding
from tests.server.console.seed import SECRET_VALUE


def csv_rows(response) -> list[list[str]]:
    text = b"".join(response.streaming_content).decode()
    return list(csv.reader(io.StringIO(text)))


def pdf_text(response) -> str:
    return "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(response.content)).pages)


def test_posture_csv_today(fleet, officer):
    today = timezone.now().date()
    r = officer.get(f"/console/reports/posture.csv?date={today}")
    assert r.status_code == 200 and r["Content-Type"].startswith("text/csv")
    assert f'filename="phiwatch-posture-{today}.csv"' in r["Content-Disposition"]
    rows = csv_rows(r)
    header, body = rows[0], {row[1]: dict(zip(rows[0], row, strict=True)) for row in rows[1:]}
    assert "disk_encryption [164.312(a)(2)(iv)]" in header
    assert "screen_lock [164.310(c)]" in header and "phi_files [164.310(d)(1)]" in header
    assert set(body) == {"lap-ok-01", "lap-phi-02", "lap-silent-03", "lap-lost-04",
                         "lap-new-05"}
    phi = body["lap-phi-02"]
    assert phi["disk_encryption [164.312(a)(2)(iv)]"] == "fail"
    assert phi["phi_files [164.310(d)(1)]"] == "2"
    assert phi["failing_controls"] == "disk_encryption no_phi"
    assert body["lap-ok-01"]["failing_controls"] == ""
    assert body["lap-new-05"]["posture_checked_at"] == "never"
    assert body["lap-silent-03"]["auto_logoff [164.312(a)(2)(iii)]"] == "unknown"
    assert SECRET_VALUE not in "".join(",".join(r) for r in rows)
    e = AuditEntry.objects.get(action="report.export")
    assert e.details == {"as_of": str(today), "format": "csv"}


def test_posture_as_of_a_past_date_uses_the_history_then(fleet, officer):
    # 20 days ago: only lost (seen 31 days ago) had reported posture; PHI appeared later.
    day = timezone.now().date() - timedelta(days=20)
    rows = csv_rows(officer.get(f"/console/reports/posture.csv?date={day}"))
    body = {row[1]: row for row in rows[1:]}
    assert body["lap-lost-04"][6] != "never"
    assert body["lap-ok-01"][6] == "never" and body["lap-phi-02"][-2] == "0"


def test_posture_pdf_reads_back(fleet, officer):
    today = timezone.now().date()
    r = officer.get(f"/console/reports/posture.pdf?date={today}")
    assert r.status_code == 200 and r["Content-Type"] == "application/pdf"
    text = pdf_text(r)
    assert f"Fleet posture report as of {today}" in text
    assert "164.312(a)(2)(iv)" in text and "Automatic logoff" in text
    assert "lap-phi-02" in text and "disk_encryption no_phi" in text
    assert "5 devices enrolled by that date" in text
    assert SECRET_VALUE not in text


def test_attestation_csv_and_pdf(fleet, officer):
    today = timezone.now().date()
    r = officer.get(f"/console/reports/attestation.csv?date={today}&engagement=Acme%20sepsis")
    rows = csv_rows(r)
    assert rows[0][0] == "# No PHI on endpoints attestation" and rows[0][2] == "engagement: Acme sepsis"
    header = rows[1]
    body = {row[1]: dict(zip(header, row, strict=True)) for row in rows[2:]}
    assert body["lap-ok-01"]["status"] == "clean"
    assert body["lap-ok-01"]["last_clean_scan"] == body["lap-ok-01"]["last_complete_scan"] != "never"
    assert body["lap-phi-02"]["status"] == "PHI present" and body["lap-phi-02"]["phi_files"] == "2"
    assert body["lap-new-05"]["status"] == "no complete scan"
    pdf = officer.get(f"/console/reports/attestation.pdf?date={today}&engagement=Acme%20sepsis")
    text = pdf_text(pdf)
    assert "No PHI on endpoints: attestation as of" in text and "Acme sepsis" in text
    assert "1 holding PHI" in text and "Exceptions:" in text
    assert [e.details["format"] for e in AuditEntry.objects.filter(
        action="report.export", target="report:attestation").order_by("id")] == ["csv", "pdf"]


def test_attestation_clean_after_phi_removed(fleet, officer):
    Finding.objects.filter(device=fleet["phi"]).update(resolved_at=timezone.now(),
                                                       resolved_reason="deleted")
    rows = csv_rows(officer.get("/console/reports/attestation.csv"))
    body = {row[1]: row for row in rows[2:]}
    assert body["lap-phi-02"][-1] == "clean"


def test_bad_dates_are_named(fleet, officer):
    future = timezone.now().date() + timedelta(days=2)
    r = officer.get(f"/console/reports/posture.csv?date={future}")
    assert r.status_code == 400 and b"date: cannot report on a future date" in r.content
    r = officer.get("/console/reports/attestation.pdf?date=28/11/2026")
    assert r.status_code == 400 and b"date: " in r.content
    assert not AuditEntry.objects.filter(action="report.export").exists()


def test_csv_cells_cannot_run_as_formulas(fleet, officer):
    from tests.server.console.seed import make_device

    make_device("=HYPERLINK(1)")
    rows = csv_rows(officer.get("/console/reports/posture.csv"))
    assert "'=HYPERLINK(1)" in [r[1] for r in rows]


def test_todays_report_from_latest_state_matches_history(fleet):
    """Today's report reads the device rows' latest state; any other day reads history.
    For today both must give the same rows and summary."""
    from server.console import evidence

    today = timezone.now().date()
    fast, slow = evidence.PostureReport(today), evidence.PostureReport(today)
    from_latest = list(evidence.posture_rows(today, fast))
    from_history = list(evidence.posture_rows(today, slow, today=today + timedelta(days=1)))
    assert from_latest == from_history and len(from_latest) == 5
    assert fast.summary == slow.summary and fast.no_posture == slow.no_posture == 1
