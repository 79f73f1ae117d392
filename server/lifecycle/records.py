"""Lifecycle records as the command line, the console and the API hand them out."""

from __future__ import annotations

from django.db.models import Q

from server.lifecycle.models import Incident, Movement

MOVEMENT_COLUMNS = ["id", "at", "direction", "description", "serial", "from_party",
                    "to_party", "reason", "reference", "recorded_by"]


def movements(q: str = "", direction: str = ""):
    qs = Movement.objects.order_by("-at", "-id")
    if direction:
        qs = qs.filter(direction=direction)
    if q:
        qs = qs.filter(Q(serial__icontains=q) | Q(description__icontains=q) |
                       Q(from_party__icontains=q) | Q(to_party__icontains=q) |
                       Q(reference__icontains=q))
    return qs


def movement_row(m: Movement) -> dict:
    return {c: getattr(m, c) for c in MOVEMENT_COLUMNS}


def incident_json(inc: Incident) -> dict:
    return {"id": inc.pk, "kind": inc.kind, "reported_at": inc.reported_at,
            "reported_by": inc.reported_by, "circumstances": inc.circumstances,
            "police_report": inc.police_report, "signed_off_by": inc.signed_off_by,
            "signed_off_at": inc.signed_off_at, "facts": inc.facts,
            "assessment": inc.assessment}
