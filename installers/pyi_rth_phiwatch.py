"""PyInstaller runtime hook: give child processes the system's library path back.

The onefile bootloader points LD_LIBRARY_PATH at the unpacked bundle so the frozen
interpreter finds its own libraries; it saves the caller's value as LD_LIBRARY_PATH_ORIG.
Posture checks run system tools (lsblk, cryptsetup, gsettings...), which must load the
system's libraries, not ours. PyInstaller's "runtime information" docs recommend exactly
this restore. The loader of this process read the variable at start-up, so changing it
here only affects children.
"""

from __future__ import annotations

import os
import sys

if getattr(sys, "frozen", False) and sys.platform.startswith("linux"):
    _orig = os.environ.pop("LD_LIBRARY_PATH_ORIG", None)
    if _orig is None:
        os.environ.pop("LD_LIBRARY_PATH", None)
    else:
        os.environ["LD_LIBRARY_PATH"] = _orig
