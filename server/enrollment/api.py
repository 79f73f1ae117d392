"""POST /api/v1/enroll and POST /api/v1/token/rotate (docs/protocol.md)."""

from __future__ import annotations

from ninja import Router, Status

from server.auth import device_auth
from server.enrollment import service
from server.enrollment.schemas import EnrollIn, EnrollOut, TokenOut
from server.policy.effective import effective
from server.schemas import ErrorOut

router = Router(tags=["enrollment"])


@router.post("/enroll", response={201: EnrollOut, 401: ErrorOut, 413: ErrorOut, 422: ErrorOut})
def enroll(request, payload: EnrollIn):
    """Trade an enrollment secret for a device id and a device token."""
    device, token = service.enroll(payload)
    policy, version = effective()
    return Status(201, {"device_id": device.id, "token": token, "policy": policy,
                 "policy_version": version})


@router.post("/token/rotate", auth=device_auth, response={200: TokenOut, 401: ErrorOut})
def rotate(request):
    """A new token; the old one stops working at once."""
    return {"token": service.rotate(request.auth)}  # request.auth: the device id
