"""PHI values a broken agent might put in the wrong field never come back out: not in
the error answer, not in the logs, not in the database."""

from __future__ import annotations

import json
import logging

import pytest
from django.db import connection

from server.checkins.models import Report
from tests.server.conftest import finding


def values(corpus, n: int = 6) -> list[str]:
    picked = sorted(v for v in corpus.planted_values(min_len=8) if v.isprintable())[:n]
    assert len(picked) == n
    return picked


def bad_bodies(agent, v: str) -> list[dict]:
    return [
        agent.report(report_id=v),
        agent.report(created_at=v),
        agent.report(agent_version={"x": v}),
        agent.report(findings=[dict(finding(1), classification=v)]),
        agent.report(findings=[dict(finding(1), bytes=v)]),
        agent.report(findings=[dict(finding(1), identifiers={"ssn": v})]),
        agent.report(events=[{"event_id": v, "type": "media_mounted", "at": v}]),
        agent.report(posture={"checked_at": v, "checks": [{"id": "x", "status": v}]}),
        agent.report(outbox={"depth": v}),
        agent.report(findings_complete=v),
    ]


def test_rejected_values_are_not_echoed_logged_or_stored(agent, corpus, caplog):
    caplog.set_level(logging.DEBUG)
    planted = values(corpus)
    answers = []
    for v in planted:
        for body in bad_bodies(agent, v):
            r = agent.post("/api/v1/checkin", body)
            assert r.status_code == 422, (r.status_code, r.content[:200])
            answers.append(r.content.decode())
    text = "\n".join(answers) + caplog.text
    for v in planted:
        assert v not in text
    assert not Report.objects.exists()
    with connection.cursor() as c:
        c.execute("SELECT details FROM audit_auditentry")
        stored = json.dumps([row[0] for row in c.fetchall()], default=str)
    for v in planted:
        assert v not in stored


@pytest.mark.parametrize("where", ["secret", "hostname"])
def test_enroll_errors_do_not_echo_the_secret_or_values(client, db, corpus, where):
    v = values(corpus, 1)[0]
    body = {"secret": v, "hostname": "h", "machine_id": "m", "os": "linux"}
    if where == "hostname":
        body.update(secret="s", hostname=v * 40)  # too long: 422
    r = client.post("/api/v1/enroll", data=body, content_type="application/json")
    assert r.status_code in (401, 422)
    assert v not in r.content.decode()
