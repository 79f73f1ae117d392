"""Automatic logoff of the console itself: 164.312(a)(2)(iii) applies to it too."""

from __future__ import annotations

import time

from server.accounts.guard import SEEN


def test_idle_session_is_ended_and_the_login_page_says_why(as_role, settings):
    settings.CONSOLE_IDLE_SECONDS = 120
    c = as_role["compliance_officer"]
    s = c.session
    s[SEEN] = time.time() - 121  # as if the last request was 121 s ago
    s.save()
    r = c.get("/console/devices/?os=linux")
    assert r.status_code == 302
    assert "reason=idle" in r["Location"] and "next=%2Fconsole%2Fdevices%2F%3Fos%3Dlinux" in r["Location"]
    page = c.get(r["Location"])
    assert b"signed out after 2 minutes without activity" in page.content
    # The session is gone, not merely redirected once.
    assert c.get("/console/").status_code == 302


def test_activity_keeps_the_session_and_every_page_states_the_limit(as_role, settings):
    settings.CONSOLE_IDLE_SECONDS = 120
    c = as_role["auditor"]
    s = c.session
    s[SEEN] = time.time() - 100
    s.save()
    r = c.get("/console/")
    assert r.status_code == 200
    assert b'data-idle-seconds="120"' in r.content
    assert b"this session ends after 2 minutes without activity" in r.content
    assert time.time() - c.session[SEEN] < 60  # the request refreshed the clock
