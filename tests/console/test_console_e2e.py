"""The console end to end: real server process over HTTPS, real headless Chromium."""

from __future__ import annotations

import csv
import io
import re
import subprocess
import time
from pathlib import Path

import pyotp
import pytest
from pypdf import PdfReader

from tests.console.conftest import IDLE_SECONDS, PASSWORD, SCREENSHOTS, shot
from tests.server.console.seed import SECRET_VALUE

pytestmark = pytest.mark.slow


def sign_in(page, console, username: str, next_path: str = "/console/") -> None:
    page.goto(f"{console.url}{next_path}")
    page.wait_for_url(re.compile(r"/accounts/login/"))
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    if username in console.totp:
        page.wait_for_url(re.compile(r"/accounts/login/code/"))
        totp = pyotp.TOTP(console.totp[username])
        # A code is accepted once per 30 s step; each user signs in once per session.
        page.fill("input[name=code]", totp.now())
        page.click("button[type=submit]")
    page.wait_for_url(re.compile(re.escape(next_path.split("?")[0]) + r"(\?|$)"))


def test_it_admin_flow(console, page):
    """TOTP sign-in, dashboard, filter devices, open a device, acknowledge a violation,
    and be refused the audit log (IT's role does not include it)."""
    # Password alone stops at the code page.
    page.goto(f"{console.url}/console/")
    page.fill("input[name=username]", "ita")
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(re.compile(r"/accounts/login/code/"))
    page.fill("input[name=code]", "000000" if pyotp.TOTP(console.totp["ita"]).now() != "000000"
              else "111111")
    page.click("button[type=submit]")
    assert "wrong or was already used" in page.inner_text("#signin-error")
    page.fill("input[name=code]", pyotp.TOTP(console.totp["ita"]).now())
    page.click("button[type=submit]")
    page.wait_for_url(re.compile(r"/console/$"))

    # Dashboard: figures of the seeded fleet.
    assert "4 active devices" in page.inner_text(".lede")
    row = page.locator('tr[data-control="disk_encryption"]')
    assert "164.312(a)(2)(iv)" in row.inner_text() and "50%" in row.inner_text()
    assert page.inner_text("#card-phi .big") == "1"
    assert page.locator("svg.chart").count() == 2
    assert "Automatic logoff: this session ends after" in page.inner_text("#idle-note")
    shot(page, "dashboard")

    # Devices: filter by a failing control.
    page.click("header nav >> text=Devices")
    page.wait_for_url(re.compile(r"/console/devices/"))
    assert page.inner_text("#device-count").startswith("5 devices")
    page.select_option("select[name=failing]", "disk_encryption")
    page.click("#device-filters button[type=submit]")
    page.wait_for_url(re.compile(r"failing=disk_encryption"))
    assert page.inner_text("#device-count").startswith("1 device")
    assert page.locator("#devices tbody tr").count() == 1
    page.select_option("select[name=failing]", "")
    page.click("#device-filters button[type=submit]")
    page.wait_for_url(re.compile(r"/console/devices/\?"))
    shot(page, "devices")

    # Device page.
    page.click("#devices >> text=lap-phi-02")
    page.wait_for_url(re.compile(r"/console/devices/[0-9a-f-]+/$"))
    assert page.locator("#open-findings tbody tr").count() == 2
    assert "/home/alice/Downloads/export" in page.inner_text("#open-findings")
    assert SECRET_VALUE not in page.content()
    shot(page, "device")

    # Acknowledge the critical violation from the queue.
    page.click("header nav >> text=Violations")
    vid = console.fleet["v_phi"]
    row = page.locator(f'tr[data-violation="{vid}"]')
    assert "Open" in row.inner_text()
    row.locator("button", has_text="Acknowledge").click()
    page.wait_for_load_state()
    assert f"Violation {vid} acknowledged." in page.inner_text(".messages")
    row = page.locator(f'tr[data-violation="{vid}"]')
    assert "Acknowledged" in row.inner_text() and row.locator("button").count() == 0

    # Refused: IT admins do not read the audit log of their own actions.
    resp = page.goto(f"{console.url}/console/audit/")
    assert resp.status == 403
    assert "may not see this page" in page.inner_text("#forbidden")
    assert page.locator("header nav >> text=Audit log").count() == 0
    assert page.js_errors == []


