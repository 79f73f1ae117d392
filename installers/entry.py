"""PyInstaller entry point: the frozen `phiwatch` binary runs the same CLI as the package."""

from __future__ import annotations

import sys

from agent.cli import main

if __name__ == "__main__":
    sys.exit(main())
