"""Reports page and its four exports (posture / attestation, CSV / PDF); each audited."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.utils import timezone

from server.accounts.audit import actor_of, record
from server.accounts.guard import console_view
from server.console import evidence, exports
from server.console.errors import BadInput
from server.console.forms import ReportForm
from server.console.render import bad_input, page


def _as_of(request: HttpRequest):
    form = ReportForm(request.GET or {"date": timezone.now().date().isoformat()})
    if not form.is_valid():
        msg = "; ".join(form.errors.get("date", ["use YYYY-MM-DD"]))
        raise BadInput("date", msg)
    return form.cleaned_data["date"]


@console_view("export_reports")
def reports(request: HttpRequest) -> HttpResponse:
    form = ReportForm(request.GET or {"date": timezone.now().date().isoformat()})
    as_of = form.cleaned_data["date"] if form.is_valid() else timezone.now().date()
    return page(request, "console/reports.html", {"form": form, "as_of": as_of,
                                                  "engagement": request.GET.get("engagement", "")})


def _filename(kind: str, as_of, ext: str) -> str:
    return f"phiwatch-{kind}-{as_of:%Y-%m-%d}.{ext}"


@console_view("export_reports")
def posture_csv(request: HttpRequest) -> HttpResponse:
    try:
        as_of = _as_of(request)
    except BadInput as e:
        return bad_input(request, e)
    record(request.user, "report.export", "report:posture", {"as_of": str(as_of),
                                                             "format": "csv"})
    resp = StreamingHttpResponse(
        exports.csv_lines(evidence.POSTURE_COLUMNS, evidence.posture_rows(as_of)),
        content_type="text/csv; charset=utf-8")
    resp["Content-Disposition"] = f'attachment; filename="{_filename("posture", as_of, "csv")}"'
    return resp


@console_view("export_reports")
def posture_pdf(request: HttpRequest) -> HttpResponse:
    try:
        as_of = _as_of(request)
    except BadInput as e:
        return bad_input(request, e)
    report = evidence.PostureReport(as_of)
    failing: list[list[str]] = []
    truncated = False
    for row in evidence.posture_rows(as_of, report):
        if row[-1]:
            if len(failing) < exports.PDF_MAX_ROWS:
                failing.append([row[1], row[2], row[3], row[5], row[6][:16].replace("T", " "),
                                row[-1], row[-2]])
            else:
                truncated = True
    pdf = exports.posture_pdf(report, failing, truncated, actor_of(request.user),
                              timezone.now())
    record(request.user, "report.export", "report:posture", {"as_of": str(as_of),
                                                             "format": "pdf"})
    resp = HttpResponse(pdf, content_type="application/pdf")
    resp["Content-Disposition"] = f'attachment; filename="{_filename("posture", as_of, "pdf")}"'
    return resp


@console_view("export_reports")
def attestation_csv(request: HttpRequest) -> HttpResponse:
    try:
        as_of = _as_of(request)
    except BadInput as e:
        return bad_input(request, e)
    engagement = request.GET.get("engagement", "")[:200]
    record(request.user, "report.export", "report:attestation",
           {"as_of": str(as_of), "format": "csv", "engagement": engagement})
    preamble = [["# No PHI on endpoints attestation", f"as of {as_of}",
                 f"engagement: {engagement or 'all'}"]]
    resp = StreamingHttpResponse(
        exports.csv_lines(evidence.ATTESTATION_COLUMNS, evidence.attestation_rows(as_of),
                          preamble),
        content_type="text/csv; charset=utf-8")
    resp["Content-Disposition"] = (
        f'attachment; filename="{_filename("attestation", as_of, "csv")}"')
    return resp


@console_view("export_reports")
def attestation_pdf(request: HttpRequest) -> HttpResponse:
    try:
        as_of = _as_of(request)
    except BadInput as e:
        return bad_input(request, e)
    engagement = request.GET.get("engagement", "")[:200]
    att = evidence.Attestation(as_of)
    rows: list[list[str]] = []
    truncated = False
    for r in evidence.attestation_rows(as_of, att):
        if len(rows) < exports.PDF_MAX_ROWS:
            rows.append([r[1], r[2], r[3], r[4], r[5][:16].replace("T", " "),
                         r[6][:16].replace("T", " "), r[7], r[8]])
        else:
            truncated = True
    pdf = exports.attestation_pdf(att, rows, truncated, engagement, actor_of(request.user),
                                  timezone.now())
    record(request.user, "report.export", "report:attestation",
           {"as_of": str(as_of), "format": "pdf", "engagement": engagement})
    resp = HttpResponse(pdf, content_type="application/pdf")
    resp["Content-Disposition"] = (
        f'attachment; filename="{_filename("attestation", as_of, "pdf")}"')
    return resp
