"""CSV and PDF renderings of the evidence in evidence.py."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator
from datetime import datetime

from reportlab.lib import colors
from reportlab.lib.pagesizes import A4, landscape
from reportlab.lib.styles import getSampleStyleSheet
from reportlab.lib.units import mm
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from server.console.controls import BY_ID
from server.console.evidence import Attestation, PostureReport

# A PDF is for reading; past this many device rows it says so and points to the CSV,
# which always lists every device.
PDF_MAX_ROWS = 5000


def _cell(value: object) -> str:
    text = "" if value is None else str(value)
    # CSV injection (OWASP): a cell starting with = + - @ runs as a formula in Excel.
    if text[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + text
    return text


class _Echo:
    def write(self, value: str) -> str:
        return value


def csv_lines(header: list[str], rows: Iterable[list[str]],
              preamble: list[list[str]] | None = None) -> Iterator[str]:
    """CSV text, line by line, for a StreamingHttpResponse."""
    writer = csv.writer(_Echo())
    for line in preamble or []:
        yield writer.writerow([_cell(c) for c in line])
    yield writer.writerow(header)
    for row in rows:
        yield writer.writerow([_cell(c) for c in row])


_STYLE = TableStyle([
    ("FONT", (0, 0), (-1, -1), "Helvetica", 7.5),
    ("FONT", (0, 0), (-1, 0), "Helvetica-Bold", 7.5),
    ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#e8edf3")),
    ("GRID", (0, 0), (-1, -1), 0.25, colors.HexColor("#b8c2cc")),
    ("VALIGN", (0, 0), (-1, -1), "TOP"),
])


def _doc(buf: io.BytesIO, title: str) -> SimpleDocTemplate:
    return SimpleDocTemplate(buf, pagesize=landscape(A4), title=title, author="phiwatch",
                             leftMargin=12 * mm, rightMargin=12 * mm,
                             topMargin=12 * mm, bottomMargin=12 * mm)


def _table(rows: list[list[str]], widths: list[float] | None = None) -> Table:
    t = Table(rows, colWidths=widths, repeatRows=1)
    t.setStyle(_STYLE)
    return t


def posture_pdf(report: PostureReport, failing_rows: list[list[str]], truncated: bool,
                generated_by: str, generated_at: datetime) -> bytes:
    styles = getSampleStyleSheet()
    buf = io.BytesIO()
    title = f"Fleet posture report as of {report.as_of:%Y-%m-%d}"
    story = [
        Paragraph(title, styles["Title"]),
        Paragraph(f"HIPAA Security Rule (45 CFR Part 164) workstation safeguards. "
                  f"{report.devices} devices enrolled by that date; {report.no_posture} "
                  f"had reported no posture by then. Generated {generated_at:%Y-%m-%d %H:%M} "
                  f"UTC by {generated_by}.", styles["Normal"]),
        Spacer(1, 4 * mm),
    ]
    rows = [["Control", "HIPAA section", "Standard", "Passing", "Failing",
             "Unknown / not reported", "Share passing"]]
    for cid, n in report.summary.items():
        c = BY_ID[cid]
        total = n["pass"] + n["fail"] + n["other"]
        share = f"{n['pass'] / total:.1%}" if total else "n/a"
        rows.append([c["label"], c["hipaa"], c["rule"], str(n["pass"]), str(n["fail"]),
                     str(n["other"]), share])
    story += [_table(rows), Spacer(1, 5 * mm),
              Paragraph(f"Devices failing a control ({len(failing_rows)}"
                        f"{'+, first ' + str(PDF_MAX_ROWS) + ' shown; the CSV lists all' if truncated else ''})",
                        styles["Heading2"])]
    if failing_rows:
        story.append(_table([["Hostname", "Serial", "OS", "Lifecycle", "Posture as of",
                              "Failing controls", "PHI files"], *failing_rows]))
    else:
        story.append(Paragraph("None.", styles["Normal"]))
    _doc(buf, title).build(story)
    return buf.getvalue()


def attestation_pdf(att: Attestation, device_rows: list[list[str]], truncated: bool,
                    engagement: str, generated_by: str, generated_at: datetime) -> bytes:
    styles = getSampleStyleSheet()
    buf = io.BytesIO()
    title = f"No PHI on endpoints: attestation as of {att.as_of:%Y-%m-%d}"
    verdict = ("No enrolled device held PHI at its last complete scan."
               if att.phi == 0 and att.unscanned == 0 else
               f"Exceptions: {att.phi} device(s) held PHI and {att.unscanned} had no complete "
               f"scan by that date; they are listed below with status other than 'clean'.")
    story = [
        Paragraph(title, styles["Title"]),
        Paragraph(f"Engagement: {engagement or 'all engagements'}. Business Associate "
                  f"Agreement return-or-destroy obligation (45 CFR 164.504(e)(2)(ii)(J)). "
                  f"{att.devices} devices; {att.clean} clean, {att.phi} holding PHI, "
                  f"{att.unscanned} without a complete scan.", styles["Normal"]),
        Spacer(1, 2 * mm),
        Paragraph(verdict, styles["Heading3"]),
        Paragraph(f"Generated {generated_at:%Y-%m-%d %H:%M} UTC by {generated_by}. "
                  f"Counts and times only: phiwatch never stores a file's contents.",
                  styles["Normal"]),
        Spacer(1, 4 * mm),
        _table([["Hostname", "Serial", "OS", "Lifecycle", "Last complete scan",
                 "Last clean scan", "PHI files", "Status"], *device_rows]),
    ]
    if truncated:
        story.append(Paragraph(f"First {PDF_MAX_ROWS} devices shown; the CSV lists every "
                               f"device.", styles["Normal"]))
    _doc(buf, title).build(story)
    return buf.getvalue()
