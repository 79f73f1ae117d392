"""Lifecycle operations shared by the CLI, the API and the console. Each one runs in a
transaction, writes its evidence row(s) and an audit entry, and raises LifecycleError with
a reason a person can act on."""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from server.audit import log
from server.devices.models import GONE_STATES, Device
from server.lifecycle import incident as incident_facts
from server.lifecycle.errors import LifecycleError, TransitionRefused
from server.lifecycle.guards import GUARDS
from server.lifecycle.models import (
    DESTINATIONS,
    METHODS,
    RESULTS,
    VERIFICATIONS,
    ApiKey,
    Incident,
    Medium,
    MediumMount,
    Movement,
    SanitizationRecord,
    Sighting,
    Transition,
)
from server.lifecycle.states import machine
from server.violations import engine

MIN_JUSTIFICATION = 20  # characters: "ok" is not a justification


def _target(asset) -> str:
    return f"device:{asset.pk}" if isinstance(asset, Device) else f"medium:{asset.pk}"


def _describe(asset) -> tuple[str, str]:
    if isinstance(asset, Device):
        name = " ".join(p for p in (asset.manufacturer, asset.hardware_model) if p) or "device"
        return f"{name} {asset.hostname}".strip(), asset.hardware_serial
    return str(asset), asset.serial


def transition(asset, to_state: str, *, actor: str, reason: str, custodian: str = "",
               location: str = "", override_justification: str = "", may_override: bool = False,
               circumstances: str = "", police_report: str = "") -> Transition:
    """Move a device or medium to ``to_state``, enforcing rules/lifecycle.yaml."""
    if not reason or not reason.strip():
        raise LifecycleError("a reason is required for every lifecycle change")
    m = machine()
    is_device = isinstance(asset, Device)
    if not is_device and to_state not in m.media_states:
        raise LifecycleError(f"removable media have no state {to_state!r}; "
                             f"use one of {', '.join(m.media_states)}")
    model = type(asset)
    caller = asset
    with transaction.atomic():
        # Lock the asset row: two people moving the same laptop at once must not both
        # pass the guard against the same old state.
        asset = model.objects.select_for_update().get(pk=asset.pk)
        current = asset.lifecycle_state
        move = m.move(current, to_state)
        if move is None:
            allowed = ", ".join(m.targets(current, media=not is_device)) or "none"
            raise TransitionRefused(f"cannot move from {current} to {to_state}; from {current} "
                                    f"the allowed moves are: {allowed}")
        failed = [msg for g in move.requires if (msg := GUARDS[g](asset))]
        override = False
        if failed:
            justification = (override_justification or "").strip()
            if not justification:
                raise TransitionRefused(f"cannot mark {to_state}: {'; '.join(failed)} "
                                        "(an IT admin may override with a written justification)")
            if not may_override:
                raise TransitionRefused(f"cannot mark {to_state}: {'; '.join(failed)}; only an "
                                        "IT admin may override")
            if len(justification) < MIN_JUSTIFICATION:
                raise TransitionRefused(f"the override justification must say why, in at least "
                                        f"{MIN_JUSTIFICATION} characters")
            override = True
        row = Transition.objects.create(
            device=asset if is_device else None, medium=None if is_device else asset,
            from_state=current, to_state=to_state, actor=actor, reason=reason.strip(),
            custodian=custodian, location=location, override=override,
            override_justification=override_justification.strip() if override else "",
        )
        model.objects.filter(pk=asset.pk).update(lifecycle_state=to_state)
        asset.lifecycle_state = caller.lifecycle_state = to_state
        if move.movement:
            description, serial = _describe(asset)
            Movement.objects.create(
                direction=move.movement, device=asset if is_device else None,
                medium=None if is_device else asset, description=description[:300],
                serial=serial, from_party=custodian if move.movement == "in" else "",
                to_party=custodian if move.movement == "out" else "",
                reason=f"{current} -> {to_state}: {reason.strip()}", at=timezone.now(),
                recorded_by=actor,
            )
        opened = None
        if move.incident:
            opened = open_incident(asset, to_state, actor=actor,
                                   circumstances=circumstances or reason,
                                   police_report=police_report)
        log.record(actor, "lifecycle.transition", _target(asset), {
            "from": current, "to": to_state, "override": override,
            "failed_guards": list(move.requires) if override else [],
            "incident": opened.pk if opened else None,
        })
    if is_device:
        # A lost device found again, or a disposed one retired properly: the violation
        # engine re-reads the state (e.g. resolves "gone device checked in").
        engine.reevaluate(asset.pk)
    return row


