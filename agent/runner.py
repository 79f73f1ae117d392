"""The one way posture checks and inventory read the machine: commands and files.

Every command is an argument list (never a shell), runs with ``LC_ALL=C``, no stdin (so
nothing can prompt) and a timeout. Every read goes through a :class:`Runner`, so

- :class:`LiveRunner` reads this machine,
- :class:`RecordingRunner` reads this machine and keeps what it read
  (``phiwatch posture --record FILE``),
- :class:`ReplayRunner` answers from such a file on any OS (``--replay FILE``) - the
  file names the OS it was recorded on and the probes are chosen by it.

Failures never raise: a missing binary, a timeout or a permission error comes back as a
result with ``error`` set, and the probe turns it into an ``unknown`` verdict.

Replay file (JSON, ``format: phiwatch-posture-replay/1``)::

    {"format": "phiwatch-posture-replay/1", "os": "linux", "admin": false,
     "recorded_at": "...", "agent_version": "0.1.0",
     "env": {"XDG_CURRENT_DESKTOP": "GNOME"},
     "commands": {"<key>": {"rc": 0, "stdout": "...", "stderr": ""} | {"error": "not_found"}},
     "files": {"/etc/os-release": {"text": "..."} | {"error": "not_found"}},
     "dirs": {"/etc/systemd/logind.conf.d": ["10-idle.conf"] | null}}

The key of a command is ``shlex.join(argv)`` unless the caller names it (PowerShell
scripts are keyed ``powershell:<name>``, not by their full text). Anything a replay file
does not hold reads as absent: an unlisted command is "command not found", an unlisted
file or folder does not exist. That is how hand-made fixtures model missing tools.
"""

from __future__ import annotations

import datetime as _dt
import json
import os
import shlex
import signal
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psutil

from agent import __version__

REPLAY_FORMAT = "phiwatch-posture-replay/1"
DEFAULT_TIMEOUT = 5.0
# Files the probes read are small config files; anything bigger is not what we expect.
READ_LIMIT = 1 << 20

# error values of CommandResult / FileResult
NOT_FOUND = "not_found"
TIMEOUT = "timeout"
PERMISSION = "permission"
FAILED = "failed"  # could not start for another OS reason


def this_os() -> str:
    """linux, darwin or windows (the names DESIGN.md and the replay files use)."""
    if sys.platform.startswith("win"):
        return "windows"
    if sys.platform == "darwin":
        return "darwin"
    return "linux"


def command_key(argv: list[str] | tuple[str, ...]) -> str:
    return shlex.join(argv)


@dataclass(frozen=True)
class CommandResult:
    key: str
    rc: int | None = None
    stdout: str = ""
    stderr: str = ""
    error: str | None = None  # None, not_found, timeout, permission, failed

    @property
    def ok(self) -> bool:
        return self.error is None and self.rc == 0

    def to_json(self) -> dict[str, Any]:
        if self.error:
            return {"error": self.error}
        return {"rc": self.rc, "stdout": self.stdout, "stderr": self.stderr}


@dataclass(frozen=True)
class FileResult:
    path: str
    text: str | None = None
    error: str | None = None  # None, not_found, permission, failed

    @property
    def ok(self) -> bool:
        return self.error is None and self.text is not None

    def to_json(self) -> dict[str, Any]:
        return {"error": self.error} if self.error else {"text": self.text}


class Runner:
    """What probes may use to look at a machine. Subclasses answer; none raises."""

    os: str = "linux"

    def run(
        self, argv: list[str], *, timeout: float = DEFAULT_TIMEOUT, key: str | None = None,
        env: dict[str, str] | None = None,
    ) -> CommandResult:
        raise NotImplementedError

    def read(self, path: str) -> FileResult:
        raise NotImplementedError

    def listdir(self, path: str) -> list[str] | None:
        """Sorted entry names, or None when the folder is missing or unreadable."""
        raise NotImplementedError

    def getenv(self, name: str) -> str | None:
        raise NotImplementedError

    def is_admin(self) -> bool:
        raise NotImplementedError


