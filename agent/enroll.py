"""Enrollment: trade an enrollment secret for a device token, and pin the server.

What enrolling leaves in the state dir:
- ``enrollment.json``: server URL, device id, the pin (fingerprint, or ``server-ca.pem``
  copied next to it), where the token is kept, when;
- the token, in the keyring or the 0600 ``device-token`` file (agent.credentials);
- ``policy.json``: the policy the server sent.

IT can make enrollment automatic: managed configuration with ``server_url``,
``enrollment_secret`` and ``fingerprint`` or ``ca_cert`` (agent.config), and
``ensure_enrolled(config)`` enrolls on first start.
"""

from __future__ import annotations

import json
import logging
import os
import platform
import shutil
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from agent import __version__, paths
from agent.config import AgentConfig, load_config
from agent.credentials import TokenStore
from agent.errors import EnrollError
from agent.transport import (
    Transport,
    TransportError,
    fetch_fingerprint,
    format_fingerprint,
    normalise_fingerprint,
)

log = logging.getLogger("phiwatch.enroll")

ENROLLMENT_FILE = "enrollment.json"
POLICY_FILE = "policy.json"
CA_COPY = "server-ca.pem"
# After a failed automatic enrollment, wait this long before trying again (no spinning).
AUTO_RETRY_SECONDS = 900


@dataclass
class Enrollment:
    server_url: str
    device_id: str
    fingerprint: str | None
    ca_cert: str | None
    token_store: str
    enrolled_at: str

    def transport(self, config: AgentConfig | None = None) -> Transport:
        cfg = config or load_config()
        return Transport(
            self.server_url,
            fingerprint=self.fingerprint,
            ca_cert=self.ca_cert,
            proxy=cfg.proxy,
            connect_timeout=cfg.connect_timeout,
            read_timeout=cfg.read_timeout,
        )


def load_enrollment(state_dir: Path | None = None) -> Enrollment | None:
    path = (state_dir or paths.state_dir()) / ENROLLMENT_FILE
    try:
        data = json.loads(path.read_text())
        return Enrollment(**{k: data.get(k) for k in Enrollment.__dataclass_fields__})
    except FileNotFoundError:
        return None
    except (ValueError, TypeError) as e:
        log.error("%s is damaged (%s); enroll again", path, e)
        return None


def _write_json(path: Path, data: dict[str, Any]) -> None:
    tmp = path.with_name(path.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as fh:
        json.dump(data, fh, indent=2, sort_keys=True)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)


def save_policy(policy: dict[str, Any] | None, version: Any, state_dir: Path | None = None) -> None:
    if isinstance(policy, dict):
        _write_json(
            (state_dir or paths.state_dir()) / POLICY_FILE,
            {"policy": policy, "policy_version": version},
        )


def machine_identity() -> dict[str, str]:
    """hostname, machine_id, hardware_serial, os, os_version of this machine.

    machine_id is what the server uses to recognise a re-imaged or re-enrolled laptop;
    ``PHIWATCH_MACHINE_ID`` overrides it (cloned VMs, tests running several agents)."""
    system = {"Linux": "linux", "Darwin": "darwin", "Windows": "windows"}.get(
        platform.system(), platform.system().lower()
    )
    machine_id = os.environ.get("PHIWATCH_MACHINE_ID") or ""
    serial = ""
    if system == "linux":
        # systemd's machine-id(5); the D-Bus copy on systems without systemd.
        for p in ("/etc/machine-id", "/var/lib/dbus/machine-id"):
            if not machine_id:
                machine_id = _read(p)
        serial = _read("/sys/class/dmi/id/product_serial")  # readable by root only
    elif system == "darwin":
        out = _run(["ioreg", "-rd1", "-c", "IOPlatformExpertDevice"])
        for line in out.splitlines():
            if '"IOPlatformUUID"' in line and not machine_id:
                machine_id = line.split("=")[-1].strip().strip('"')
            if '"IOPlatformSerialNumber"' in line:
                serial = line.split("=")[-1].strip().strip('"')
    elif system == "windows":
        try:
            import winreg

            with winreg.OpenKey(winreg.HKEY_LOCAL_MACHINE, r"SOFTWARE\Microsoft\Cryptography") as k:
                machine_id = machine_id or str(winreg.QueryValueEx(k, "MachineGuid")[0])
        except OSError:
            pass
    return {
        "hostname": socket.gethostname(),
        "machine_id": machine_id or socket.gethostname(),
        "hardware_serial": serial,
        "os": system,
        "os_version": platform.release() if system != "darwin" else platform.mac_ver()[0],
        "agent_version": __version__,
    }


def _read(path: str) -> str:
    try:
        return Path(path).read_text().strip()
    except OSError:
        return ""


def _run(argv: list[str]) -> str:
    try:
        return subprocess.run(argv, capture_output=True, text=True, timeout=10).stdout
    except (OSError, subprocess.SubprocessError):
        return ""


