"""The papers an auditor or counsel is handed: the certificate of sanitization (NIST SP
800-88 Rev.1 Appendix G fields) and the lost/stolen incident report, as PDF (reportlab).
The HTML versions are the templates in templates/lifecycle/."""

from __future__ import annotations

import io
from datetime import datetime
from xml.sax.saxutils import escape

from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import getSampleStyleSheet
from reportlab.lib.units import mm
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from server.lifecycle.models import Incident, SanitizationRecord

_STYLE = TableStyle([
    ("FONT", (0, 0), (-1, -1), "Helvetica", 9),
    ("FONT", (0, 0), (0, -1), "Helvetica-Bold", 9),
    ("GRID", (0, 0), (-1, -1), 0.25, colors.HexColor("#b8c2cc")),
    ("BACKGROUND", (0, 0), (0, -1), colors.HexColor("#eef2f6")),
    ("VALIGN", (0, 0), (-1, -1), "TOP"),
])


def _p(text: object, style) -> Paragraph:
    return Paragraph(escape("" if text is None else str(text)), style)


def _kv(rows: list[tuple[str, object]], styles) -> Table:
    body = [[_p(k, styles["BodyText"]), _p(v if v not in (None, "") else "-", styles["BodyText"])]
            for k, v in rows]
    t = Table(body, colWidths=[55 * mm, 120 * mm])
    t.setStyle(_STYLE)
    return t


def _build(title: str, story: list) -> bytes:
    buf = io.BytesIO()
    SimpleDocTemplate(buf, pagesize=A4, title=title, author="phiwatch",
                      leftMargin=15 * mm, rightMargin=15 * mm, topMargin=15 * mm,
                      bottomMargin=15 * mm).build(story)
    return buf.getvalue()


def certificate_rows(rec: SanitizationRecord) -> dict[str, list[tuple[str, object]]]:
    """The certificate's sections, shared by the HTML page and the PDF."""
    asset = rec.asset
    if rec.device_id:
        make, model, serial = asset.manufacturer, asset.hardware_model, asset.hardware_serial
        source = f"workstation {asset.hostname} (device {asset.pk})"
    else:
        make, model, serial = asset.vendor, asset.model, asset.serial
        source = "removable medium"
    return {
        "Media information": [
            ("Manufacturer / vendor", make), ("Model", model), ("Serial number", serial),
            ("Property number", rec.property_number), ("Media type", rec.media_type),
            ("Media source", source),
        ],
        "Sanitization details": [
            ("Method (NIST SP 800-88)", rec.get_method_display()),
            ("Technique", rec.technique), ("Tool and version", f"{rec.tool} {rec.tool_version}"),
            ("Verification method", rec.get_verification_method_display()),
            ("Verification result", rec.get_verification_result_display()),
            ("Notes", rec.notes),
        ],
        "Person performing sanitization": [
            ("Name", rec.performed_by), ("Title", rec.performed_by_title),
            ("Date", f"{rec.performed_at:%Y-%m-%d %H:%M} UTC"), ("Location", rec.location),
        ],
        "Validation": [
            ("Name", rec.verified_by), ("Title", rec.verified_by_title),
            ("Date", f"{rec.verified_at:%Y-%m-%d %H:%M} UTC"),
            ("Independent of the sanitizer", "yes" if rec.verified else "NO"),
        ],
        "Media destination": [
            ("Destination", rec.get_destination_display()),
            ("Details", rec.destination_details),
        ],
    }


