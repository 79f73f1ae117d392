"""Find a device by id, machine id or hostname (for the command line)."""

from __future__ import annotations

import uuid

from server.devices.models import Device
from server.errors import ServerError


def find_device(ref: str) -> Device:
    try:
        return Device.objects.get(pk=uuid.UUID(ref))
    except (ValueError, Device.DoesNotExist):
        pass
    matches = list(Device.objects.filter(machine_id=ref)[:2]) or list(
        Device.objects.filter(hostname=ref)[:2])
    if len(matches) == 1:
        return matches[0]
    if not matches:
        raise ServerError(f"no device {ref!r}")
    raise ServerError(f"several devices are named {ref!r}: use the device id")