def _is_admin_live() -> bool:
    if os.name == "nt":
        try:
            import ctypes

            return bool(ctypes.windll.shell32.IsUserAnAdmin())  # type: ignore[attr-defined]
        except Exception:
            return False
    return os.geteuid() == 0


def _kill_tree(proc: subprocess.Popen) -> None:
    """Kill a timed-out command and its descendants, then reap it."""
    try:
        children = psutil.Process(proc.pid).children(recursive=True)
    except psutil.Error:
        children = []
    if os.name != "nt":
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except OSError:
            pass
    for child in [*children]:
        try:
            child.kill()
        except psutil.Error:
            pass
    proc.kill()
    try:
        proc.communicate(timeout=2)
    except subprocess.TimeoutExpired:
        # Something escaped into another session and holds our pipes: let it go.
        for pipe in (proc.stdout, proc.stderr):
            if pipe:
                pipe.close()
        proc.wait()


class LiveRunner(Runner):
    """Reads this machine. ``max_timeout`` caps every command's timeout (seconds)."""

    def __init__(self, max_timeout: float | None = None) -> None:
        self.os = this_os()
        self.max_timeout = max_timeout

    def run(
        self, argv: list[str], *, timeout: float = DEFAULT_TIMEOUT, key: str | None = None,
        env: dict[str, str] | None = None,
    ) -> CommandResult:
        key = key or command_key(argv)
        if self.max_timeout is not None:
            timeout = min(timeout, self.max_timeout)
        # LC_ALL=C: the text parsers below expect untranslated output (reference 0.3).
        full_env = {**os.environ, "LC_ALL": "C", "LANG": "C", **(env or {})}
        kwargs: dict[str, Any] = {}
        if os.name == "nt":
            kwargs["creationflags"] = getattr(subprocess, "CREATE_NO_WINDOW", 0)
        else:
            # Own process group: on timeout we kill the tool *and* anything it started,
            # or a grandchild holding the pipes open would hang us past the timeout.
            kwargs["start_new_session"] = True
        try:
            proc = subprocess.Popen(
                list(argv), stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                stderr=subprocess.PIPE, env=full_env, **kwargs,
            )
        except FileNotFoundError:
            return CommandResult(key, error=NOT_FOUND)
        except PermissionError:
            return CommandResult(key, error=PERMISSION)
        except OSError:
            return CommandResult(key, error=FAILED)
        try:
            stdout, stderr = proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            _kill_tree(proc)
            return CommandResult(key, error=TIMEOUT)
        return CommandResult(
            key, proc.returncode, stdout.decode("utf-8", "replace"), stderr.decode("utf-8", "replace"),
        )

    def read(self, path: str) -> FileResult:
        try:
            with open(path, "rb") as f:
                data = f.read(READ_LIMIT)
        except FileNotFoundError:
            return FileResult(path, error=NOT_FOUND)
        except NotADirectoryError:
            return FileResult(path, error=NOT_FOUND)
        except PermissionError:
            return FileResult(path, error=PERMISSION)
        except OSError:
            return FileResult(path, error=FAILED)
        return FileResult(path, data.decode("utf-8", "replace"))

    def listdir(self, path: str) -> list[str] | None:
        try:
            return sorted(os.listdir(path))
        except OSError:
            return None

    def getenv(self, name: str) -> str | None:
        return os.environ.get(name)

    def is_admin(self) -> bool:
        return _is_admin_live()


