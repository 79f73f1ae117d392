"""Lifecycle pages in the console. Reading needs the fleet view; incidents need the
findings view (they hold PHI counts); changes need the IT admin role, the same rule as
the lifecycle API (server/lifecycle/api.py)."""

from __future__ import annotations

import csv
import io
import json

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, HttpResponseForbidden
from django.shortcuts import get_object_or_404, redirect
from django.utils import timezone
from django.views.decorators.http import require_POST

from server.accounts.guard import console_view
from server.accounts.roles import IT_ADMIN, role_of
from server.audit import log
from server.console.render import page
from server.devices.models import LIFECYCLE_STATES, Device
from server.lifecycle import documents, service
from server.lifecycle.errors import LifecycleError
from server.lifecycle.models import (
    DESTINATIONS,
    METHODS,
    RESULTS,
    VERIFICATIONS,
    Incident,
    Medium,
    SanitizationRecord,
    Transition,
)
from server.lifecycle.records import MOVEMENT_COLUMNS, incident_json, movement_row, movements
from server.lifecycle.states import machine


def _can_manage(request: HttpRequest) -> bool:
    return request.user.is_superuser or role_of(request.user) == IT_ADMIN


def _actor(request: HttpRequest) -> str:
    return f"console:{request.user.get_username()}"


@console_view("view_fleet")
def overview(request: HttpRequest) -> HttpResponse:
    counts = dict.fromkeys((s for s, _ in LIFECYCLE_STATES), 0)
    for state in Device.objects.values_list("lifecycle_state", flat=True).order_by():
        counts[state] = counts.get(state, 0) + 1
    return page(request, "lifecycle/overview.html", {
        "states": [(s, label, counts.get(s, 0)) for s, label in LIFECYCLE_STATES],
        "recent": Transition.objects.select_related("device", "medium").order_by("-at")[:25],
        "overrides": Transition.objects.filter(override=True).select_related(
            "device", "medium").order_by("-at")[:25],
        "incidents": Incident.objects.select_related("device", "medium").order_by(
            "-reported_at")[:25],
    })


@console_view("view_fleet")
def device(request: HttpRequest, device_id) -> HttpResponse:
    d = get_object_or_404(Device, pk=device_id)
    m = machine()
    return page(request, "lifecycle/device.html", {
        "device": d, "can_manage": _can_manage(request),
        "targets": [(s, m.label(s)) for s in m.targets(d.lifecycle_state)],
        "transitions": d.transitions.order_by("-at"),
        "sanitizations": d.sanitizations.order_by("-performed_at"),
        "incidents": d.incidents.order_by("-reported_at"),
        "sightings": d.sightings.order_by("-at")[:50],
        "movements": d.movements.order_by("-at")[:50],
        "media": d.media_mounts.select_related("medium").order_by("-at")[:50],
        "methods": METHODS, "verifications": VERIFICATIONS, "results": RESULTS,
        "destinations": DESTINATIONS,
    })


def _asset_or_404(kind: str, pk):
    return get_object_or_404(Device, pk=pk) if kind == "device" else get_object_or_404(Medium,
                                                                                     pk=pk)


def _back(kind: str, asset):
    return redirect("lifecycle:device" if kind == "device" else "lifecycle:medium", asset.pk)


@require_POST
@console_view("view_fleet")
def change(request: HttpRequest, kind: str, pk) -> HttpResponse:
    if not _can_manage(request):
        return HttpResponseForbidden("lifecycle changes need the IT admin role")
    asset = _asset_or_404(kind, pk)
    p = request.POST
    try:
        service.transition(asset, p.get("to", ""), actor=_actor(request),
                           reason=p.get("reason", ""), custodian=p.get("custodian", ""),
                           location=p.get("location", ""),
                           override_justification=p.get("override", ""), may_override=True,
                           circumstances=p.get("circumstances", ""),
                           police_report=p.get("police_report", ""))
        messages.success(request, f"Moved to {machine().label(p.get('to', ''))}.")
    except LifecycleError as e:
        messages.error(request, str(e))
    return _back(kind, asset)


@require_POST
@console_view("view_fleet")
def sanitize(request: HttpRequest, kind: str, pk) -> HttpResponse:
    if not _can_manage(request):
        return HttpResponseForbidden("lifecycle changes need the IT admin role")
    asset = _asset_or_404(kind, pk)
    fields = {k: request.POST.get(k, "") for k in (
        "media_type", "method", "technique", "tool", "tool_version", "verification_method",
        "verification_result", "performed_by", "performed_by_title", "performed_at",
        "verified_by", "verified_by_title", "verified_at", "location", "destination",
        "destination_details", "notes", "property_number")}
    try:
        rec = service.record_sanitization(asset, fields, actor=_actor(request))
        messages.success(request, f"Sanitization record {rec.pk} saved"
                         + (" and verified." if rec.verified else ": NOT verified."))
    except LifecycleError as e:
        messages.error(request, str(e))
    return _back(kind, asset)


