"""Which folders the agent watches, and which paths inside them it leaves alone.

A :class:`Root` is a folder plus what kind of place it is (home, a configured folder, a
removable volume, a cloud-sync folder): the kind changes how urgent a warning is and is
sent to the server as ``volume.removable`` / ``volume.cloud``.

Excludes are glob patterns over ``/``-separated path components relative to the root:
``node_modules`` excludes that folder at any depth, ``Library/Caches`` that pair of
folders at any depth. Includes (globs over the whole relative path) win over excludes.
"""

from __future__ import annotations

import fnmatch
import os
import sys
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from agent import paths

# Why each default exclude: these folders are rebuilt by tools, hold third-party code,
# or are the agent's own state; scanning them costs I/O and finds nothing the engineer
# put there. Users and IT add more with `exclude` (config) and re-include with `include`.
DEFAULT_EXCLUDES: tuple[str, ...] = (
    # VCS internals
    ".git",
    ".hg",
    ".svn",
    # package folders and virtual environments
    "node_modules",
    ".venv",
    "venv",
    ".tox",
    ".nox",
    "site-packages",
    "__pycache__",
    ".npm",
    ".yarn",
    ".pnpm-store",
    ".cargo",
    ".rustup",
    ".gradle",
    ".m2",
    "go/pkg",
    ".conda",
    "anaconda3",
    "miniconda3",
    ".pyenv",
    ".local/share/virtualenvs",
    # caches and trash (Linux/XDG, macOS, Windows)
    ".cache",
    "Library/Caches",
    "AppData/Local/Temp",
    "AppData/Local/Packages",
    ".Trash",
    ".local/share/Trash",
    # application data that is not the engineer's documents
    "Library/Containers",
    "Library/Group Containers",
    "Library/Application Support/*Cache*",
    ".mozilla",
    ".config/google-chrome",
    ".config/chromium",
    "snap",
    ".docker",
    ".vscode-server",
    ".vscode/extensions",
    ".ipython/profile_*/db",
)

# Where each cloud-sync client keeps its folder, relative to the home folder. Sources:
# Dropbox help "Where is my Dropbox folder" (~/Dropbox, "Dropbox (Team)"); Microsoft
# OneDrive sync docs (~/OneDrive, "OneDrive - Org", macOS File Provider paths under
# ~/Library/CloudStorage); Google Drive for desktop (~/Google Drive, macOS
# ~/Library/CloudStorage/GoogleDrive-<account>); Apple iCloud Drive
# (~/Library/Mobile Documents/com~apple~CloudDocs, Windows ~/iCloudDrive).
CLOUD_FOLDERS: dict[str, tuple[str, ...]] = {
    "dropbox": ("Dropbox", "Dropbox (*)", "Library/CloudStorage/Dropbox*"),
    "onedrive": ("OneDrive", "OneDrive - *", "Library/CloudStorage/OneDrive*"),
    "google_drive": (
        "Google Drive",
        "GoogleDrive",
        "My Drive",
        "Library/CloudStorage/GoogleDrive*",
    ),
    "icloud": ("Library/Mobile Documents/com~apple~CloudDocs", "iCloudDrive", "iCloud Drive"),
}
# Windows clients also publish their folder in the environment.
CLOUD_ENV = {
    "OneDrive": "onedrive",
    "OneDriveConsumer": "onedrive",
    "OneDriveCommercial": "onedrive",
}


@dataclass(frozen=True)
class Root:
    """A folder the agent watches and crawls."""

    path: Path
    kind: str = "home"  # home | configured | removable | cloud
    cloud: str | None = None  # dropbox | onedrive | google_drive | icloud
    removable: bool = False

    @property
    def key(self) -> str:
        return str(self.path)


