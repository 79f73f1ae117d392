"""A small HTTPS stand-in for the phiwatch server, run as a real subprocess.

It speaks the protocol's enroll and check-in (docs/protocol.md) closely enough to test
the agent's transport and outbox against a real TLS socket, including the failures a
real server cannot be made to produce on demand.

    python fakeserver.py STATE_DIR --cert C --key K [--tls-max 1.1] [--plain]

Prints the port it bound (127.0.0.1, chosen by the OS) on its first stdout line.
STATE_DIR holds:
- plan.json: a list of canned answers, popped one per check-in before normal handling:
  {"status": 503} | {"status": 429, "headers": {"Retry-After": "7"}} |
  {"sleep": 3} (then handle normally) | {"kill_after_store": true} (store, then die
  without answering) | {"status": 422, "body": {"detail": "x", "field": "posture"}}
- requests.jsonl: every request as received (path, headers minus auth, raw body);
- stored.jsonl: each stored report once (dedup by report_id, like the real server);
- tokens.json: issued tokens (kept across restarts); revoked.json: revoked tokens.
"""

from __future__ import annotations

import argparse
import json
import os
import ssl
import sys
import threading
import time
import uuid
import warnings
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

LOCK = threading.Lock()
SECRET = "good-secret"


class State:
    def __init__(self, root: Path):
        self.root = root
        self._stored: set[str] | None = None

    def _read(self, name: str, default):
        try:
            return json.loads((self.root / name).read_text())
        except (OSError, ValueError):
            return default

    def _write(self, name: str, data) -> None:
        tmp = self.root / (name + ".tmp")
        tmp.write_text(json.dumps(data))
        os.replace(tmp, self.root / name)

    def append(self, name: str, record: dict) -> None:
        with open(self.root / name, "a") as fh:
            fh.write(json.dumps(record) + "\n")
            fh.flush()
            os.fsync(fh.fileno())

    def pop_plan(self) -> dict | None:
        plan = self._read("plan.json", [])
        if not plan:
            return None
        self._write("plan.json", plan[1:])
        return plan[0]

    def stored_ids(self) -> set[str]:
        if self._stored is None:  # read once per process; kept current by store()
            try:
                lines = (self.root / "stored.jsonl").read_text().splitlines()
            except OSError:
                lines = []
            self._stored = {json.loads(line)["report_id"] for line in lines if line}
        return self._stored

    def store(self, body: dict) -> bool:
        """Append a report unless its id was stored before; True when it is new."""
        if body["report_id"] in self.stored_ids():
            return False
        self.append("stored.jsonl", body)
        self._stored.add(body["report_id"])
        return True


def make_handler(state: State):
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *a):  # quiet; requests.jsonl is the record
            pass

        def _answer(self, status: int, body: dict | None, headers: dict | None = None) -> None:
            data = json.dumps(body or {}).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            for k, v in (headers or {}).items():
                self.send_header(k, v)
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self):
            self._answer(404, {"detail": "not found"})

        def do_POST(self):
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length)
            auth = self.headers.get("Authorization", "")
            token = auth[7:] if auth.startswith("Bearer ") else ""
            with LOCK:
                state.append(
                    "requests.jsonl", {"path": self.path, "body": raw.decode("utf-8", "replace")}
                )
            if len(raw) > 1024 * 1024:
                return self._answer(413, {"detail": "body too large"})
            try:
                body = json.loads(raw or b"{}")
            except ValueError:
                return self._answer(400, {"detail": "body is not JSON"})
            if self.path == "/api/v1/enroll":
                return self.enroll(body)
            if self.path == "/api/v1/checkin":
                return self.checkin(body, token)
            return self._answer(404, {"detail": "not found"})

        def enroll(self, body: dict) -> None:
            if body.get("secret") != SECRET:
                return self._answer(401, {"detail": "bad enrollment secret"})
            with LOCK:
                tokens = state._read("tokens.json", {})
                device = next(
                    (d for t, d in tokens.items() if d["machine_id"] == body.get("machine_id")),
                    None,
                )
                device_id = device["device_id"] if device else str(uuid.uuid4())
                token = uuid.uuid4().hex
                tokens[token] = {"device_id": device_id, "machine_id": body.get("machine_id")}
                state._write("tokens.json", tokens)
            self._answer(
                201,
                {
                    "device_id": device_id,
                    "token": token,
                    "policy": {"checkin_interval_seconds": 120},
                    "policy_version": 3,
                },
            )

        def checkin(self, body: dict, token: str) -> None:
            with LOCK:
                item = state.pop_plan()
            if item and item.get("sleep"):
                time.sleep(item["sleep"])
                item = None
            if item and "status" in item:
                return self._answer(
                    item["status"], item.get("body", {"detail": "planned"}), item.get("headers")
                )
            tokens = state._read("tokens.json", {})
            revoked = set(state._read("revoked.json", []))
            if token not in tokens or token in revoked:
                return self._answer(401, {"detail": "unknown or revoked token"})
            if body.get("device_id") != tokens[token]["device_id"]:
                return self._answer(404, {"detail": "no such device"})
            for key in ("report_id", "created_at", "agent_version"):
                if not body.get(key):
                    return self._answer(422, {"detail": "field required", "field": key})
            with LOCK:
                dup = not state.store(body)
            if item and item.get("kill_after_store"):
                os._exit(1)  # stored, never answered: the agent must retry, we answer duplicate
            self._answer(
                200,
                {
                    "status": "duplicate" if dup else "stored",
                    "policy": {"checkin_interval_seconds": 120},
                    "policy_version": 4,
                    "server_time": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                },
            )

    return Handler


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("state")
    ap.add_argument("--cert")
    ap.add_argument("--key")
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--tls-max", choices=("1.1", "1.2", "1.3"))
    ap.add_argument("--plain", action="store_true")
    a = ap.parse_args()
    state = State(Path(a.state))
    state.root.mkdir(parents=True, exist_ok=True)
    httpd = ThreadingHTTPServer(("127.0.0.1", a.port), make_handler(state))
    if not a.plain:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(a.cert, a.key)
        if a.tls_max == "1.1":
            # OpenSSL 3 allows TLS 1.0/1.1 only at security level 0.
            ctx.set_ciphers("DEFAULT:@SECLEVEL=0")
            warnings.simplefilter("ignore", DeprecationWarning)
            ctx.minimum_version = ssl.TLSVersion.TLSv1_1
            ctx.maximum_version = ssl.TLSVersion.TLSv1_1
        httpd.socket = ctx.wrap_socket(httpd.socket, server_side=True)
    print(httpd.server_address[1], flush=True)
    httpd.serve_forever()


if __name__ == "__main__":
    sys.exit(main())