def certificate_pdf(rec: SanitizationRecord, generated_at: datetime) -> bytes:
    styles = getSampleStyleSheet()
    story = [
        _p(f"Certificate of Sanitization No. {rec.pk}", styles["Title"]),
        _p("Per NIST SP 800-88 Rev.1, section 4.8 and Appendix G; supports HIPAA "
           "45 CFR 164.310(d)(2)(i)-(ii) (disposal and media re-use).", styles["Normal"]),
        Spacer(1, 4 * mm),
    ]
    for section, rows in certificate_rows(rec).items():
        story += [_p(section, styles["Heading3"]), _kv(rows, styles), Spacer(1, 3 * mm)]
    status = ("VERIFIED" if rec.verified else
              "NOT VERIFIED: not valid for disposal or re-use")
    story += [_p(f"Status: {status}. Recorded by {rec.recorded_by} on "
                 f"{rec.recorded_at:%Y-%m-%d %H:%M} UTC; generated {generated_at:%Y-%m-%d %H:%M}"
                 " UTC.", styles["Normal"])]
    return _build(f"Certificate of Sanitization {rec.pk}", story)


def incident_pdf(inc: Incident, generated_at: datetime) -> bytes:
    styles = getSampleStyleSheet()
    f, a = inc.facts, inc.assessment
    asset, enc, phi = f["asset"], f["encryption"], f["phi"]
    name = asset.get("hostname") or " ".join(
        str(asset.get(k) or "") for k in ("vendor", "model")).strip()
    story = [
        _p(f"Incident {inc.pk}: {inc.kind} {asset['type']} {name}", styles["Title"]),
        _p("Privileged and confidential: prepared for counsel. " + a["disclaimer"],
           styles["Italic"]),
        Spacer(1, 3 * mm),
        _kv([("Reported", f"{inc.reported_at:%Y-%m-%d %H:%M} UTC by {inc.reported_by}"),
             ("Circumstances", inc.circumstances), ("Police report", inc.police_report),
             ("Serial", asset.get("serial")), ("Model", asset.get("model")),
             ("Last check-in", f.get("last_checkin")),
             ("Signed off", f"{inc.signed_off_by} {inc.signed_off_at:%Y-%m-%d %H:%M}"
              if inc.signed_off_at else "not yet")], styles),
        _p("Encryption", styles["Heading3"]),
        _kv([("Disk encryption at last check", enc["status"]),
             ("Last verified encrypted", enc["last_verified_encrypted_at"] or "never"),
             ("Evidence age (days)", enc["evidence_age_days"])], styles),
        _p("PHI at last check-in (counts and kinds only)", styles["Heading3"]),
        _kv([("Files with PHI", phi["phi_files"]), ("Files with PII only", phi["pii_files"]),
             ("Individuals (estimate)", f"{phi['individuals_estimate']} ({phi['individuals_note']})"),
             ("Identifier kinds", ", ".join(f"{k} {v}" for k, v in phi["identifier_kinds"].items())),
             ("Health evidence kinds", ", ".join(f"{k} {v}" for k, v in phi["health_kinds"].items())),
             ("Data classes", ", ".join(phi["data_classes"])),
             ("On an unencrypted volume", phi["on_unencrypted_volume"]),
             ("On removable media", phi["on_removable_media"]),
             ("Folders", "; ".join(phi["folders"][:50]))], styles),
        _p("Breach risk assessment (first draft)", styles["Heading3"]),
        _p(a["safe_harbour_text"], styles["BodyText"]),
    ]
    for factor in a["factors"]:
        story.append(_p(f"{factor['factor']}: {factor['draft']}", styles["BodyText"]))
    if a.get("notices"):
        story += [_p("Notification clocks (if a breach)", styles["Heading4"]),
                  _kv([(k.replace("_", " "), v) for k, v in a["notices"].items()], styles)]
    story += [_p(f"Draft conclusion: {a['conclusion']}", styles["BodyText"]),
              _p("Timeline", styles["Heading3"]),
              _kv([(e["at"] or "-", e["what"]) for e in f["timeline"]], styles),
              Spacer(1, 3 * mm),
              _p(f"Generated {generated_at:%Y-%m-%d %H:%M} UTC by phiwatch.", styles["Normal"])]
    return _build(f"Incident {inc.pk}", story)
