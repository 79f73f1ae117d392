"""The audit log: append-only, hash-chained, verify names the first bad entry."""

from __future__ import annotations

import pytest
from django.db import connection

from server.audit import log
from server.audit.models import AuditEntry
from server.errors import AppendOnly


def fill(n: int = 5) -> list[AuditEntry]:
    return [log.record("user:alice", "device.view", f"device:{i}", {"i": i, "kinds": ["ssn"]})
            for i in range(n)]


def raw(sql: str, *params) -> None:
    with connection.cursor() as c:
        c.execute(sql, params)


def test_chain_links_each_entry_to_the_previous(db):
    entries = fill()
    assert entries[0].prev_hash == log.GENESIS
    for a, b in zip(entries, entries[1:], strict=False):
        assert b.prev_hash == a.hash
    assert log.verify() == (True, None)


def test_model_refuses_update_and_delete(db):
    e = fill(1)[0]
    e.action = "nothing.happened"
    with pytest.raises(AppendOnly):
        e.save()
    with pytest.raises(AppendOnly):
        e.delete()
    with pytest.raises(AppendOnly):
        AuditEntry.objects.filter(pk=e.pk).update(actor="mallory")
    with pytest.raises(AppendOnly):
        AuditEntry.objects.all().delete()
    assert AuditEntry.objects.get(pk=e.pk).action == "device.view"


@pytest.mark.parametrize("tamper", ["details", "actor", "delete_middle", "prev_hash"])
def test_sql_tampering_is_found_and_named(db, tamper):
    entries = fill()
    victim = entries[2]
    if tamper == "details":
        raw("UPDATE audit_auditentry SET details = %s WHERE id = %s", '{"i": 99, "kinds": []}',
            victim.id)
    elif tamper == "actor":
        raw("UPDATE audit_auditentry SET actor = %s WHERE id = %s", "user:mallory", victim.id)
    elif tamper == "prev_hash":
        raw("UPDATE audit_auditentry SET prev_hash = %s WHERE id = %s", "f" * 64, victim.id)
    else:
        raw("DELETE FROM audit_auditentry WHERE id = %s", victim.id)
        assert log.verify() == (False, entries[3].id)
        return
    assert log.verify() == (False, victim.id)


def test_deleting_the_newest_entry_is_found(db):
    entries = fill()
    raw("DELETE FROM audit_auditentry WHERE id = %s", entries[-1].id)
    assert log.verify() == (False, entries[-1].id)


def test_appends_after_verification_keep_the_chain(db):
    fill(3)
    assert log.verify() == (True, None)
    fill(2)
    assert log.verify() == (True, None)
    assert AuditEntry.objects.count() == 5
