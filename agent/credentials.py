"""Where the device token lives.

The token is the device's only credential, so it goes into the OS keyring when a real
one is available (macOS Keychain, Windows Credential Locker, Secret Service / KWallet
on a Linux desktop). A root daemon or a headless box has none (keyring then reports its
``fail`` backend, or a chainer with no backends): the token goes to a file in the state
dir that only the agent's user can read (0600, directory 0700 from agent.paths).
``phiwatch status`` shows which (``TokenStore.describe()``).
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

from agent import paths
from agent.errors import CredentialError

log = logging.getLogger("phiwatch.credentials")

SERVICE = "phiwatch"
ACCOUNT = "device-token"
TOKEN_FILE = "device-token"


def keyring_backend_name() -> str | None:
    """Name of a real keyring backend, or None when keyring has nowhere safe to write.

    ``PHIWATCH_KEYRING=0`` forces the file store (tests, support, a daemon that must not
    touch the console user's keychain)."""
    if os.environ.get("PHIWATCH_KEYRING", "1") == "0":
        return None
    try:
        import keyring
        from keyring.backends import chainer, fail
    except Exception:  # keyring missing or broken in this build: use the file
        return None
    try:
        backend = keyring.get_keyring()
    except Exception:
        return None
    if isinstance(backend, fail.Keyring) or backend.priority <= 0:
        return None
    if isinstance(backend, chainer.ChainerBackend) and not backend.backends:
        return None
    # keyrings.alt's plaintext file backends are no safer than our own 0600 file.
    if "keyrings.alt" in type(backend).__module__:
        return None
    return f"{type(backend).__module__}.{type(backend).__name__}"


class TokenStore:
    """Save, load and delete the device token; ``kind`` is "keyring" or "file"."""

    def __init__(self, state_dir: Path | None = None, kind: str | None = None):
        self.state_dir = state_dir or paths.state_dir()
        self.file = self.state_dir / TOKEN_FILE
        self.kind = kind or ("keyring" if keyring_backend_name() else "file")

    def describe(self) -> str:
        if self.kind == "keyring":
            return f"keyring ({keyring_backend_name() or 'unavailable now'})"
        return f"file {self.file} (mode 0600)"

    def save(self, token: str) -> str:
        """Store the token; returns the kind actually used (keyring falls back to file)."""
        if self.kind == "keyring":
            try:
                import keyring

                keyring.set_password(SERVICE, ACCOUNT, token)
                self._remove_file()
                return self.kind
            except Exception as e:  # locked keychain, no D-Bus session...
                log.warning("keyring refused the token (%s); using a 0600 file", type(e).__name__)
                self.kind = "file"
        self._write_file(token)
        return self.kind

    def load(self) -> str | None:
        if self.kind == "keyring":
            try:
                import keyring

                return keyring.get_password(SERVICE, ACCOUNT)
            except Exception as e:
                raise CredentialError(f"cannot read the token from the keyring: {e}") from e
        try:
            return self.file.read_text().strip() or None
        except FileNotFoundError:
            return None
        except OSError as e:
            raise CredentialError(f"cannot read {self.file}: {e.strerror}") from e

    def delete(self) -> None:
        if self.kind == "keyring":
            try:
                import keyring

                keyring.delete_password(SERVICE, ACCOUNT)
            except Exception:
                pass
        self._remove_file()

    def _write_file(self, token: str) -> None:
        tmp = self.file.with_name(self.file.name + ".tmp")
        try:
            # Created 0600 from the start: no moment where another user could read it.
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "w") as fh:
                fh.write(token)
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(tmp, self.file)
        except OSError as e:
            raise CredentialError(f"cannot write {self.file}: {e.strerror}") from e

    def _remove_file(self) -> None:
        try:
            self.file.unlink()
        except FileNotFoundError:
            pass
