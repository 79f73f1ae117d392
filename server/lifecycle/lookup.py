"""Find the asset a person or a script names: a device by id, serial or hostname; a
medium by id or serial."""

from __future__ import annotations

import uuid

from django.db.models import Q

from server.devices.models import Device
from server.lifecycle.errors import LifecycleError
from server.lifecycle.models import Medium


def find_device(ref: str) -> Device:
    ref = (ref or "").strip()
    try:
        return Device.objects.get(pk=uuid.UUID(ref))
    except (ValueError, Device.DoesNotExist):
        pass
    matches = list(Device.objects.filter(Q(hardware_serial=ref) | Q(hostname=ref))[:2])
    if len(matches) == 1:
        return matches[0]
    if matches:
        raise LifecycleError(f"{ref!r} names more than one device: use the device id")
    raise LifecycleError(f"no device with id, serial or hostname {ref!r}")


def find_medium(ref: str) -> Medium:
    ref = (ref or "").strip()
    if ref.isdigit():
        m = Medium.objects.filter(pk=int(ref)).first()
        if m:
            return m
    matches = list(Medium.objects.filter(serial=ref)[:2])
    if len(matches) == 1:
        return matches[0]
    if matches:
        raise LifecycleError(f"{ref!r} names more than one medium: use the medium id")
    raise LifecycleError(f"no removable medium with id or serial {ref!r}")
