"""HTTPS to the phiwatch server, and nothing else.

- HTTPS only: an ``http://`` URL is refused before any socket opens, and redirects are
  not followed (a redirect to plain HTTP would otherwise leak the bearer token).
- TLS 1.2 minimum, set on the ssl context that our adapter hands to urllib3, so it holds
  whatever the OpenSSL defaults of the machine are.
- Pinning, one of:
  * ``fingerprint``: SHA-256 of the server's leaf certificate (what ``phiwatch-server run``
    prints). urllib3 checks it on every new connection (``assert_fingerprint``); the chain
    and host name are not checked, the pin is stronger than both.
  * ``ca_cert``: a PEM file; only certificates it signs are accepted, host name checked.
    The OS trust store is not used, so a corporate TLS-inspection CA cannot intercept.
  * neither: the certifi bundle with host name checks (a server with a public certificate).
- Timeouts on every call: (connect, read) seconds, from the agent's settings.
- Proxies, explicitly: requests' ``trust_env`` is off (it would also let
  ``REQUESTS_CA_BUNDLE`` or ``CURL_CA_BUNDLE`` replace our pin, and read ~/.netrc). The
  ``proxy`` setting decides instead: ``system`` (default) asks ``urllib.request.getproxies()``
  - environment ``https_proxy``/``no_proxy`` everywhere, plus the Windows registry
  (Internet Settings) and macOS System Configuration - and honours its bypass list;
  ``none`` connects directly; a URL uses that proxy. The pin still applies through a
  proxy (CONNECT tunnel), so a proxy sees only ciphertext.
"""

from __future__ import annotations

import hashlib
import json
import socket
import ssl
import urllib.request
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import requests
from requests.adapters import HTTPAdapter

from agent import __version__
from agent.errors import InsecureURLError, NetworkError, PinError, TLSError, TransportError

USER_AGENT = f"phiwatch-agent/{__version__}"


@dataclass
class Response:
    status: int
    body: dict[str, Any] | None
    headers: dict[str, str] = field(default_factory=dict)

    @property
    def detail(self) -> str:
        """The server's error text, with the field it names (protocol error shape)."""
        if not isinstance(self.body, dict):
            return f"HTTP {self.status}"
        detail = str(self.body.get("detail") or f"HTTP {self.status}")
        if self.body.get("field"):
            detail += f" (field {self.body['field']})"
        return detail[:500]


def normalise_fingerprint(value: str) -> str:
    """Hex SHA-256, with or without colons/spaces, any case -> 64 lowercase hex digits."""
    fp = value.replace(":", "").replace(" ", "").strip().lower()
    if fp.startswith("sha256"):
        fp = fp[6:].lstrip("=")
    if len(fp) != 64 or any(c not in "0123456789abcdef" for c in fp):
        raise TransportError(
            "fingerprint must be the certificate's SHA-256: 64 hex digits, colons allowed"
        )
    return fp


def format_fingerprint(fp: str) -> str:
    fp = normalise_fingerprint(fp)
    return ":".join(fp[i : i + 2] for i in range(0, 64, 2)).upper()


def check_url(url: str) -> str:
    parts = urlsplit(url.strip())
    if parts.scheme.lower() != "https":
        raise InsecureURLError(
            f"refusing {parts.scheme or 'a schemeless'} URL {url!r}: phiwatch talks to its "
            "server over HTTPS only"
        )
    if not parts.hostname:
        raise InsecureURLError(f"no host in server URL {url!r}")
    return url.strip().rstrip("/")


def make_ssl_context(ca_cert: str | None = None, fingerprint: str | None = None) -> ssl.SSLContext:
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    # HIPAA transmission security (164.312(e)) in practice: TLS 1.2+ (NIST SP 800-52r2).
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    if fingerprint:
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE  # the fingerprint is checked by urllib3 instead
    elif ca_cert:
        ctx.load_verify_locations(cafile=ca_cert)
    else:
        import certifi

        ctx.load_verify_locations(cafile=certifi.where())
    return ctx


class _PinnedAdapter(HTTPAdapter):
    """Hands our ssl context (and the fingerprint) to every urllib3 pool, direct or proxied."""

    def __init__(self, ctx: ssl.SSLContext, fingerprint: str | None):
        self._ctx = ctx
        self._fingerprint = fingerprint
        super().__init__(max_retries=0)  # retries are the outbox's job

    def _tls_kwargs(self, kwargs: dict[str, Any]) -> dict[str, Any]:
        kwargs["ssl_context"] = self._ctx
        if self._fingerprint:
            kwargs["assert_fingerprint"] = self._fingerprint
        return kwargs

    def init_poolmanager(self, connections, maxsize, block=False, **kwargs):
        super().init_poolmanager(connections, maxsize, block, **self._tls_kwargs(kwargs))

    def proxy_manager_for(self, proxy, **kwargs):
        return super().proxy_manager_for(proxy, **self._tls_kwargs(kwargs))


def system_proxy_for(url: str, setting: str = "system") -> dict[str, str]:
    """The proxies requests should use for ``url`` (see the module docstring)."""
    if setting == "none":
        return {}
    if setting != "system":
        return {"https": setting}
    host = urlsplit(url).hostname or ""
    proxies = urllib.request.getproxies()
    # Loopback never goes through a proxy (as curl does), whatever no_proxy says.
    if host in ("localhost", "127.0.0.1", "::1") or urllib.request.proxy_bypass(host):
        return {}
    proxy = proxies.get("https") or proxies.get("all")
    return {"https": proxy} if proxy else {}