def open_incident(asset, kind: str, *, actor: str, circumstances: str,
                  police_report: str = "") -> Incident:
    now = timezone.now()
    if isinstance(asset, Device):
        facts = incident_facts.device_facts(asset, now)
    else:
        facts = incident_facts.medium_facts(asset, now)
    inc = Incident.objects.create(
        device=asset if isinstance(asset, Device) else None,
        medium=None if isinstance(asset, Device) else asset,
        kind=kind, reported_by=actor, circumstances=circumstances, police_report=police_report,
        facts=facts, assessment=incident_facts.assess(facts, kind, now),
    )
    log.record(actor, "lifecycle.incident.open", _target(asset), {
        "incident": inc.pk, "kind": kind, "phi_files": facts["phi"]["phi_files"],
        "safe_harbour": inc.assessment["safe_harbour"]})
    return inc


def sign_off(inc: Incident, actor: str) -> Incident:
    with transaction.atomic():
        inc = Incident.objects.select_for_update().get(pk=inc.pk)
        if inc.signed_off_at:
            raise LifecycleError(f"incident {inc.pk} was signed off by {inc.signed_off_by}")
        inc.signed_off_by, inc.signed_off_at = actor, timezone.now()
        inc.save(update_fields=["signed_off_by", "signed_off_at"])
        log.record(actor, "lifecycle.incident.sign_off", f"incident:{inc.pk}", {})
    return inc


SANITIZATION_REQUIRED = ("media_type", "method", "technique", "tool", "tool_version",
                         "verification_method", "verification_result", "performed_by",
                         "performed_at", "verified_by", "verified_at", "destination")
_CHOICES = {"method": METHODS, "verification_method": VERIFICATIONS,
            "verification_result": RESULTS, "destination": DESTINATIONS}


def _when(value: Any, field: str) -> datetime:
    if isinstance(value, datetime):
        return value
    parsed = parse_datetime(str(value)) if value else None
    if parsed is None:
        try:
            parsed = datetime.fromisoformat(str(value))
        except ValueError:
            raise LifecycleError(f"{field}: not a date/time: use ISO 8601, "
                                 "e.g. 2026-11-28T10:00") from None
    if timezone.is_naive(parsed):
        parsed = timezone.make_aware(parsed)
    return parsed


def record_sanitization(asset, fields: dict[str, Any], *, actor: str,
                        advance: bool = True) -> SanitizationRecord:
    """Add a NIST SP 800-88 record; a verified record moves a retired asset to sanitized."""
    data = {k: v for k, v in fields.items() if v not in (None, "")}
    missing = [f for f in SANITIZATION_REQUIRED if f not in data]
    if missing:
        raise LifecycleError(f"sanitization record incomplete: {', '.join(missing)} required")
    for field, choices in _CHOICES.items():
        if data[field] not in {c for c, _ in choices}:
            raise LifecycleError(f"{field}: {data[field]!r} is not one of "
                                 f"{', '.join(c for c, _ in choices)}")
    for field in ("performed_at", "verified_at"):
        data[field] = _when(data[field], field)
    if data["verified_at"] < data["performed_at"]:
        raise LifecycleError("verified_at: verification cannot come before sanitization")
    if data["performed_at"] > timezone.now():
        raise LifecycleError("performed_at: in the future")
    allowed = {f.name for f in SanitizationRecord._meta.get_fields()}
    unknown = set(data) - allowed
    if unknown:
        raise LifecycleError(f"unknown sanitization field(s): {', '.join(sorted(unknown))}")
    is_device = isinstance(asset, Device)
    with transaction.atomic():
        rec = SanitizationRecord.objects.create(
            device=asset if is_device else None, medium=None if is_device else asset,
            recorded_by=actor, **data)
        log.record(actor, "lifecycle.sanitization", _target(asset), {
            "record": rec.pk, "method": rec.method, "verified": rec.verified})
    fresh = type(asset).objects.get(pk=asset.pk)
    # Advance only when the guard will pass (a record older than the last check-in is kept
    # as evidence but does not sanitize the device).
    if (advance and rec.verified and fresh.lifecycle_state == "retired"
            and GUARDS["verified_sanitization"](fresh) is None):
        transition(asset, "sanitized", actor=actor,
                   reason=f"verified sanitization record {rec.pk} ({rec.method})")
    return rec


