"""Build the Linux packages of the agent: a .deb (dpkg-deb) and a plain tarball.

    python installers/linux/build_deb.py --binary dist/phiwatch --out dist

Both carry the same tree (deployment.md 4.1):

    /usr/bin/phiwatch                                  the PyInstaller onefile binary
    /usr/lib/systemd/user/phiwatch.service             per-user agent, every desktop session
    /usr/lib/systemd/system/phiwatch-system.service    optional system-wide agent (disabled)
    /etc/xdg/autostart/phiwatch.desktop                fallback for desktops without systemd
    /usr/share/doc/phiwatch/agent.toml.example         the managed config IT places at
                                                       /etc/phiwatch/agent.toml
    /usr/share/doc/phiwatch/deployment.md              the deployment guide

Standard library only, so it runs on a bare build machine next to PyInstaller.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent

# (source, destination in the package, mode)
PAYLOAD = [
    (HERE / "phiwatch.service", "usr/lib/systemd/user/phiwatch.service", 0o644),
    (HERE / "phiwatch-system.service", "usr/lib/systemd/system/phiwatch-system.service", 0o644),
    (HERE / "phiwatch.desktop", "etc/xdg/autostart/phiwatch.desktop", 0o644),
    (HERE / "agent.toml", "usr/share/doc/phiwatch/agent.toml.example", 0o644),
    (ROOT / "docs" / "deployment.md", "usr/share/doc/phiwatch/deployment.md", 0o644),
]
# Files under /etc that dpkg must keep when the admin edited them (deb-control(5)).
CONFFILES = ["/etc/xdg/autostart/phiwatch.desktop"]
SCRIPTS = ["postinst", "prerm", "postrm"]


class BuildError(Exception):
    """The package cannot be built; the message says why."""


def agent_version() -> str:
    text = (ROOT / "agent" / "__init__.py").read_text()
    match = re.search(r'^__version__ = "([^"]+)"', text, re.M)
    if not match:
        raise BuildError("agent/__init__.py has no __version__")
    return match.group(1)


def deb_arch() -> str:
    try:
        return subprocess.run(
            ["dpkg", "--print-architecture"], capture_output=True, text=True, check=True, timeout=30
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError) as e:
        raise BuildError(f"dpkg --print-architecture failed: {e}") from e


def glibc_version() -> str:
    # PyInstaller does not bundle glibc (deployment.md 5.4): the binary needs at least the
    # glibc it was built against.
    libc, version = os.confstr("CS_GNU_LIBC_VERSION").split()  # e.g. "glibc 2.36"
    if libc != "glibc":
        raise BuildError(f"not a glibc system: {libc}")
    return version


def check_binary(binary: Path, version: str) -> None:
    if not binary.is_file() or not os.access(binary, os.X_OK):
        raise BuildError(f"{binary}: not an executable file (run scripts/build-binary first)")
    out = subprocess.run([str(binary), "--version"], capture_output=True, text=True, timeout=120)
    if out.stdout.strip() != f"phiwatch {version}":
        raise BuildError(
            f"{binary} --version says {out.stdout.strip()!r}, the source says {version}: rebuild it"
        )


def control(version: str, arch: str, installed_kib: int) -> str:
    return (
        "Package: phiwatch\n"
        f"Version: {version}\n"
        f"Architecture: {arch}\n"
        "Maintainer: phiwatch <it@phiwatch.example>\n"
        f"Depends: libc6 (>= {glibc_version()})\n"
        "Section: admin\n"
        "Priority: optional\n"
        f"Installed-Size: {installed_kib}\n"
        "Homepage: https://phiwatch.example\n"
        "Description: endpoint compliance agent that keeps PHI off workstations\n"
        " phiwatch finds files holding protected health information, checks disk\n"
        " encryption, screen lock, automatic logoff, removable media, firewall and\n"
        " updates, warns the engineer, and reports to the phiwatch server without\n"
        " sending any PHI value. It starts with every desktop session and enrolls\n"
        " itself from /etc/phiwatch/agent.toml.\n"
    )


def stage(root: Path, binary: Path) -> None:
    """Lay out the installed tree under root."""
    items = [(binary, "usr/bin/phiwatch", 0o755), *PAYLOAD]
    for src, dest, mode in items:
        if not src.is_file():
            raise BuildError(f"missing {src}")
        target = root / dest
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(src, target)
        target.chmod(mode)
    for d in root.rglob("*"):
        if d.is_dir():
            d.chmod(0o755)


def build_deb(binary: Path, out: Path, compress: str = "xz") -> Path:
    """Build phiwatch_<version>_<arch>.deb in out; return its path."""
    version = agent_version()
    check_binary(binary, version)
    arch = deb_arch()
    out.mkdir(parents=True, exist_ok=True)
    deb = out / f"phiwatch_{version}_{arch}.deb"
    with tempfile.TemporaryDirectory(prefix="phiwatch-deb-") as tmp:
        root = Path(tmp) / "root"
        stage(root, binary)
        size = sum(f.stat().st_size for f in root.rglob("*") if f.is_file())
        meta = root / "DEBIAN"
        meta.mkdir(mode=0o755)
        (meta / "control").write_text(control(version, arch, (size + 1023) // 1024))
        (meta / "conffiles").write_text("".join(f + "\n" for f in CONFFILES))
        for name in SCRIPTS:
            shutil.copyfile(HERE / name, meta / name)
            (meta / name).chmod(0o755)
        for f in ("control", "conffiles"):
            (meta / f).chmod(0o644)
        # --root-owner-group: files are root:root in the package without fakeroot.
        cmd = ["dpkg-deb", "--root-owner-group", f"-Z{compress}", "--build", str(root), str(deb)]
        result = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
        if result.returncode != 0:
            raise BuildError(f"dpkg-deb failed: {result.stderr.strip()}")
    return deb


def build_tarball(binary: Path, out: Path) -> Path:
    """Build phiwatch-<version>-linux-<arch>.tar.gz: the same tree under phiwatch-<version>/.

    Install by hand: tar -C / --strip-components=1 -xzf phiwatch-*.tar.gz
                     systemctl --global enable phiwatch.service
    """
    version = agent_version()
    check_binary(binary, version)
    machine = os.uname().machine
    out.mkdir(parents=True, exist_ok=True)
    tarball = out / f"phiwatch-{version}-linux-{machine}.tar.gz"
    top = f"phiwatch-{version}"
    with tempfile.TemporaryDirectory(prefix="phiwatch-tar-") as tmp:
        root = Path(tmp) / top
        stage(root, binary)

        def owned_by_root(info: tarfile.TarInfo) -> tarfile.TarInfo:
            info.uid = info.gid = 0
            info.uname = info.gname = "root"
            return info

        with tarfile.open(tarball, "w:gz") as tar:
            tar.add(root, arcname=top, filter=owned_by_root)
    return tarball


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--binary", type=Path, required=True, help="the PyInstaller binary")
    parser.add_argument("--out", type=Path, default=ROOT / "dist", help="output folder")
    parser.add_argument(
        "--compress",
        choices=("xz", "gzip", "zstd", "none"),
        default="xz",
        help="dpkg-deb compression (gzip is fastest to build)",
    )
    parser.add_argument("--no-tarball", action="store_true", help="build the .deb only")
    args = parser.parse_args(argv)
    try:
        print(build_deb(args.binary, args.out, args.compress))
        if not args.no_tarball:
            print(build_tarball(args.binary, args.out))
    except BuildError as e:
        print(f"build-deb: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