class Transport:
    """One server, one pin. ``request`` returns a Response for any HTTP status and raises
    a TransportError subclass only when no HTTP answer came back."""

    def __init__(
        self,
        server_url: str,
        *,
        fingerprint: str | None = None,
        ca_cert: str | None = None,
        proxy: str = "system",
        connect_timeout: float = 10.0,
        read_timeout: float = 30.0,
    ):
        self.server_url = check_url(server_url)
        self.fingerprint = normalise_fingerprint(fingerprint) if fingerprint else None
        self.ca_cert = ca_cert
        self.timeout = (connect_timeout, read_timeout)
        try:
            ctx = make_ssl_context(ca_cert, self.fingerprint)
        except (OSError, ssl.SSLError) as e:
            raise PinError(f"cannot load CA file {ca_cert}: {e}") from e
        self.session = requests.Session()
        self.session.trust_env = False
        self.session.headers["User-Agent"] = USER_AGENT
        self.session.mount("https://", _PinnedAdapter(ctx, self.fingerprint))
        # requests' own verify: False with a fingerprint (urllib3 then checks the pin), the
        # CA file with a CA, True otherwise.
        self._verify: bool | str = False if self.fingerprint else (ca_cert or True)
        self.proxies = system_proxy_for(self.server_url, proxy)

    def close(self) -> None:
        self.session.close()

    def request(
        self,
        method: str,
        path: str,
        *,
        token: str | None = None,
        body: dict[str, Any] | None = None,
        timeout: tuple[float, float] | None = None,
    ) -> Response:
        headers = {"Accept": "application/json"}
        data = None
        if token:
            headers["Authorization"] = f"Bearer {token}"
        if body is not None:
            headers["Content-Type"] = "application/json"
            data = json.dumps(body, separators=(",", ":")).encode()
        url = self.server_url + path
        try:
            r = self.session.request(
                method,
                url,
                data=data,
                headers=headers,
                timeout=timeout or self.timeout,
                verify=self._verify,
                proxies=self.proxies,
                allow_redirects=False,
            )
        except requests.exceptions.SSLError as e:
            raise self._explain_tls(e) from None
        except requests.exceptions.ConnectTimeout:
            raise NetworkError(
                f"{self.server_url}: no connection within {self.timeout[0]:g} s"
            ) from None
        except requests.exceptions.ReadTimeout:
            raise NetworkError(
                f"{self.server_url}: no answer within {self.timeout[1]:g} s"
            ) from None
        except requests.exceptions.RequestException as e:
            raise NetworkError(
                f"{self.server_url}: cannot reach the server ({_short(e)})"
            ) from None
        try:
            parsed = r.json() if r.content else None
        except ValueError:
            parsed = None
        if 300 <= r.status_code < 400:
            # Redirects are never followed: say so instead of looking like a success.
            parsed = {"detail": f"server redirected to {r.headers.get('Location')!r}; not followed"}
        return Response(
            r.status_code, parsed if isinstance(parsed, dict) else None, dict(r.headers)
        )

    def _explain_tls(self, e: Exception) -> TransportError:
        text = str(e)
        if "Fingerprints did not match" in text:
            got = text.split('got "')[-1].split('"')[0] if 'got "' in text else "?"
            return PinError(
                f"{self.server_url}: the server's certificate does not match the pinned "
                f"fingerprint (pinned {format_fingerprint(self.fingerprint)}, server shows "
                f"{_fmt_or_raw(got)}). The certificate was replaced or the connection is "
                "intercepted; if IT replaced it, re-enroll with the new fingerprint."
            )
        if "CERTIFICATE_VERIFY_FAILED" in text:
            which = f"the pinned CA {self.ca_cert}" if self.ca_cert else "a trusted CA"
            return PinError(
                f"{self.server_url}: the server's certificate is not signed by {which} "
                f"or does not name this host ({_short(e)}). Refusing to talk to it."
            )
        if "UNSUPPORTED_PROTOCOL" in text or "PROTOCOL_VERSION" in text or "NO_PROTOCOLS" in text:
            return TLSError(
                f"{self.server_url}: the server offers only TLS older than 1.2; refused"
            )
        if (
            "WRONG_VERSION_NUMBER" in text
            or "record layer failure" in text
            or "http request" in text.lower()
        ):
            return TLSError(
                f"{self.server_url}: the server did not answer with TLS (plain HTTP?); refused"
            )
        return TLSError(f"{self.server_url}: TLS handshake failed ({_short(e)})")


def fetch_fingerprint(server_url: str, timeout: float = 10.0) -> str:
    """SHA-256 of the certificate the server presents now (trust on first use only)."""
    parts = urlsplit(check_url(server_url))
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    try:
        with socket.create_connection((parts.hostname, parts.port or 443), timeout=timeout) as s:
            with ctx.wrap_socket(s, server_hostname=parts.hostname) as tls:
                der = tls.getpeercert(binary_form=True)
    except ssl.SSLError as e:
        raise TLSError(f"{server_url}: TLS handshake failed ({e.reason or e})") from None
    except OSError as e:
        raise NetworkError(f"{server_url}: cannot reach the server ({e.strerror or e})") from None
    return hashlib.sha256(der).hexdigest()


def _fmt_or_raw(fp: str) -> str:
    try:
        return format_fingerprint(fp)
    except TransportError:
        return fp


def _short(e: BaseException) -> str:
    """The innermost reason of a requests/urllib3 error, without the URL noise."""
    inner: BaseException = e
    while inner.args and isinstance(inner.args[0], BaseException):
        inner = inner.args[0]
    reason = getattr(inner, "reason", None)
    text = str(reason or inner)
    return text[:300]
