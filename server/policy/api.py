"""GET /api/v1/policy."""

from __future__ import annotations

from ninja import Router

from server.auth import device_auth
from server.policy.effective import effective
from server.schemas import ErrorOut, PolicyOut

router = Router(tags=["policy"])


@router.get("/policy", auth=device_auth, response={200: PolicyOut, 401: ErrorOut})
def get_policy(request):
    """The effective policy (rules/policy.yaml merged with the server's overrides)."""
    policy, version = effective()
    return {"policy": policy, "policy_version": version}
