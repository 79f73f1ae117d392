"""A TLS-terminating relay in front of the real server, for the tests only.

It presents the server's own certificate and key (read from the server's data dir), so an
agent pinned to the server's fingerprint talks through it unchanged, and it sees every
request in plaintext: the leak test searches what actually went over the wire. A hook
can act after a request was forwarded (e.g. SIGKILL the server mid-request).
"""

from __future__ import annotations

import http.client
import ssl
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

HOP = {"connection", "keep-alive", "transfer-encoding", "content-length", "host"}


class TLSRelay:
    def __init__(self, cert: Path, key: Path, upstream_port: int):
        self.upstream_port = upstream_port
        self.bodies: list[tuple[str, bytes]] = []
        self.after_forward: Callable[[str], bool] | None = None  # True: drop the answer
        relay = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *a):
                pass

            def _relay(self):
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                relay.bodies.append((self.path, body))
                ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
                ctx.check_hostname = False
                ctx.verify_mode = ssl.CERT_NONE
                up = http.client.HTTPSConnection(
                    "127.0.0.1", relay.upstream_port, context=ctx, timeout=30
                )
                headers = {k: v for k, v in self.headers.items() if k.lower() not in HOP}
                try:
                    up.request(self.command, self.path, body=body, headers=headers)
                    hook = relay.after_forward
                    if hook and hook(self.path):
                        self.close_connection = True
                        return  # no answer at all: the agent sees the connection drop
                    resp = up.getresponse()
                    data = resp.read()
                except OSError:
                    self.close_connection = True
                    return
                finally:
                    up.close()
                self.send_response(resp.status)
                for k, v in resp.getheaders():
                    if k.lower() not in HOP:
                        self.send_header(k, v)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST = _relay

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(str(cert), str(key))
        self.httpd.socket = ctx.wrap_socket(self.httpd.socket, server_side=True)
        self.port = self.httpd.server_address[1]
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"https://127.0.0.1:{self.port}"

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join(10)
