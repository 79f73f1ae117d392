"""Serving: the self-signed TLS certificate, gunicorn, the fleet simulator."""
