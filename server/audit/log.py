"""Write and verify the audit log.

Each entry's hash is SHA-256 over (previous hash, time, actor, action, target, details)
in canonical JSON, so changing, inserting or deleting any row breaks every later link;
the AuditHead row holds the last hash, so deleting the newest rows is caught too.
``details`` must never hold a PHI value: counts, ids, field names only.
"""

from __future__ import annotations

import hashlib
import json
from datetime import UTC
from typing import Any

from django.db import transaction
from django.utils import timezone

from server.audit.models import AuditEntry, AuditHead

GENESIS = "0" * 64


def _normalise(details: dict[str, Any]) -> dict[str, Any]:
    # What the JSON column will give back, so the hash recomputes from stored values.
    return json.loads(json.dumps(details, default=str))


def digest(prev_hash: str, at, actor: str, action: str, target: str, details: dict) -> str:
    payload = json.dumps(
        [prev_hash, at.astimezone(UTC).isoformat(), actor, action, target, details],
        sort_keys=True, separators=(",", ":"), ensure_ascii=False,
    )
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


def record(actor: str, action: str, target: str, details: dict[str, Any] | None = None) -> AuditEntry:
    """Append one entry. Joins the caller's transaction when there is one."""
    details = _normalise(details or {})
    # savepoint=False: inside a caller's transaction a failure aborts it all anyway.
    with transaction.atomic(savepoint=False):
        # The head row lock serialises appends across processes: two writers must never
        # chain onto the same predecessor (SQLite: the IMMEDIATE transaction does it).
        head = AuditHead.objects.select_for_update().get(pk=1)
        at = timezone.now()
        entry = AuditEntry(
            at=at, actor=actor[:150], action=action[:80], target=target[:200], details=details,
            prev_hash=head.last_hash,
            hash=digest(head.last_hash, at, actor[:150], action[:80], target[:200], details),
        )
        entry.save()
        AuditHead.objects.filter(pk=1).update(last_hash=entry.hash, last_id=entry.id)
    return entry


def verify() -> tuple[bool, int | None]:
    """(True, None) when the chain is intact, else (False, id of the first bad entry).

    A missing newest entry is named by the id the head says was last.
    """
    prev = GENESIS
    last_id = 0
    for e in AuditEntry.objects.order_by("id").iterator(chunk_size=2000):
        if e.prev_hash != prev or digest(prev, e.at, e.actor, e.action, e.target, e.details) != e.hash:
            return False, e.id
        prev = e.hash
        last_id = e.id
    head = AuditHead.objects.get(pk=1)
    if head.last_hash != prev:
        return False, head.last_id if head.last_id > last_id else last_id + 1
    return True, None
