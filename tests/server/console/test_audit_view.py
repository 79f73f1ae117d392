"""Audit log viewer: filters, keyset pages, and the chain's verification status."""

from __future__ import annotations

import re

from django.core.cache import cache
from django.db import connection

from server.audit import log
from server.audit.models import AuditEntry


def actions(content: bytes) -> list[str]:
    table = content.split(b'id="audit"')[1].split(b"</table>")[0]
    return [a.decode() for a in re.findall(rb"<td>(?:user|cli|system)[^<]*</td><td>([^<]+)</td>",
                                           table)]


def test_filters_and_pages(db, officer):
    cache.clear()
    for i in range(130):
        log.record("user:bob", "violation.acknowledge" if i % 2 else "device.findings_viewed",
                   f"device:{i}", {"n": i})
    r = officer.get("/console/audit/?actor=user:bob&action=violation.")
    assert r.status_code == 200
    first = actions(r.content)
    assert len(first) == 65 and set(first) == {"violation.acknowledge"}
    r = officer.get("/console/audit/?actor=user:bob")
    assert len(actions(r.content)) == 100
    nxt = re.search(rb'href="\?([^"]+)" rel="next"', r.content).group(1).decode()
    r2 = officer.get("/console/audit/?" + nxt.replace("&amp;", "&"))
    assert len(actions(r2.content)) == 30
    assert officer.get("/console/audit/?since=yesterday").status_code == 400


def test_chain_status_intact_then_broken(db, officer, monkeypatch):
    from server.console.views import audit as audit_view

    cache.clear()
    log.record("user:bob", "x.y", "device:1", {"n": 1})
    log.record("user:bob", "x.y", "device:2", {"n": 2})
    r = officer.get("/console/audit/")
    assert b"Chain verified" in r.content
    victim = AuditEntry.objects.order_by("id").first()
    # Tamper outside Django (the model refuses updates), as an intruder with SQL would.
    with connection.cursor() as cur:
        cur.execute("UPDATE audit_auditentry SET actor = %s WHERE id = %s",
                    ["user:mallory", victim.id])
    # A new entry moves the head; within the verdict's max age the page re-uses it and
    # says how many entries came after, past it the chain is verified again.
    log.record("user:bob", "x.y", "device:3", {})
    r = officer.get("/console/audit/")
    assert b"Chain verified" in r.content and b"newer entr" in r.content
    monkeypatch.setattr(audit_view, "VERIFY_MAX_AGE_SECONDS", 0)
    r = officer.get("/console/audit/")
    assert f"Chain BROKEN at entry {victim.id}".encode() in r.content
