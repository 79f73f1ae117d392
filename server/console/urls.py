from __future__ import annotations

from django.urls import path

from server.console.views import audit, dashboard, devices, reports, violations

app_name = "console"

urlpatterns = [
    path("", dashboard.dashboard, name="dashboard"),
    path("devices/", devices.device_list, name="devices"),
    path("devices/<uuid:device_id>/", devices.device_detail, name="device"),
    path("violations/", violations.queue, name="violations"),
    path("violations/<int:pk>/", violations.violation_detail, name="violation"),
    path("violations/<int:pk>/acknowledge", violations.acknowledge, name="acknowledge"),
    path("violations/<int:pk>/assign", violations.assign, name="assign"),
    path("violations/<int:pk>/exception", violations.grant_exception, name="exception"),
    path("reports/", reports.reports, name="reports"),
    path("reports/posture.csv", reports.posture_csv, name="posture_csv"),
    path("reports/posture.pdf", reports.posture_pdf, name="posture_pdf"),
    path("reports/attestation.csv", reports.attestation_csv, name="attestation_csv"),
    path("reports/attestation.pdf", reports.attestation_pdf, name="attestation_pdf"),
    path("audit/", audit.audit_log, name="audit"),
]
