"""Builds check-in reports (docs/protocol.md) from the agent's local data.

This is the last place a report can pick up something it must not carry, so it copies
only the fields the protocol names (an allow-list, never a deny-list):

- a finding's path follows the policy's ``report_paths``:
  ``hashed`` (default) folder + HMAC-SHA256(device key, file name);
  ``folder`` folder only; ``full`` the full path too. ``finding_id`` is always
  HMAC-SHA256(device key, full path), so the server can match a finding across reports
  without learning the name. A plain SHA-256 of a name like ``jsmith_labs.csv`` can be
  guessed; a keyed one cannot (STYLE.md, Detectors).
- identifier and health evidence are kind -> count; anything else is dropped;
- event data goes through the same path rule (a ``path`` becomes finding_id/folder/
  name_hash) and keeps scalar values only.

The device key is 32 random bytes in the state dir (0600), made on first use.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import os
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path, PurePath, PurePosixPath, PureWindowsPath
from typing import Any

from agent import __version__, paths

log = logging.getLogger("phiwatch.report")

KEY_FILE = "device.key"
REPORT_PATHS = ("hashed", "folder", "full")
CLASSIFICATIONS = ("phi", "pii")
VOLUME_KEYS = ("mount", "encrypted", "removable", "cloud")
EVENT_TYPES = {
    "media_mounted",
    "media_removed",
    "finding_opened",
    "finding_resolved",
    "agent_started",
    "scan_completed",
}


def utcnow() -> str:
    # time.time(), like the outbox's clock: one clock for the whole agent.
    return datetime.fromtimestamp(time.time(), UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def device_key(state_dir: Path | None = None) -> bytes:
    """The per-device HMAC key, created 0600 on first use."""
    path = (state_dir or paths.state_dir()) / KEY_FILE
    try:
        key = path.read_bytes()
        if len(key) >= 32:
            return key
    except FileNotFoundError:
        pass
    key = os.urandom(32)
    tmp = path.with_name(KEY_FILE + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(key)
        fh.flush()
        os.fsync(fh.fileno())
    try:
        # Two processes racing here: the first key written wins, both then use it.
        os.link(tmp, path)
    except FileExistsError:
        pass
    finally:
        tmp.unlink(missing_ok=True)
    return path.read_bytes()


def keyed_hash(key: bytes, value: str) -> str:
    return hmac.new(key, value.encode("utf-8", "surrogatepass"), hashlib.sha256).hexdigest()


def _pure(path: str) -> PurePath:
    # A finding may be made on Windows and tested on Linux: pick the flavour by the text.
    if "\\" in path and "/" not in path:
        return PureWindowsPath(path)
    return PurePosixPath(path)


def path_fields(key: bytes, path: str, report_paths: str = "hashed") -> dict[str, str | None]:
    """finding_id, path, folder and name_hash of one path, as the policy allows."""
    if report_paths not in REPORT_PATHS:
        report_paths = "hashed"  # an unknown policy value fails safe
    # An archive member "a/b.zip!inner/x.csv": the file on disk is what has a folder.
    outer = path.split("!", 1)[0]
    p = _pure(outer)
    name = p.name + (path[len(outer) :] if len(path) > len(outer) else "")
    return {
        "finding_id": keyed_hash(key, path),
        "path": path if report_paths == "full" else None,
        "folder": str(p.parent),
        "name_hash": keyed_hash(key, name),
    }


def _counts(value: Any) -> dict[str, int]:
    if not isinstance(value, dict):
        return {}
    return {
        str(k)[:64]: int(v)
        for k, v in value.items()
        if isinstance(v, int) and not isinstance(v, bool) and v >= 0
    }


def build_finding(
    key: bytes, local: dict[str, Any], report_paths: str = "hashed"
) -> dict[str, Any]:
    """One local finding -> one protocol FINDING."""
    cls = local.get("classification")
    if cls not in CLASSIFICATIONS:
        raise ValueError(f"a finding's classification must be phi or pii, not {cls!r}")
    path = str(local["path"])
    volume = local.get("volume") if isinstance(local.get("volume"), dict) else {}
    now = utcnow()
    return {
        **path_fields(key, path, report_paths),
        "classification": cls,
        "identifiers": _counts(local.get("identifiers")),
        "health": _counts(local.get("health")),
        "format": str(local.get("format") or "")[:32] or None,
        "bytes": int(local.get("bytes") or 0),
        "volume": {k: volume.get(k) for k in VOLUME_KEYS} if volume else None,
        "first_seen": _ts(local.get("first_seen")) or now,
        "last_seen": _ts(local.get("last_seen")) or now,
    }


def build_event(key: bytes, local: dict[str, Any], report_paths: str = "hashed") -> dict[str, Any]:
    etype = local.get("type")
    if etype not in EVENT_TYPES:
        raise ValueError(f"unknown event type {etype!r}")
    data: dict[str, Any] = {}
    for k, v in (local.get("data") or {}).items():
        if k == "path" and isinstance(v, str):
            fields = path_fields(key, v, report_paths)
            data.update({f: fields[f] for f in ("finding_id", "folder", "name_hash")})
            if fields["path"]:
                data["path"] = fields["path"]
        elif isinstance(v, str | int | float | bool) or v is None:
            data[k] = v
    return {
        "event_id": str(local.get("event_id") or uuid.uuid4()),
        "type": etype,
        "at": _ts(local.get("at")) or utcnow(),
        "data": data,
    }


def build_report(
    *,
    key: bytes,
    report_paths: str = "hashed",
    posture: dict[str, Any] | None = None,
    inventory: dict[str, Any] | None = None,
    findings: list[dict[str, Any]] | None = None,
    findings_complete: bool = False,
    events: list[dict[str, Any]] | tuple = (),
) -> dict[str, Any]:
    """A check-in body without device_id and outbox (filled in when it is sent).

    A finding or event the protocol cannot carry (classification none/error, an unknown
    event type) is left out and logged by kind, so one bad item does not cost the
    whole report."""
    return {
        "report_id": str(uuid.uuid4()),
        "created_at": utcnow(),
        "agent_version": __version__,
        "inventory": inventory,
        "posture": posture,
        "findings": None
        if findings is None
        else _each(lambda f: build_finding(key, f, report_paths), findings, "finding"),
        "findings_complete": bool(findings_complete and findings is not None),
        "events": _each(lambda e: build_event(key, e, report_paths), events, "event"),
    }


def _each(build, items, what: str) -> list[dict[str, Any]]:
    out, skipped = [], 0
    for item in items:
        try:
            out.append(build(item))
        except (ValueError, TypeError, KeyError):
            skipped += 1
    if skipped:
        # The message names no path or value: only how many were left out.
        log.warning("left %d %s(s) out of a report: not in the protocol's shape", skipped, what)
    return out


def _ts(value: Any) -> str | None:
    """ISO 8601 UTC text from a datetime, an epoch number or ISO text."""
    if value is None or value == "":
        return None
    if isinstance(value, int | float):
        return datetime.fromtimestamp(value, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    if isinstance(value, datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return str(value)[:40]
