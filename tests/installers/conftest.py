"""Fixtures for the installer tests: the frozen binary and the packages, built once per session."""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.installers.helpers import ROOT, VENV_BIN


@pytest.fixture(scope="session")
def source(tmp_path_factory) -> Path:
    """A snapshot of the sources the binary is built from, taken once per session.

    Seven other engineers commit to the shared tree while tests run; building from one
    snapshot and running the package from the same snapshot keeps both sides equal (CI's
    tree is static, so there it changes nothing).
    """
    snap = tmp_path_factory.mktemp("source")
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    for folder in ("agent", "rules", "installers", "docs"):
        shutil.copytree(ROOT / folder, snap / folder, ignore=ignore)
    (snap / "scripts").mkdir()
    for script in ("build-binary", "build-deb"):
        shutil.copy2(ROOT / "scripts" / script, snap / "scripts" / script)
    (snap / ".venv").symlink_to(ROOT / ".venv")
    head = subprocess.run(
        ["git", "-C", str(ROOT), "rev-parse", "HEAD"], capture_output=True, text=True
    ).stdout.strip()
    (snap / "COMMIT").write_text(head)
    return snap


@pytest.fixture(scope="session")
def binary(source, tmp_path_factory) -> Path:
    """The onefile agent, built by scripts/build-binary (the command IT's build runs)."""
    out = tmp_path_factory.mktemp("pyinstaller")
    dist, work = out / "dist", out / "work"
    env = {**os.environ, "PHIWATCH_BUILD_COMMIT": (source / "COMMIT").read_text()}
    result = subprocess.run(
        [str(source / "scripts" / "build-binary"), "--dist", str(dist), "--work", str(work)],
        capture_output=True,
        text=True,
        cwd=source,
        env=env,
        timeout=1200,
    )
    assert result.returncode == 0, result.stderr[-4000:]
    path = Path(result.stdout.strip().splitlines()[-1])
    assert path == dist / "phiwatch" and path.is_file()
    return path


@pytest.fixture(scope="session")
def packages(source, binary, tmp_path_factory) -> dict[str, Path]:
    """The .deb and the tarball built from that binary (gzip: the fastest dpkg-deb codec)."""
    out = tmp_path_factory.mktemp("packages")
    result = subprocess.run(
        [
            str(source / "scripts" / "build-deb"),
            "--binary",
            str(binary),
            "--out",
            str(out),
            "--compress",
            "gzip",
        ],
        capture_output=True,
        text=True,
        cwd=source,
        timeout=600,
    )
    assert result.returncode == 0, result.stderr
    deb, tarball = (Path(line) for line in result.stdout.split())
    return {"deb": deb, "tarball": tarball}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Server:
    url: str
    fingerprint: str
    home: Path
    env: dict[str, str]

    def cli(self, *args: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [str(VENV_BIN / "phiwatch-server"), *args],
            capture_output=True,
            text=True,
            env=self.env,
            timeout=120,
        )


FINGERPRINT = re.compile(r"\b((?:[0-9A-Fa-f]{2}:){31}[0-9A-Fa-f]{2}|[0-9A-Fa-f]{64})\b")
URL = re.compile(r"https://[^\s\"']+")


@pytest.fixture
def server(tmp_path) -> Iterator[Server]:
    """A real `phiwatch-server run` on a free port (SQLite, its own self-signed certificate)."""
    home = tmp_path / "server"
    env = {**os.environ, "PHIWATCH_SERVER_HOME": str(home)}
    env.pop("DATABASE_URL", None)
    port = free_port()
    exe = VENV_BIN / "phiwatch-server"
    if not exe.exists():
        pytest.skip("phiwatch-server is not installed")
    proc = subprocess.Popen(
        [str(exe), "run", "--bind", f"127.0.0.1:{port}"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=env,
    )
    lines: list[str] = []
    found: dict[str, str] = {}
    done = threading.Event()

    def read() -> None:
        # Reads until the server says where it is, then keeps draining so it never blocks.
        for line in proc.stdout:  # type: ignore[union-attr]
            lines.append(line)
            if "url" not in found and (m := URL.search(line)):
                found["url"] = m.group(0).rstrip("/.,")
            if "fp" not in found and (m := FINGERPRINT.search(line)):
                found["fp"] = m.group(1)
            if len(found) == 2:
                done.set()
        done.set()

    threading.Thread(target=read, daemon=True).start()
    try:
        done.wait(120)
        if proc.poll() is not None and len(found) < 2:
            output = "".join(lines)
            if "not implemented" in output:
                pytest.skip("phiwatch-server run is not implemented yet")
            pytest.fail(f"phiwatch-server run exited {proc.returncode}:\n{output[-3000:]}")
        assert len(found) == 2, "server printed no URL and fingerprint:\n" + "".join(lines)
        for _ in range(600):  # ready when it accepts connections (at most ~60 s)
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                time.sleep(0.1)
        yield Server(found["url"], found["fp"], home, env)
    finally:
        proc.terminate()
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def which(name: str) -> str | None:
    return shutil.which(name)