def enroll(
    server_url: str,
    secret: str,
    *,
    fingerprint: str | None = None,
    ca_cert: str | None = None,
    trust_on_first_use: bool = False,
    config: AgentConfig | None = None,
    state_dir: Path | None = None,
) -> Enrollment:
    """Enroll this device. Raises EnrollError (or a TransportError) with a clear reason."""
    cfg = config or load_config()
    state = state_dir or paths.state_dir()
    if sum(bool(x) for x in (fingerprint, ca_cert, trust_on_first_use)) > 1:
        raise EnrollError("give one of --fingerprint, --ca-cert or --trust-on-first-use")
    if not secret:
        raise EnrollError("an enrollment secret is needed (--secret, or managed configuration)")
    if trust_on_first_use:
        fingerprint = fetch_fingerprint(server_url, timeout=cfg.connect_timeout)
        log.warning("trusting on first use: server certificate %s", format_fingerprint(fingerprint))
    if fingerprint:
        fingerprint = normalise_fingerprint(fingerprint)
    pinned_ca = None
    if ca_cert:
        src = Path(ca_cert).expanduser()
        if not src.is_file():
            raise EnrollError(f"CA file {src} does not exist")
        # Keep our own copy: the pin must not change when the original file does.
        pinned_ca = state / CA_COPY
        tmp = pinned_ca.with_name(CA_COPY + ".tmp")
        shutil.copyfile(src, tmp)
        tmp.chmod(0o600)
        os.replace(tmp, pinned_ca)
    transport = Transport(
        server_url,
        fingerprint=fingerprint,
        ca_cert=str(pinned_ca) if pinned_ca else None,
        proxy=cfg.proxy,
        connect_timeout=cfg.connect_timeout,
        read_timeout=cfg.read_timeout,
    )
    try:
        resp = transport.request(
            "POST", "/api/v1/enroll", body={"secret": secret, **machine_identity()}
        )
    finally:
        transport.close()
    if resp.status == 401:
        raise EnrollError(
            f"the server refused the enrollment secret ({resp.detail}): it is "
            "wrong, expired or used up; ask IT for a new one"
        )
    if resp.status not in (200, 201) or not resp.body or "token" not in resp.body:
        raise EnrollError(f"enrollment failed: HTTP {resp.status}: {resp.detail}")
    store = TokenStore(state)
    old = load_enrollment(state)
    if old and old.token_store != store.kind:
        TokenStore(state, kind=old.token_store).delete()
    kind = store.save(str(resp.body["token"]))
    result = Enrollment(
        server_url=transport.server_url,
        device_id=str(resp.body["device_id"]),
        fingerprint=fingerprint,
        ca_cert=str(pinned_ca) if pinned_ca else None,
        token_store=kind,
        enrolled_at=time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    )
    _write_json(state / ENROLLMENT_FILE, result.__dict__)
    save_policy(resp.body.get("policy"), resp.body.get("policy_version"), state)
    # A new token clears a "needs re-enrollment" mark left by a 401.
    from agent.outbox import Outbox

    box = Outbox(state / "outbox.sqlite3")
    box.clear_reenroll()
    box.set_meta("auto_enroll_failed_at", None)
    box.close()
    log.info("enrolled as device %s at %s", result.device_id, result.server_url)
    return result


def ensure_enrolled(config: AgentConfig | None = None, state_dir: Path | None = None) -> bool:
    """True when the device holds a usable enrollment. Otherwise, when managed (or user)
    configuration names a server and a secret, enroll now; a failure is logged and not
    retried for AUTO_RETRY_SECONDS, so a daemon calling this every tick does not spin."""
    from agent.outbox import Outbox

    cfg = config or load_config()
    state = state_dir or paths.state_dir()
    current = load_enrollment(state)
    box = Outbox(state / "outbox.sqlite3")
    try:
        needs = box.get_meta("needs_reenroll")
        if current and not needs and TokenStore(state, kind=current.token_store).load():
            return True
        if not (cfg.server_url and cfg.enrollment_secret):
            if needs:
                log.warning("%s", needs)
            return False
        failed_at = float(box.get_meta("auto_enroll_failed_at") or 0)
        if time.time() - failed_at < AUTO_RETRY_SECONDS:
            return False
    finally:
        box.close()
    try:
        enroll(
            cfg.server_url,
            cfg.enrollment_secret,
            fingerprint=cfg.fingerprint,
            ca_cert=cfg.ca_cert,
            config=cfg,
            state_dir=state,
        )
        return True
    except (EnrollError, TransportError, OSError) as e:
        log.error("automatic enrollment with %s failed: %s", cfg.server_url, e)
        box = Outbox(state / "outbox.sqlite3")
        box.set_meta("auto_enroll_failed_at", str(time.time()))
        box.set_meta("last_error", f"automatic enrollment failed: {e}")
        box.close()
        return False
