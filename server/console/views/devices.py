"""Device list (search, filters, sort, pages) and the device page."""

from __future__ import annotations

from urllib.parse import urlencode

from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404
from django.urls import NoReverseMatch, reverse
from django.utils.html import format_html_join

from server.accounts.audit import record
from server.accounts.guard import console_view
from server.checkins.models import Event, PostureSnapshot
from server.console import device_filters as df
from server.console.controls import BY_ID, CONTROLS, POSTURE_IDS
from server.console.errors import BadInput
from server.console.render import bad_input, page
from server.devices.models import LIFECYCLE_STATES, Device
from server.findings.models import Finding
from server.violations.models import Violation

PER_PAGE = 50
HISTORY = 30  # posture snapshots, events, past findings and violations shown per device


@console_view("view_fleet")
def device_list(request: HttpRequest) -> HttpResponse:
    try:
        dq = df.DeviceQuery.parse(request.GET)
        number = int(request.GET.get("page", "1") or 1)
    except BadInput as e:
        return bad_input(request, e)
    except ValueError:
        return bad_input(request, BadInput("page", "must be a whole number"))
    paginator = Paginator(dq.queryset(), PER_PAGE)
    page_obj = paginator.get_page(number)
    for d in page_obj.object_list:
        posture = d.posture or {}
        # Built here, not in a template loop: 50 rows x 7 checks of template nodes cost
        # more than every query on the page.
        d.dots = format_html_join("", '<span class="dot st-{}" title="{}: {}"></span>', (
            (st or "none", cid, st or "not reported")
            for cid in POSTURE_IDS
            for st in [(posture.get(cid) or {}).get("status", "")]))
    base = urlencode(dq.params)
    sort_links = {
        key: "?" + urlencode({**{k: v for k, v in dq.params.items() if k != "sort"}, "sort": key})
        for key in df.SORTS
    }
    return page(request, "console/devices.html", {
        "dq": dq, "page_obj": page_obj, "base_query": base, "sort_links": sort_links,
        "oses": df.OSES, "controls": df.control_choices(), "states": LIFECYCLE_STATES,
        "seens": df.SEEN, "posture_ids": POSTURE_IDS,
    })


def lifecycle_url(device: Device) -> str | None:
    """The lifecycle app's page for this device, when that app is installed."""
    try:
        return reverse("lifecycle:device", args=[device.pk])
    except NoReverseMatch:
        return None


@console_view("view_findings")
def device_detail(request: HttpRequest, device_id) -> HttpResponse:
    device = get_object_or_404(Device, pk=device_id)
    snapshots = list(
        PostureSnapshot.objects.filter(device=device).order_by("-checked_at")[:HISTORY]
    )
    current = snapshots[0].checks if snapshots else []
    history = [
        {"at": s.checked_at, "failing": s.failing,
         "status": [{c.get("id"): c.get("status") for c in s.checks}.get(cid, "")
                    for cid in POSTURE_IDS]}
        for s in snapshots
    ]
    open_findings = list(
        Finding.objects.filter(device=device, resolved_at__isnull=True).order_by("-opened_at")
    )
    past_findings = list(
        Finding.objects.filter(device=device, resolved_at__isnull=False)
        .order_by("-resolved_at")[:HISTORY]
    )
    events = list(Event.objects.filter(device=device).order_by("-at")[:HISTORY])
    violations = list(
        Violation.objects.filter(device=device).select_related("assignee", "acknowledged_by")
        .order_by("resolved_at", "-opened_at")[:HISTORY]
    )
    # Every view of where PHI sits on a device is itself evidence (164.312(b)).
    record(request.user, "device.findings_viewed", f"device:{device.pk}",
           {"open_findings": len(open_findings), "past_findings_shown": len(past_findings)})
    return page(request, "console/device.html", {
        "device": device,
        "checks": current,
        "history": history,
        "posture_ids": POSTURE_IDS,
        "posture_heads": [(cid, BY_ID[cid]["short"], BY_ID[cid]["label"]) for cid in POSTURE_IDS],
        "controls": CONTROLS,
        "open_findings": open_findings,
        "past_findings": past_findings,
        "events": events,
        "violations": violations,
        "lifecycle_url": lifecycle_url(device),
        "inventory": device.inventory or {},
    })


