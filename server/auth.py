"""Device authentication for the agent API: ``Authorization: Bearer <device token>``."""

from __future__ import annotations

import hmac

from ninja.security import HttpBearer

from server.enrollment.models import DeviceToken, token_hash


class DeviceBearer(HttpBearer):
    """Resolves a live token to its device id (request.auth); None means 401.

    Only the id: the check-in locks and loads the device row itself, so loading it here
    too would decode its JSON columns twice per request.
    """

    def authenticate(self, request, token: str):
        if not token or len(token) > 200:
            return None
        digest = token_hash(token)
        row = (
            DeviceToken.objects.filter(token_hash=digest, revoked_at__isnull=True)
            .only("token_hash", "device_id")
            .first()
        )
        # The look-up is by hash already; compare_digest keeps the final check constant-time.
        if row is None or not hmac.compare_digest(row.token_hash, digest):
            return None
        return row.device_id


device_auth = DeviceBearer()
