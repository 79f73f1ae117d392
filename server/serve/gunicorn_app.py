"""gunicorn, embedded: `phiwatch-server run` is the master process.

Why gunicorn with gthread workers: Django is synchronous; several processes use both
cores, threads overlap database waits, and gthread keeps HTTPS connections alive so an
agent does not pay a TLS handshake per report. TLS 1.2 is the floor (ssl_context hook).
"""

from __future__ import annotations

import ssl

from gunicorn.app.base import BaseApplication


def ssl_context(config, default_ssl_context_factory):
    ctx = default_ssl_context_factory()
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    return ctx


class ServerApp(BaseApplication):
    def __init__(self, options: dict):
        self.options = options
        super().__init__()

    def load_config(self):
        for key, value in self.options.items():
            self.cfg.set(key, value)
        self.cfg.set("ssl_context", ssl_context)

    def load(self):
        from server.wsgi import application

        return application
