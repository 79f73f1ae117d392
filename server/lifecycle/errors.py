from __future__ import annotations

from server.errors import ServerError


class LifecycleError(ServerError):
    """A lifecycle request that cannot be carried out; the message says why and what
    would make it possible."""


class TransitionRefused(LifecycleError):
    pass
