"""The agent's log: rotating files under agent.paths.log_dir(), and a filter that keeps
PHI values out of every record.

Why a filter and not only care: our own messages name paths, kinds and counts, but
third-party exceptions quote their input (``int("123-45-6789")`` puts the SSN in the
message, a parser error quotes the line it choked on). :class:`NoValueFilter` therefore

1. drops exception *messages* and traceback text, keeping the exception type and the
   file/line where it was raised (enough to debug, nothing quoted);
2. formats the message itself and masks anything shaped like a value we look for
   (SSN, e-mail, phone, long digit runs, dates), after the fact, on every handler.

Step 2 is a safety net, not the design: paths of findings are logged on purpose (the
engineer must be able to find the file).
"""

from __future__ import annotations

import logging
import logging.handlers
import re
import sys
import traceback
from pathlib import Path

from agent import paths

LOG_FILE = "agent.log"
MAX_BYTES = 1_000_000
BACKUPS = 5

# Shapes of identifier values (see rules/phi/ for the detectors' own, stricter forms).
# Masking is deliberately broad: a masked counter in a log costs nothing, a leaked SSN
# is a breach.
_MASKS = [
    re.compile(r"\b\d{3}[- ]\d{2}[- ]\d{4}\b"),  # SSN
    re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+"),  # e-mail
    re.compile(r"\(?\b\d{3}\)?[-. ]\d{3}[-. ]\d{4}\b"),  # NANP phone
    re.compile(r"\b\d{1,2}/\d{1,2}/\d{2,4}\b"),  # US dates
    re.compile(r"(?<![\w/.-])\d{7,}(?![\w/.-])"),  # MRN / account / NPI-like runs
    re.compile(r"\b[A-Z][a-z]+\^[A-Z][a-z]+\b"),  # HL7 XPN name components
]


def mask(text: str) -> str:
    for rx in _MASKS:
        text = rx.sub("[masked]", text)
    return text


def _safe_exc(exc_info) -> str:
    etype, _value, tb = exc_info
    frames = traceback.extract_tb(tb)
    where = " <- ".join(
        f"{Path(f.filename).name}:{f.lineno} in {f.name}" for f in reversed(frames[-5:])
    )
    return f"{etype.__name__} (message withheld) at {where}"


class NoValueFilter(logging.Filter):
    """Rewrites each record so that no value can reach a handler (see module doc)."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            msg = record.getMessage()
        except Exception:
            msg = str(record.msg)
        if record.exc_info and record.exc_info[0] is not None:
            msg = f"{msg}: {_safe_exc(record.exc_info)}"
        record.msg = mask(msg)
        record.args = None
        record.exc_info = None
        record.exc_text = None
        record.stack_info = None
        return True


def setup(level: str | int = "INFO", *, console: bool = False) -> Path:
    """Log to ``<log_dir>/agent.log`` (rotating, 1 MB x 5) and, for ``phiwatch run`` in a
    terminal, to stderr. Returns the log file's path."""
    # The root logger: records of every module and library pass the same filter.
    logger = logging.getLogger()
    teardown()
    if isinstance(level, str):
        level = logging.getLevelName(level.upper())
        if not isinstance(level, int):
            level = logging.INFO
    logger.setLevel(level)
    path = paths.log_dir() / LOG_FILE
    handlers: list[logging.Handler] = [
        logging.handlers.RotatingFileHandler(
            path, maxBytes=MAX_BYTES, backupCount=BACKUPS, encoding="utf-8"
        )
    ]
    if console:
        handlers.append(logging.StreamHandler(sys.stderr))
    fmt = logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s")
    for h in handlers:
        h.setFormatter(fmt)
        h.addFilter(NoValueFilter())
        h._phiwatch = True  # type: ignore[attr-defined]
        logger.addHandler(h)
    return path


def teardown() -> None:
    """Close the handlers (tests, and `run --once` before exit)."""
    logger = logging.getLogger()
    for h in list(logger.handlers):
        if getattr(h, "_phiwatch", False):
            logger.removeHandler(h)
            h.close()
