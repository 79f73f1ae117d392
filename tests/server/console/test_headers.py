"""Browser-facing protections: strict CSP with no inline script or style, HSTS on TLS,
no caching, CSRF on every form, secure cookies."""

from __future__ import annotations

import re

import server.settings as real

INLINE_SCRIPT = re.compile(rb"<script(?![^>]*\bsrc=)[^>]*>", re.I)
STYLE_ATTR = re.compile(rb"\sstyle\s*=", re.I)
ON_HANDLER = re.compile(rb"\son[a-z]+\s*=", re.I)


def pages(fleet):
    return ["/console/", "/console/devices/", f"/console/devices/{fleet['phi'].pk}/",
            "/console/violations/", f"/console/violations/{fleet['v_phi'].pk}/",
            "/console/reports/", "/console/audit/"]


def test_every_page_has_a_strict_csp_and_no_inline_code(fleet, officer):
    for url in [*pages(fleet), "/accounts/login/"]:
        r = officer.get(url, secure=True)
        assert r.status_code == 200, url
        csp = r["Content-Security-Policy"]
        assert "script-src 'self'" in csp and "style-src 'self'" in csp
        assert "unsafe-inline" not in csp and "frame-ancestors 'none'" in csp
        assert r["Strict-Transport-Security"].startswith("max-age=31536000")
        assert r["Cache-Control"] == "no-store"
        assert r["X-Frame-Options"] == "DENY"
        assert not INLINE_SCRIPT.search(r.content), url
        assert not STYLE_ATTR.search(r.content), url
        assert not ON_HANDLER.search(r.content), url


def test_no_hsts_over_plain_http(officer):
    # RFC 6797 8.1: HSTS over HTTP is meaningless; the server only ever serves HTTPS.
    assert "Strict-Transport-Security" not in officer.get("/console/")


def test_forms_need_a_csrf_token(fleet, users):
    from django.test import Client

    from tests.server.console.conftest import signed_in

    c = signed_in(users["compliance_officer"])
    c.handler.enforce_csrf_checks = True
    r = c.post(f"/console/violations/{fleet['v_phi'].pk}/acknowledge")
    assert r.status_code == 403
    login = Client(enforce_csrf_checks=True)
    assert login.post("/accounts/login/", {"username": "a", "password": "b"}).status_code == 403


def test_cookies_are_secure_and_http_only():
    assert real.SESSION_COOKIE_SECURE and real.CSRF_COOKIE_SECURE
    assert real.SESSION_COOKIE_HTTPONLY


def test_static_assets_are_local(officer):
    body = officer.get("/console/").content
    assert b"https://" not in body.split(b"<main>")[0]
    assert b'src="/static/console/console.js"' in body
    assert b'href="/static/console/console.css"' in body