@dataclass
class PathFilter:
    """Include/exclude globs, relative to a root. ``include`` wins over ``exclude``."""

    exclude: tuple[str, ...] = DEFAULT_EXCLUDES
    include: tuple[str, ...] = ()
    own_dirs: tuple[Path, ...] = field(default_factory=tuple)

    def excluded(self, path: str | Path, root: str | Path) -> bool:
        """True when ``path`` (inside ``root``) must be neither watched nor scanned.

        A glob matches any run of path components of its own length, at any depth:
        ``node_modules`` and ``Library/Caches`` are excluded wherever they sit."""
        p = os.path.abspath(path)
        for own in self.own_dirs:
            o = str(own)
            if p == o or p.startswith(o + os.sep):
                return True
        rel = os.path.relpath(p, os.path.abspath(root)).replace(os.sep, "/")
        if rel == "." or rel.startswith("../"):
            return False
        parts = rel.split("/")
        for g in self.include:
            if fnmatch.fnmatchcase(rel, g):
                return False
            # An ancestor folder of what an include names must be walked to reach it.
            gparts = g.split("/")
            if len(gparts) > len(parts) and all(
                fnmatch.fnmatchcase(p, gp) for p, gp in zip(parts, gparts, strict=False)
            ):
                return False
        for g in self.exclude:
            n = g.count("/") + 1
            for i in range(len(parts) - n + 1):
                if fnmatch.fnmatchcase("/".join(parts[i : i + n]), g):
                    return True
        return False


def agent_dirs() -> tuple[Path, ...]:
    """The agent's own folders: never watched (its state would trigger itself)."""
    return tuple(
        p.resolve()
        for p in (paths.config_dir(), paths.state_dir(), paths.cache_dir(), paths.log_dir())
    )


def cloud_folders(home: Path, environ: dict[str, str] | None = None) -> list[Root]:
    """Cloud-sync folders that exist under ``home`` (and, on Windows, in the environment)."""
    env = os.environ if environ is None else environ
    found: dict[Path, str] = {}
    for cloud, globs in CLOUD_FOLDERS.items():
        for g in globs:
            for p in sorted(home.glob(g)):
                if p.is_dir():
                    found.setdefault(p.resolve(), cloud)
    for var, cloud in CLOUD_ENV.items():
        value = env.get(var)
        if value and Path(value).is_dir():
            found.setdefault(Path(value).resolve(), cloud)
    return [Root(p, kind="cloud", cloud=c) for p, c in sorted(found.items())]


def cloud_of(path: str | Path, roots: Iterable[Root]) -> str | None:
    """The cloud-sync client whose folder holds ``path``, if any (innermost wins)."""
    best: Root | None = None
    p = os.path.abspath(path)
    for r in roots:
        if r.cloud and (p == r.key or p.startswith(r.key + os.sep)):
            if best is None or len(r.key) > len(best.key):
                best = r
    return best.cloud if best else None


def root_of(path: str | Path, roots: Iterable[Root]) -> Root | None:
    """The innermost root holding ``path``."""
    best: Root | None = None
    p = os.path.abspath(path)
    for r in roots:
        if p == r.key or p.startswith(r.key + os.sep):
            if best is None or len(r.key) > len(best.key):
                best = r
    return best


def default_roots(
    configured: Iterable[str | Path] | None = None, home: Path | None = None
) -> list[Root]:
    """Configured roots (``--root`` or config ``roots``), else the user's home; plus every
    cloud-sync folder found under the home, tagged (a cloud folder inside another root is
    still listed so its files are tagged, but is not watched twice: see :func:`disjoint`)."""
    home = (home or Path.home()).resolve()
    configured = [Path(c).expanduser().resolve() for c in (configured or [])]
    roots = [Root(p, kind="configured") for p in configured] or [Root(home, kind="home")]
    if not configured:
        roots += cloud_folders(home)
    return roots


def disjoint(roots: Iterable[Root]) -> list[Root]:
    """Roots minus those inside another root: what the observer and crawler walk.

    A removable volume is always kept, even when mounted inside another root (``~/usb``):
    an inotify watch on the folder under it does not see into the mounted filesystem."""
    rs = sorted(set(roots), key=lambda r: (len(r.key), r.key))
    out: list[Root] = []
    for r in rs:
        inside = any(r.key == o.key or r.key.startswith(o.key + os.sep) for o in out)
        if not inside or (r.removable and not any(r.key == o.key for o in out)):
            out.append(r)
    return out


def platform_name() -> str:
    return {"darwin": "darwin", "win32": "windows"}.get(sys.platform, "linux")
