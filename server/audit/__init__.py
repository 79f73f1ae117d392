"""Append-only, hash-chained audit log: ``from server.audit import log; log.record(...)``."""
