"""What the running agent calls to report: queue durably, flush when it can.

    r = Reporter()
    r.queue(posture=..., findings=[...], findings_complete=True, events=[...])
    r.flush()          # never raises for the network's sake
    r.status()         # enrolled, server, token store, outbox depth, last error...
    r.policy()         # rules/policy.yaml merged with what the server sent

``queue`` applies the path policy (agent.report) before anything is written, so the
outbox on disk holds exactly what the server would get.
"""

from __future__ import annotations

import json
import logging
import sqlite3
import time
import uuid
from datetime import UTC, datetime
from typing import Any

from agent import paths
from agent.config import AgentConfig, load_config
from agent.credentials import CredentialError, TokenStore
from agent.enroll import POLICY_FILE, load_enrollment, save_policy
from agent.outbox import Outbox, OutboxError
from agent.report import build_report, device_key
from agent.transport import Response, TransportError

log = logging.getLogger("phiwatch.reporter")

OUTBOX_FILE = "outbox.sqlite3"
# docs/protocol.md: at most 1 MiB per body. Room is left for the outbox counts and the
# device id that are added when the report is sent.
MAX_BODY = 1024 * 1024 - 16 * 1024


def split_report(body: dict[str, Any], limit: int = MAX_BODY) -> list[dict[str, Any]]:
    """One report, or several under ``limit`` bytes of JSON each, findings spread over them."""
    if len(json.dumps(body, separators=(",", ":"))) <= limit or not body.get("findings"):
        return [body]
    head = {**body, "findings": [], "findings_complete": False}
    parts: list[dict[str, Any]] = []
    current = head
    size = len(json.dumps(head, separators=(",", ":")))
    for f in body["findings"]:
        n = len(json.dumps(f, separators=(",", ":"))) + 1
        if current["findings"] and size + n > limit:
            parts.append(current)
            current = {
                **body,
                "report_id": str(uuid.uuid4()),
                "posture": None,
                "inventory": None,
                "events": [],
                "findings": [],
                "findings_complete": False,
            }
            size = len(json.dumps(current, separators=(",", ":")))
        current["findings"].append(f)
        size += n
    parts.append(current)
    return parts


