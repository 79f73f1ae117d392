"""Process-wide settings for classifying many files in a row: ``phiwatch scan`` calls
``tune()`` once, after the engine is loaded. Both settings were measured on the
benchmark's mixed corpus (tests/bench/bench_scan.py).

The agent's classifier child does not call it: it lives on and mostly idles, and the
freed blocks kept for reuse would stay in its resident memory, which the agent keeps low.
"""

from __future__ import annotations

import gc
import sys

# glibc mallopt parameters (malloc.h)
_M_TRIM_THRESHOLD = -1
_M_MMAP_THRESHOLD = -3


def tune() -> None:
    # The classifier makes few reference cycles but many short-lived containers (parsed
    # rows, findings, XML elements): with the default threshold the collector ran ~300
    # times over the 526 MB corpus, ~3% of the scan's CPU. What is loaded by now
    # (modules, rules, the engine) is never garbage: frozen, it is not traversed again.
    gc.freeze()
    gc.set_threshold(50_000, 20, 20)
    if sys.platform.startswith("linux"):
        _keep_freed_blocks()


def _keep_freed_blocks() -> None:
    # Files are read in blocks of a few MiB. glibc hands a freed block of that size back
    # to the kernel, and the next read gets fresh pages that the kernel zero-fills one by
    # one: reading 334 MB of logs took 0.17 s of CPU that way, 0.02 s with the freed
    # blocks kept for reuse (up to 32 MiB of them; blocks of 16 MiB and more are still
    # mapped and unmapped on their own).
    try:
        import ctypes

        mallopt = ctypes.CDLL(None).mallopt
    except (ImportError, OSError, AttributeError):  # not glibc (musl has no mallopt)
        return
    mallopt(_M_MMAP_THRESHOLD, 16 << 20)
    mallopt(_M_TRIM_THRESHOLD, 32 << 20)
