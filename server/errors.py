"""The server's few error types. Edges raise these (``raise ... from e``)."""

from __future__ import annotations


class ServerError(Exception):
    """Base class of every error the server raises on purpose."""


class ConfigError(ServerError):
    """A setting (environment variable, file) is missing or malformed; the message names it."""


class ApiError(ServerError):
    """An agent API request that must be answered with a 4xx.

    ``field`` is the dotted path of the failing field (docs/protocol.md), when there is one.
    """

    def __init__(self, status: int, detail: str, field: str | None = None) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail
        self.field = field


class AuditTampered(ServerError):
    """The audit log's hash chain does not verify."""


class AppendOnly(ServerError):
    """An attempt to change or delete an append-only record (the audit log)."""
