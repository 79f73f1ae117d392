"""Lifecycle API for IT automation, under /api/v1/lifecycle/. Bearer API key of a console
user (`phiwatch-server apikey create --user NAME`); writes need the IT admin role."""

from __future__ import annotations

import hmac
from datetime import datetime

from ninja import Router, Status
from ninja.security import HttpBearer
from pydantic import Field

from server.accounts.roles import IT_ADMIN
from server.errors import ApiError
from server.lifecycle import service
from server.lifecycle.errors import LifecycleError
from server.lifecycle.lookup import find_device, find_medium
from server.lifecycle.models import ApiKey, Incident
from server.schemas import ErrorOut, Strict


class ApiKeyBearer(HttpBearer):
    def authenticate(self, request, token: str):
        if not token or len(token) > 200:
            return None
        digest = service.key_hash(token)
        row = ApiKey.objects.select_related("user").filter(
            token_hash=digest, revoked_at__isnull=True, user__is_active=True).first()
        if row is None or not hmac.compare_digest(row.token_hash, digest):
            return None
        return row.user


router = Router(tags=["lifecycle"], auth=ApiKeyBearer())
ERRORS = {401: ErrorOut, 403: ErrorOut, 404: ErrorOut, 409: ErrorOut, 422: ErrorOut}


def _admin(user) -> bool:
    return user.is_superuser or user.groups.filter(name=IT_ADMIN).exists()


def _actor(request) -> str:
    return f"api:{request.auth.get_username()}"


def _writer(request) -> None:
    if not _admin(request.auth):
        raise ApiError(403, "lifecycle changes need the IT admin role")


def _call(fn, *args, **kw):
    try:
        return fn(*args, **kw)
    except LifecycleError as e:
        status = 404 if str(e).startswith("no ") else 409
        raise ApiError(status, str(e)) from e


class TransitionIn(Strict):
    to: str = Field(max_length=20)
    reason: str = Field(min_length=1, max_length=2000)
    custodian: str = Field("", max_length=200)
    location: str = Field("", max_length=200)
    override: str = Field("", max_length=2000)
    circumstances: str = Field("", max_length=4000)
    police_report: str = Field("", max_length=100)


class SanitizationIn(Strict):
    media_type: str = Field(max_length=50)
    method: str = Field(max_length=10)
    technique: str = Field(max_length=200)
    tool: str = Field(max_length=200)
    tool_version: str = Field(max_length=100)
    verification_method: str = Field(max_length=20)
    verification_result: str = Field(max_length=10)
    performed_by: str = Field(max_length=150)
    performed_by_title: str = Field("", max_length=150)
    performed_at: datetime
    verified_by: str = Field(max_length=150)
    verified_by_title: str = Field("", max_length=150)
    verified_at: datetime
    location: str = Field("", max_length=200)
    destination: str = Field(max_length=20)
    destination_details: str = Field("", max_length=300)
    notes: str = Field("", max_length=4000)
    property_number: str = Field("", max_length=100)


class MovementIn(Strict):
    direction: str = Field(pattern="^(in|out)$")
    description: str = Field(min_length=1, max_length=300)
    serial: str = Field("", max_length=200)
    from_party: str = Field("", max_length=200)
    to_party: str = Field("", max_length=200)
    reason: str = Field("", max_length=2000)
    reference: str = Field("", max_length=200)


def _device_out(d) -> dict:
    return {"id": str(d.pk), "hostname": d.hostname, "serial": d.hardware_serial,
            "state": d.lifecycle_state, "last_seen": d.last_seen,
            "transitions": [{"at": t.at, "from": t.from_state, "to": t.to_state,
                             "actor": t.actor, "reason": t.reason, "override": t.override}
                            for t in d.transitions.order_by("at")],
            "sightings": [{"at": s.at, "remote_addr": s.remote_addr, "hostname": s.hostname}
                          for s in d.sightings.order_by("-at")[:20]]}


@router.get("/lifecycle/devices/{ref}", response={200: dict, **ERRORS})
def device(request, ref: str):
    """A device's lifecycle state, its transitions and sightings (ref: id, serial or hostname)."""
    return _device_out(_call(find_device, ref))


@router.post("/lifecycle/devices/{ref}/transition", response={200: dict, **ERRORS})
def device_transition(request, ref: str, payload: TransitionIn):
    _writer(request)
    d = _call(find_device, ref)
    t = _call(service.transition, d, payload.to, actor=_actor(request), reason=payload.reason,
              custodian=payload.custodian, location=payload.location,
              override_justification=payload.override, may_override=True,
              circumstances=payload.circumstances, police_report=payload.police_report)
    out = {"from": t.from_state, "to": t.to_state, "override": t.override}
    if payload.to in ("lost", "stolen"):
        inc = d.incidents.order_by("-reported_at").first()
        out["incident"] = inc.pk if inc else None
    return out


@router.post("/lifecycle/devices/{ref}/sanitization", response={201: dict, **ERRORS})
def device_sanitization(request, ref: str, payload: SanitizationIn):
    _writer(request)
    d = _call(find_device, ref)
    rec = _call(service.record_sanitization, d, payload.model_dump(), actor=_actor(request))
    d.refresh_from_db()
    return Status(201, {"record": rec.pk, "verified": rec.verified, "state": d.lifecycle_state})


@router.post("/lifecycle/media/{ref}/transition", response={200: dict, **ERRORS})
def medium_transition(request, ref: str, payload: TransitionIn):
    _writer(request)
    m = _call(find_medium, ref)
    t = _call(service.transition, m, payload.to, actor=_actor(request), reason=payload.reason,
              override_justification=payload.override, may_override=True,
              circumstances=payload.circumstances)
    return {"from": t.from_state, "to": t.to_state, "override": t.override}


@router.get("/lifecycle/incidents/{incident_id}", response={200: dict, **ERRORS})
def incident(request, incident_id: int):
    """The incident's facts and breach assessment draft, as JSON for counsel."""
    inc = Incident.objects.filter(pk=incident_id).first()
    if inc is None:
        raise ApiError(404, f"no incident {incident_id}")
    from server.audit import log
    log.record(_actor(request), "lifecycle.incident.read", f"incident:{inc.pk}", {})
    return {"id": inc.pk, "kind": inc.kind, "reported_at": inc.reported_at,
            "facts": inc.facts, "assessment": inc.assessment}


@router.post("/lifecycle/movements", response={201: dict, **ERRORS})
def movement(request, payload: MovementIn):
    _writer(request)
    mv = _call(service.record_movement, actor=_actor(request), **payload.model_dump())
    return Status(201, {"id": mv.pk})