@console_view("view_fleet")
def certificate(request: HttpRequest, pk: int) -> HttpResponse:
    rec = get_object_or_404(SanitizationRecord, pk=pk)
    if request.GET.get("format") == "pdf":
        resp = HttpResponse(documents.certificate_pdf(rec, timezone.now()),
                            content_type="application/pdf")
        resp["Content-Disposition"] = f'attachment; filename="sanitization-{rec.pk}.pdf"'
        return resp
    return page(request, "lifecycle/certificate.html",
                {"rec": rec, "sections": documents.certificate_rows(rec)})


@console_view("view_findings")
def incident(request: HttpRequest, pk: int) -> HttpResponse:
    inc = get_object_or_404(Incident, pk=pk)
    fmt = request.GET.get("format")
    log.record(_actor(request), "lifecycle.incident.read", f"incident:{inc.pk}",
               {"as": fmt or "html"})
    if fmt == "pdf":
        resp = HttpResponse(documents.incident_pdf(inc, timezone.now()),
                            content_type="application/pdf")
        resp["Content-Disposition"] = f'attachment; filename="incident-{inc.pk}.pdf"'
        return resp
    if fmt == "json":
        resp = HttpResponse(json.dumps(incident_json(inc), indent=2, default=str),
                            content_type="application/json")
        resp["Content-Disposition"] = f'attachment; filename="incident-{inc.pk}.json"'
        return resp
    return page(request, "lifecycle/incident.html", {"inc": inc, "f": inc.facts,
                                                     "a": inc.assessment})


@console_view("view_fleet")
def media(request: HttpRequest) -> HttpResponse:
    q = request.GET.get("q", "").strip()
    qs = Medium.objects.select_related("last_device").order_by("-last_seen", "-id")
    if q:
        qs = qs.filter(serial__icontains=q) | qs.filter(vendor__icontains=q) | qs.filter(
            model__icontains=q)
    return page(request, "lifecycle/media.html", {
        "page_obj": Paginator(qs, 50).get_page(request.GET.get("page")), "q": q})


@console_view("view_fleet")
def medium(request: HttpRequest, pk: int) -> HttpResponse:
    m = get_object_or_404(Medium, pk=pk)
    mach = machine()
    return page(request, "lifecycle/medium.html", {
        "medium": m, "can_manage": _can_manage(request),
        "targets": [(s, mach.label(s)) for s in mach.targets(m.lifecycle_state, media=True)],
        "mounts": m.mounts.select_related("device").order_by("-at")[:200],
        "transitions": m.transitions.order_by("-at"),
        "sanitizations": m.sanitizations.order_by("-performed_at"),
        "incidents": m.incidents.order_by("-reported_at"),
        "methods": METHODS, "verifications": VERIFICATIONS, "results": RESULTS,
        "destinations": DESTINATIONS,
    })


@console_view("view_fleet")
def custody(request: HttpRequest) -> HttpResponse:
    q = request.GET.get("q", "").strip()
    direction = request.GET.get("direction", "")
    direction = direction if direction in ("in", "out") else ""
    qs = movements(q, direction)
    if request.GET.get("format") == "csv":
        buf = io.StringIO()
        w = csv.DictWriter(buf, fieldnames=MOVEMENT_COLUMNS)
        w.writeheader()
        for m in qs.iterator():
            w.writerow(movement_row(m))
        resp = HttpResponse(buf.getvalue(), content_type="text/csv")
        resp["Content-Disposition"] = 'attachment; filename="receipt-and-removal.csv"'
        return resp
    return page(request, "lifecycle/custody.html", {
        "page_obj": Paginator(qs, 50).get_page(request.GET.get("page")), "q": q,
        "direction": direction, "can_manage": _can_manage(request)})


@require_POST
@console_view("view_fleet")
def custody_add(request: HttpRequest) -> HttpResponse:
    if not _can_manage(request):
        return HttpResponseForbidden("recording movements needs the IT admin role")
    p = request.POST
    try:
        service.record_movement(direction=p.get("direction", ""),
                                description=p.get("description", ""), serial=p.get("serial", ""),
                                from_party=p.get("from_party", ""), to_party=p.get("to_party", ""),
                                reason=p.get("reason", ""), reference=p.get("reference", ""),
                                actor=_actor(request))
        messages.success(request, "Recorded.")
    except LifecycleError as e:
        messages.error(request, str(e))
    return redirect("lifecycle:custody")
