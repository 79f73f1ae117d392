"""Violations queue and the three actions: acknowledge, assign, time-limited exception.

Each action is a conditional UPDATE (the WHERE names the state it expects), so two
people acting at once cannot both win, and each success writes one audit entry.
"""

from __future__ import annotations

from datetime import datetime, time
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.core.paginator import Paginator
from django.db import transaction
from django.db.models import Case, IntegerField, Q, Value, When
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from server.accounts.audit import record
from server.accounts.guard import console_view
from server.console.controls import SEVERITIES
from server.console.errors import BadInput
from server.console.forms import AssignForm, ExceptionForm
from server.console.render import bad_input, page
from server.violations.models import STATUSES, Violation
from server.violations.rules import rules as violation_rules

PER_PAGE = 50
STATUS_FILTERS = {"live": ["open", "acknowledged"], **{s: [s] for s, _ in STATUSES}, "all": []}
SEVERITY_ORDER = Case(*[When(severity=s, then=Value(i)) for i, s in enumerate(SEVERITIES)],
                      default=Value(len(SEVERITIES)), output_field=IntegerField())


def triagers():
    """Active users who may be assigned a violation (their role may triage)."""
    p = Permission.objects.filter(content_type__app_label="accounts", codename="triage_violations")
    return (get_user_model().objects.filter(is_active=True)
            .filter(Q(groups__permissions__in=p) | Q(is_superuser=True))
            .distinct().order_by("username"))


@console_view("view_fleet")
def queue(request: HttpRequest) -> HttpResponse:
    g = request.GET
    params = {k: g.get(k, "").strip() for k in ("status", "severity", "rule", "assignee", "q")}
    params["status"] = params["status"] or "live"
    try:
        if params["status"] not in STATUS_FILTERS:
            raise BadInput("status", f"use one of {', '.join(STATUS_FILTERS)}")
        if params["severity"] and params["severity"] not in SEVERITIES:
            raise BadInput("severity", f"use one of {', '.join(SEVERITIES)}")
        number = int(g.get("page", "1") or 1)
    except BadInput as e:
        return bad_input(request, e)
    except ValueError:
        return bad_input(request, BadInput("page", "must be a whole number"))
    qs = Violation.objects.select_related("device", "assignee", "acknowledged_by")
    if STATUS_FILTERS[params["status"]]:
        qs = qs.filter(status__in=STATUS_FILTERS[params["status"]])
    if params["severity"]:
        qs = qs.filter(severity=params["severity"])
    if params["rule"]:
        qs = qs.filter(rule=params["rule"])
    if params["assignee"] == "me":
        qs = qs.filter(assignee=request.user)
    elif params["assignee"] == "none":
        qs = qs.filter(assignee__isnull=True)
    elif params["assignee"]:
        qs = qs.filter(assignee__username=params["assignee"])
    if params["q"]:
        qs = qs.filter(device__hostname__icontains=params["q"])
    qs = qs.annotate(sev=SEVERITY_ORDER).order_by("sev", "-opened_at", "-id")
    page_obj = Paginator(qs, PER_PAGE).get_page(number)
    # The rule list comes from rules/violations.yaml, not a DISTINCT over every violation.
    rules = [(r.id, r.title) for r in violation_rules()]
    return page(request, "console/violations.html", {
        "params": params, "page_obj": page_obj,
        "base_query": urlencode({k: v for k, v in params.items() if v}),
        "statuses": list(STATUS_FILTERS), "severities": SEVERITIES, "rules": rules,
    })


@console_view("view_fleet")
def violation_detail(request: HttpRequest, pk: int) -> HttpResponse:
    v = get_object_or_404(Violation.objects.select_related("device", "assignee",
                                                           "acknowledged_by"), pk=pk)
    return page(request, "console/violation.html", {
        "v": v, "assign_form": AssignForm(initial={"assignee": v.assignee.username
                                                    if v.assignee else ""}),
        "exception_form": ExceptionForm(), "triagers": triagers(),
    })


def _back(v: Violation) -> HttpResponseRedirect:
    return HttpResponseRedirect(reverse("console:violation", args=[v.pk]))


@require_POST
@console_view("triage_violations")
def acknowledge(request: HttpRequest, pk: int) -> HttpResponse:
    v = get_object_or_404(Violation, pk=pk)
    now = timezone.now()
    changed = Violation.objects.filter(pk=pk, status="open", resolved_at__isnull=True).update(
        status="acknowledged", acknowledged_by=request.user, acknowledged_at=now)
    if changed:
        record(request.user, "violation.acknowledge", f"violation:{pk}",
               {"device": str(v.device_id), "rule": v.rule})
        messages.success(request, f"Violation {pk} acknowledged.")
    else:
        messages.error(request, f"Violation {pk} is not open (it is {v.status}); nothing changed.")
    nxt = request.POST.get("next", "")
    if nxt.startswith("/") and not nxt.startswith("//"):
        return HttpResponseRedirect(nxt)
    return _back(v)


@require_POST
@console_view("triage_violations")
def assign(request: HttpRequest, pk: int) -> HttpResponse:
    v = get_object_or_404(Violation, pk=pk)
    form = AssignForm(request.POST)
    username = form.data.get("assignee", "").strip() if form.is_valid() else None
    assignee = None
    if username:
        assignee = triagers().filter(username=username).first()
        if assignee is None:
            messages.error(request, f"assignee: no active user {username!r} who may triage.")
            return _back(v)
    changed = Violation.objects.filter(pk=pk, resolved_at__isnull=True).update(assignee=assignee)
    if changed:
        record(request.user, "violation.assign", f"violation:{pk}",
               {"device": str(v.device_id), "rule": v.rule,
                "assignee": assignee.username if assignee else None})
        messages.success(request, f"Violation {pk} assigned to {username or 'nobody'}.")
    else:
        messages.error(request, f"Violation {pk} is resolved; nothing changed.")
    return _back(v)


@require_POST
@console_view("grant_exception")
def grant_exception(request: HttpRequest, pk: int) -> HttpResponse:
    v = get_object_or_404(Violation.objects.select_related("device"), pk=pk)
    form = ExceptionForm(request.POST)
    if not form.is_valid():
        return page(request, "console/violation.html", {
            "v": v, "assign_form": AssignForm(), "exception_form": form,
            "triagers": triagers(),
        }, status=400)
    until = timezone.make_aware(datetime.combine(form.cleaned_data["until"], time.max))
    with transaction.atomic():
        changed = Violation.objects.filter(
            pk=pk, resolved_at__isnull=True, status__in=["open", "acknowledged", "excepted"]
        ).update(status="excepted", exception_until=until,
                 exception_justification=form.cleaned_data["justification"])
        if changed:
            record(request.user, "violation.exception", f"violation:{pk}",
                   {"device": str(v.device_id), "rule": v.rule, "until": until.isoformat(),
                    "justification": form.cleaned_data["justification"]})
    if changed:
        messages.success(request, f"Exception granted until {until:%Y-%m-%d}.")
    else:
        messages.error(request, f"Violation {pk} is resolved; nothing changed.")
    return _back(v)