def test_compliance_exports_csv_and_pdf(console, page, tmp_path):
    sign_in(page, console, "col", "/console/reports/")
    shot(page, "reports")
    with page.expect_download() as dl:
        page.click("#posture-csv")
    path = tmp_path / dl.value.suggested_filename
    dl.value.save_as(path)
    assert path.name.startswith("phiwatch-posture-") and path.suffix == ".csv"
    rows = list(csv.reader(io.StringIO(path.read_text())))
    body = {r[1]: dict(zip(rows[0], r, strict=True)) for r in rows[1:]}
    assert body["lap-phi-02"]["disk_encryption [164.312(a)(2)(iv)]"] == "fail"
    assert body["lap-phi-02"]["failing_controls"] == "disk_encryption no_phi"
    assert len(body) == 5

    with page.expect_download() as dl:
        page.click("#posture-pdf")
    pdf = tmp_path / dl.value.suggested_filename
    dl.value.save_as(pdf)
    reader = PdfReader(str(pdf))
    text = "\n".join(p.extract_text() for p in reader.pages)
    assert "Fleet posture report as of" in text and "164.310(c)" in text
    assert "lap-phi-02" in text
    # pdftotext (poppler) reads it too: the file is a real PDF, not just pypdf-friendly.
    plain = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True,
                           text=True, check=True).stdout
    assert "Disk encryption" in plain and "164.312(a)(2)(iv)" in plain
    assert SECRET_VALUE not in text + plain + path.read_text()
    # The report as a person sees it: its first page, rendered by poppler, as an artifact.
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    subprocess.run(["pdftoppm", "-png", "-r", "70", "-f", "1", "-l", "1", "-singlefile",
                    str(pdf), str(SCREENSHOTS / "report-pdf")], check=True)

    with page.expect_download() as dl:
        page.click("#attestation-pdf")
    att = tmp_path / dl.value.suggested_filename
    dl.value.save_as(att)
    att_text = "\n".join(p.extract_text() for p in PdfReader(str(att)).pages)
    assert "No PHI on endpoints" in att_text and "PHI present" in att_text

    # The compliance officer reads the audit trail of these exports.
    page.goto(f"{console.url}/console/audit/?action=report.")
    assert "Chain verified" in page.inner_text("#chain-status")
    assert page.locator("#audit tbody tr").count() == 3
    assert page.js_errors == []


def test_auditor_is_logged_off_when_idle(console, page):
    sign_in(page, console, "aud", "/console/devices/")
    assert page.get_attribute("body", "data-idle-seconds") == str(IDLE_SECONDS)
    started = time.monotonic()
    # No activity: the page's timer leaves for the sign-in page once the server has
    # ended the session. Waiting on the event, not on a clock.
    page.wait_for_url(re.compile(r"reason=idle"), timeout=(IDLE_SECONDS + 45) * 1000)
    assert time.monotonic() - started >= IDLE_SECONDS - 1
    assert "signed out after" in page.inner_text("#signin-notice")
    # The server agrees: the old session no longer opens a page.
    resp = page.goto(f"{console.url}/console/devices/")
    assert "/accounts/login/" in page.url and resp.status == 200
    # Read-only role: no action buttons anywhere on the violations queue.
    sign_in(page, console, "aud", "/console/violations/")
    assert page.locator("#violations button").count() == 0
    assert page.js_errors == []


def test_no_phi_value_in_the_server_log(console):
    """After every page above was served, the server's own log holds no PHI value."""
    log = Path(console.server.env["PHIWATCH_SERVER_HOME"]) / "server.log"
    assert log.exists()
    assert SECRET_VALUE not in log.read_text(errors="replace")
