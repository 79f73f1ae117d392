"""Error types of the agent's top-level modules (config, credentials, transport, outbox,
enrollment). Sub-packages keep their own (agent/classifier/errors.py, ...).

Each message says what happened and what to do, and never carries a PHI value: these
end up in status output and logs."""

from __future__ import annotations


class ConfigError(Exception):
    """A configuration file or value is wrong; the message names the file and the key."""


class CredentialError(Exception):
    """The device token could not be stored or read."""


class TransportError(Exception):
    """Base of every transport failure: no HTTP answer came back."""


class InsecureURLError(TransportError):
    """The server URL is not https://."""


class PinError(TransportError):
    """The server's certificate is not the pinned one (or not signed by the pinned CA)."""


class TLSError(TransportError):
    """The TLS handshake failed for another reason (old protocol, plain HTTP...)."""


class NetworkError(TransportError):
    """The server could not be reached, or did not answer in time. Retry later."""


class OutboxError(Exception):
    """The outbox could not be written; nothing already queued is lost."""


class OutboxFullError(OutboxError):
    """The state dir is full: the report was not queued."""


class EnrollError(Exception):
    """Enrollment failed; the message says why and what to do."""