class Reporter:
    def __init__(self, config: AgentConfig | None = None):
        self.config = config or load_config()
        self.state_dir = paths.state_dir()
        self.outbox = Outbox(self.state_dir / OUTBOX_FILE, max_bytes=self.config.outbox_max_bytes)

    # -- state -----------------------------------------------------------------------

    @property
    def enrolled(self) -> bool:
        e = load_enrollment(self.state_dir)
        if not e:
            return False
        try:
            return bool(TokenStore(self.state_dir, kind=e.token_store).load())
        except CredentialError:
            return False

    def server_policy(self) -> tuple[dict[str, Any] | None, Any]:
        try:
            data = json.loads((self.state_dir / POLICY_FILE).read_text())
            return data.get("policy"), data.get("policy_version")
        except (OSError, ValueError):
            return None, None

    def policy(self) -> dict[str, Any]:
        """The effective policy: shipped rules/policy.yaml merged with the server's."""
        from agent.policy import load_policy

        override, _ = self.server_policy()
        try:
            return load_policy(override)
        except Exception as e:  # a bad server policy must not stop the agent
            log.error("the server's policy is unusable (%s); using the shipped one", e)
            return load_policy(None)

    # -- reporting -------------------------------------------------------------------

    def queue(
        self,
        *,
        posture: dict[str, Any] | None = None,
        inventory: dict[str, Any] | None = None,
        findings: list[dict[str, Any]] | None = None,
        findings_complete: bool = False,
        events: list[dict[str, Any]] | tuple = (),
    ) -> str:
        """Write one report durably to the outbox (fsync'd) and return its report_id.
        Raises agent.outbox.OutboxError (OutboxFullError when the disk is full).

        A report over the protocol's 1 MiB body limit (thousands of findings) is split
        into several, findings spread over them; the first report's id is returned. Split
        findings are sent as additions (findings_complete false): a complete set spread
        over several reports would make the server resolve the ones in the others."""
        body = build_report(
            key=device_key(self.state_dir),
            report_paths=str(self.policy().get("report_paths", "hashed")),
            posture=posture,
            inventory=inventory,
            findings=findings,
            findings_complete=findings_complete,
            events=list(events),
        )
        parts = split_report(body)
        if len(parts) > 1:
            log.warning(
                "report of %d findings split into %d reports (body limit)",
                len(body["findings"] or []),
                len(parts),
            )
        ids = [self.outbox.put(part) for part in parts]
        return ids[0]

    def flush(self, timeout: float = 30.0) -> dict[str, Any]:
        """Send what is due; returns {"sent": n, "pending": n, "error": str | None}."""
        enrollment = load_enrollment(self.state_dir)
        if not enrollment:
            return {
                "sent": 0,
                "pending": self.outbox.depth(),
                "error": "not enrolled: run `phiwatch enroll`",
            }
        try:
            token = TokenStore(self.state_dir, kind=enrollment.token_store).load()
        except CredentialError as e:
            return {"sent": 0, "pending": self.outbox.depth(), "error": str(e)}
        if not token:
            return {
                "sent": 0,
                "pending": self.outbox.depth(),
                "error": f"no device token in the {enrollment.token_store} store: re-enroll",
            }
        try:
            transport = enrollment.transport(self.config)
        except TransportError as e:
            return {"sent": 0, "pending": self.outbox.depth(), "error": str(e)}
        remaining = max(1.0, timeout)
        deadline = time.monotonic() + remaining
        read_timeout = min(self.config.read_timeout, remaining)

        def send(body: dict[str, Any]) -> Response:
            body["device_id"] = enrollment.device_id
            left = max(1.0, deadline - time.monotonic())
            return transport.request(
                "POST",
                "/api/v1/checkin",
                token=token,
                body=body,
                timeout=(min(self.config.connect_timeout, left), min(read_timeout, left)),
            )

        try:
            result = self.outbox.flush(send, deadline=deadline, on_success=self._on_success)
        except (sqlite3.Error, OSError, OutboxError) as e:
            # Another agent process holding the outbox, a full disk while recording the
            # outcome: the reports stay queued; say so instead of raising.
            log.warning("outbox unavailable during flush: %s", e)
            return {"sent": 0, "pending": self._depth(), "error": f"outbox unavailable: {e}"}
        finally:
            transport.close()
        return result.as_dict()

    def _depth(self) -> int:
        try:
            return self.outbox.depth()
        except sqlite3.Error:
            return -1

    def rotate_token(self) -> str | None:
        """Trade the device token for a new one (POST /api/v1/token/rotate); the old one
        stops working at once. Returns None on success, else the reason."""
        enrollment = load_enrollment(self.state_dir)
        if not enrollment:
            return "not enrolled"
        store = TokenStore(self.state_dir, kind=enrollment.token_store)
        try:
            token = store.load()
            transport = enrollment.transport(self.config)
        except (CredentialError, TransportError) as e:
            return str(e)
        try:
            resp = transport.request("POST", "/api/v1/token/rotate", token=token)
        except TransportError as e:
            return str(e)
        finally:
            transport.close()
        if resp.status != 200 or not resp.body or not resp.body.get("token"):
            if resp.status == 401:
                self.outbox.set_meta("needs_reenroll", f"token rotation refused: {resp.detail}")
            return f"token rotation failed: HTTP {resp.status}: {resp.detail}"
        # The old token is already dead: a failure to store the new one must be loud.
        store.save(str(resp.body["token"]))
        log.info("device token rotated")
        return None

    def _on_success(self, resp: Response) -> None:
        body = resp.body or {}
        policy = body.get("policy")
        # Written only when it changed: each write is an fsync, and most check-ins repeat it.
        if (
            isinstance(policy, dict)
            and (policy, body.get("policy_version")) != self.server_policy()
        ):
            save_policy(policy, body.get("policy_version"), self.state_dir)
        server_time = _parse_time(body.get("server_time"))
        if server_time is not None:
            # Not corrected, only shown: a laptop clock far off is worth telling IT. Whole
            # seconds: server_time has no finer grain.
            skew = str(round(time.time() - server_time))
            if skew != self.outbox.get_meta("clock_skew_seconds"):
                self.outbox.set_meta("clock_skew_seconds", skew)

    def status(self) -> dict[str, Any]:
        e = load_enrollment(self.state_dir)
        token_store = None
        if e:
            token_store = TokenStore(self.state_dir, kind=e.token_store).describe()
        last = self.outbox.get_meta("last_checkin")
        skew = self.outbox.get_meta("clock_skew_seconds")
        _, policy_version = self.server_policy()
        return {
            "enrolled": self.enrolled,
            "server_url": e.server_url if e else self.config.server_url,
            "device_id": e.device_id if e else None,
            "pin": ("fingerprint " + e.fingerprint)
            if e and e.fingerprint
            else ("CA " + e.ca_cert)
            if e and e.ca_cert
            else ("system CAs" if e else None),
            "token_store": token_store,
            "last_checkin": _iso(float(last)) if last else None,
            "outbox_depth": self.outbox.depth(),
            "outbox_dropped": self.outbox.dropped(),
            "dead_letters": len(self.outbox.dead_letters()),
            "last_error": self.outbox.get_meta("last_error"),
            "needs_reenroll": self.outbox.get_meta("needs_reenroll") is not None,
            "server_notice": self.outbox.get_meta("server_notice"),
            "clock_skew_seconds": float(skew) if skew else None,
            "policy_version": policy_version,
        }

    def close(self) -> None:
        self.outbox.close()


def _iso(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _parse_time(value: Any) -> float | None:
    if not isinstance(value, str):
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()
    except ValueError:
        return None
