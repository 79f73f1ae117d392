"""A real `phiwatch-server run` (HTTPS, gunicorn) seeded with the console's test fleet,
and real headless Chromium (Debian's, driven by Playwright) to use it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.server.conftest import LiveServer, start_server, stop_server

ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = ROOT / "artifacts" / "screenshots"
PASSWORD = "correct horse battery 9"
# Short enough to watch the logoff happen, long enough that no step of a test (a PDF
# export on a busy CI box) comes near it.
IDLE_SECONDS = 15
CHROMIUM_ARGS = ["--headless=new", "--no-sandbox", "--disable-gpu", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update",
                 "--disable-sync"]


@dataclass
class Console:
    server: LiveServer
    fleet: dict[str, str]
    totp: dict[str, str] = field(default_factory=dict)  # username -> base32 secret

    @property
    def url(self) -> str:
        return self.server.url


@pytest.fixture(scope="session")
def console(tmp_path_factory):
    saved = os.environ.get("PHIWATCH_CONSOLE_IDLE_SECONDS")
    os.environ["PHIWATCH_CONSOLE_IDLE_SECONDS"] = str(IDLE_SECONDS)
    try:
        server = start_server(tmp_path_factory.mktemp("console-home"), workers=2, threads=4)
    finally:
        if saved is None:
            os.environ.pop("PHIWATCH_CONSOLE_IDLE_SECONDS", None)
        else:
            os.environ["PHIWATCH_CONSOLE_IDLE_SECONDS"] = saved
    try:
        seeded = subprocess.run([sys.executable, "-m", "tests.server.console.seed"],
                                env=server.env, cwd=ROOT, capture_output=True, text=True,
                                check=True)
        c = Console(server, json.loads(seeded.stdout.strip().splitlines()[-1]))
        env = {**server.env, "PHIWATCH_CONSOLE_PASSWORD": PASSWORD}
        for username, role in (("ita", "it_admin"), ("col", "compliance_officer"),
                               ("aud", "auditor")):
            subprocess.run([sys.executable, "-m", "server", "console_user", username,
                            "--role", role], env=env, cwd=ROOT, check=True,
                           capture_output=True)
        for username in ("ita", "col"):
            c.totp[username] = server.cli("totp_enroll", username).stdout.strip().splitlines()[-1]
        yield c
    finally:
        stop_server(server)


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        yield b
        b.close()


@pytest.fixture
def page(browser):
    # The server's certificate is self-signed (made on first start): trust it for this
    # context only, as an operator pinning it would.
    ctx = browser.new_context(ignore_https_errors=True, accept_downloads=True,
                              viewport={"width": 1360, "height": 900})
    pg = ctx.new_page()
    errors: list[str] = []
    # A CSP violation ("Refused to ...") or a script error shows up here; the tests assert
    # there are none. HTTP error statuses (the 403 page, favicon 404) are logged by
    # Chromium as "Failed to load resource" and are expected.
    pg.on("console", lambda m: errors.append(m.text)
          if m.type == "error" and not m.text.startswith("Failed to load resource") else None)
    pg.on("pageerror", lambda e: errors.append(str(e)))
    pg.js_errors = errors
    yield pg
    ctx.close()


def shot(page, name: str) -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path