def record_movement(*, direction: str, description: str, actor: str, serial: str = "",
                    from_party: str = "", to_party: str = "", reason: str = "",
                    reference: str = "", at: Any = None, device: Device | None = None,
                    medium: Medium | None = None) -> Movement:
    if direction not in ("in", "out"):
        raise LifecycleError("direction: 'in' (received) or 'out' (removed)")
    if not description.strip():
        raise LifecycleError("description: say what came in or left (make, model)")
    mv = Movement.objects.create(
        direction=direction, description=description[:300], serial=serial,
        from_party=from_party, to_party=to_party, reason=reason, reference=reference,
        at=_when(at, "at") if at else timezone.now(), recorded_by=actor,
        device=device, medium=medium)
    log.record(actor, "lifecycle.movement", f"movement:{mv.pk}",
               {"direction": direction, "serial": serial})
    return mv


# --- what agents report ------------------------------------------------------------------

def _medium_for(data: dict) -> Medium | None:
    vendor = str(data.get("vendor") or "")[:200]
    model = str(data.get("model") or "")[:200]
    serial = str(data.get("serial") or "")[:200]
    if not (vendor or model or serial):
        return None  # nothing to tell one stick from another
    medium, _ = Medium.objects.get_or_create(vendor=vendor, model=model, serial=serial)
    return medium


def after_checkin(device: Device, payload, remote_addr: str = "") -> None:
    """Called by the check-in API after a report was stored: media seen, and sightings of
    a device that should not be checking in."""
    for e in payload.events or []:
        if e.type != "media_mounted" or not isinstance(e.data, dict):
            continue
        medium = _medium_for(e.data)
        if medium is None:
            continue
        encrypted = e.data.get("encrypted")
        encrypted = encrypted if isinstance(encrypted, bool) else None
        size = e.data.get("size")
        _, created = MediumMount.objects.get_or_create(
            device=device, event_id=e.event_id,
            defaults={"medium": medium, "at": e.at, "mount": str(e.data.get("mount") or ""),
                      "encrypted": encrypted})
        if created and (medium.last_seen is None or e.at >= medium.last_seen):
            Medium.objects.filter(pk=medium.pk).update(
                last_seen=e.at, last_device=device, last_encrypted=encrypted,
                size=size if isinstance(size, int) else medium.size)
            if medium.lifecycle_state in GONE_STATES:
                log.record("system", "lifecycle.medium.sighting", f"medium:{medium.pk}", {
                    "state": medium.lifecycle_state, "device": str(device.pk)})
    if device.lifecycle_state in GONE_STATES:
        inv = payload.inventory or {}
        addresses = []
        for iface in inv.get("interfaces", []) if isinstance(inv, dict) else []:
            if isinstance(iface, dict):
                addresses += [str(a)[:64] for a in iface.get("addresses", [])][:8]
        s = Sighting.objects.create(
            device=device, state=device.lifecycle_state, remote_addr=remote_addr[:64],
            hostname=str(inv.get("hostname") or device.hostname)[:255],
            users=[str(u)[:100] for u in inv.get("users", [])][:20]
            if isinstance(inv.get("users"), list) else [],
            addresses=addresses[:32],
        )
        log.record("system", "lifecycle.device.sighting", f"device:{device.pk}", {
            "state": device.lifecycle_state, "remote_addr": s.remote_addr, "sighting": s.pk})


# --- API keys for IT automation ------------------------------------------------------------

def key_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create_api_key(user, name: str, actor: str) -> str:
    token = "pwk_" + secrets.token_urlsafe(32)
    ApiKey.objects.create(user=user, name=name, token_hash=key_hash(token))
    log.record(actor, "lifecycle.apikey.create", f"user:{user.pk}", {"name": name})
    return token
