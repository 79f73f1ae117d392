"""Where the workplace's shared/ folder is (the labelled corpus builder lives there).

It is not part of this repository. Looked for, in order: $PHIWATCH_SHARED; a `shared/`
beside this checkout (how CI lays it out); a `shared/` beside the checkout this one was
cloned from (`git clone . /tmp/fresh` from a working tree). `python -m tests.shared`
prints the corpus builder's path, for scripts/demo.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


class SharedNotFound(RuntimeError):
    pass


def _origin_checkout() -> Path | None:
    try:
        url = subprocess.run(["git", "-C", str(REPO), "config", "--get", "remote.origin.url"],
                             capture_output=True, text=True, timeout=10).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return None
    if not url or "://" in url or url.startswith("git@"):
        return None  # only a clone of a local folder has a neighbouring shared/
    return Path(url).expanduser().resolve()


def shared_dir() -> Path:
    candidates = []
    if os.environ.get("PHIWATCH_SHARED"):
        candidates.append(Path(os.environ["PHIWATCH_SHARED"]).expanduser())
    candidates.append(REPO.parent / "shared")
    origin = _origin_checkout()
    if origin is not None:
        candidates.append(origin.parent / "shared")
    for c in candidates:
        if (c / "corpus" / "build.py").is_file():
            return c
    raise SharedNotFound("shared/corpus/build.py not found (looked in "
                         + ", ".join(str(c) for c in candidates)
                         + "); set PHIWATCH_SHARED to the shared/ folder")


def corpus_builder() -> Path:
    return shared_dir() / "corpus" / "build.py"


if __name__ == "__main__":
    try:
        print(corpus_builder())
    except SharedNotFound as e:
        print(f"phiwatch: {e}", file=sys.stderr)
        sys.exit(2)
