"""POST /api/v1/checkin (docs/protocol.md)."""

from __future__ import annotations

from django.utils import timezone
from ninja import Router, Status

from server.auth import device_auth
from server.checkins.intake import store
from server.checkins.schemas import CheckinIn, CheckinOut
from server.devices.models import GONE_STATES
from server.lifecycle.service import after_checkin
from server.policy.effective import effective
from server.schemas import ErrorOut

router = Router(tags=["checkin"])


@router.post(
    "/checkin", auth=device_auth,
    response={200: CheckinOut, 401: ErrorOut, 404: ErrorOut, 409: ErrorOut, 413: ErrorOut,
              422: ErrorOut},
)
def checkin(request, payload: CheckinIn):
    """Store one report (once per report_id) and answer with the current policy."""
    status, device = store(request.auth, payload)
    if status == "stored":
        # Media seen, and sightings of a lost/stolen/disposed device (server/lifecycle).
        after_checkin(device, payload, request.META.get("REMOTE_ADDR", ""))
    if device is not None and device.lifecycle_state in GONE_STATES:
        # Stored and a violation raised; the agent keeps running (protocol: 409).
        return Status(409, {"detail": f"device is recorded as {device.lifecycle_state}; "
                                      "report stored", "field": None})
    policy, version = effective()
    return {"status": status, "policy": policy, "policy_version": version,
            "server_time": timezone.now()}