class RecordingRunner(Runner):
    """Reads through ``inner`` and keeps every answer, for ``save()``."""

    def __init__(self, inner: Runner | None = None) -> None:
        self.inner = inner or LiveRunner()
        self.os = self.inner.os
        self.commands: dict[str, dict[str, Any]] = {}
        self.files: dict[str, dict[str, Any]] = {}
        self.dirs: dict[str, list[str] | None] = {}
        self.env: dict[str, str | None] = {}
        self._admin: bool | None = None

    def run(
        self, argv: list[str], *, timeout: float = DEFAULT_TIMEOUT, key: str | None = None,
        env: dict[str, str] | None = None,
    ) -> CommandResult:
        result = self.inner.run(argv, timeout=timeout, key=key, env=env)
        self.commands[result.key] = result.to_json()
        return result

    def read(self, path: str) -> FileResult:
        result = self.inner.read(path)
        self.files[path] = result.to_json()
        return result

    def listdir(self, path: str) -> list[str] | None:
        names = self.inner.listdir(path)
        self.dirs[path] = names
        return names

    def getenv(self, name: str) -> str | None:
        value = self.inner.getenv(name)
        self.env[name] = value
        return value

    def is_admin(self) -> bool:
        if self._admin is None:
            self._admin = self.inner.is_admin()
        return self._admin

    def to_json(self) -> dict[str, Any]:
        return {
            "format": REPLAY_FORMAT,
            "os": self.os,
            "admin": self.is_admin(),
            "recorded_at": _dt.datetime.now(_dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "agent_version": __version__,
            "env": {k: v for k, v in self.env.items() if v is not None},
            "commands": self.commands,
            "files": self.files,
            "dirs": self.dirs,
        }

    def save(self, path: str | Path) -> None:
        """Write the replay file (0600: it describes this machine)."""
        text = json.dumps(self.to_json(), indent=1, sort_keys=True)
        fd = os.open(str(path), os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text + "\n")


class ReplayError(ValueError):
    """A replay file that cannot be used; the message says why and where."""


class ReplayRunner(Runner):
    """Answers from a replay file; anything it does not hold reads as absent."""

    def __init__(self, data: dict[str, Any], source: str = "<replay>") -> None:
        if not isinstance(data, dict) or data.get("format") != REPLAY_FORMAT:
            raise ReplayError(f"{source}: not a phiwatch replay file (format must be {REPLAY_FORMAT!r})")
        if data.get("os") not in ("linux", "darwin", "windows"):
            raise ReplayError(f"{source}: field 'os' must be linux, darwin or windows")
        for name in ("commands", "files", "dirs", "env"):
            if not isinstance(data.get(name, {}), dict):
                raise ReplayError(f"{source}: field {name!r} must be an object")
        for name in ("commands", "files"):
            for key, entry in data.get(name, {}).items():
                if not isinstance(entry, dict):
                    raise ReplayError(f"{source}: {name}[{key!r}] must be an object")
        for key, names in data.get("dirs", {}).items():
            if names is not None and not (isinstance(names, list)
                                          and all(isinstance(n, str) for n in names)):
                raise ReplayError(f"{source}: dirs[{key!r}] must be a list of names or null")
        self.data = data
        self.source = source
        self.os = data["os"]

    @classmethod
    def load(cls, path: str | Path) -> ReplayRunner:
        try:
            text = Path(path).read_text(encoding="utf-8")
        except OSError as e:
            raise ReplayError(f"{path}: cannot read ({e.strerror or type(e).__name__})") from e
        try:
            data = json.loads(text)
        except json.JSONDecodeError as e:
            raise ReplayError(f"{path}: not JSON (line {e.lineno}: {e.msg})") from e
        return cls(data, str(path))

    def run(
        self, argv: list[str], *, timeout: float = DEFAULT_TIMEOUT, key: str | None = None,
        env: dict[str, str] | None = None,
    ) -> CommandResult:
        key = key or command_key(argv)
        entry = self.data.get("commands", {}).get(key)
        if entry is None:
            return CommandResult(key, error=NOT_FOUND)
        if entry.get("error"):
            return CommandResult(key, error=str(entry["error"]))
        return CommandResult(
            key, int(entry.get("rc", 0)), str(entry.get("stdout", "")), str(entry.get("stderr", ""))
        )

    def read(self, path: str) -> FileResult:
        entry = self.data.get("files", {}).get(path)
        if entry is None:
            return FileResult(path, error=NOT_FOUND)
        if entry.get("error"):
            return FileResult(path, error=str(entry["error"]))
        return FileResult(path, str(entry.get("text", "")))

    def listdir(self, path: str) -> list[str] | None:
        names = self.data.get("dirs", {}).get(path)
        return sorted(names) if isinstance(names, list) else None

    def getenv(self, name: str) -> str | None:
        value = self.data.get("env", {}).get(name)
        return None if value is None else str(value)

    def is_admin(self) -> bool:
        return bool(self.data.get("admin", False))
