"""Silence the format libraries' warnings and log records: they quote file content.

pydicom's `warn_and_log` repeats an invalid value in both a warning and a log record
("Invalid value for VR UI: '...BROWN^PAUL...'"), pypdf logs object contents it could
not decode, openpyxl warns about cell data. Any of these would put PHI on a laptop's
stderr or in the agent's log, so their loggers are switched off and their warnings
ignored, process-wide, once, when the formats package is imported. Our own errors say
what went wrong without the content (ExtractionError).
"""

from __future__ import annotations

import logging
import warnings

LIBRARIES = ("pypdf", "pydicom", "openpyxl", "pyarrow", "defusedxml", "PIL")


def silence() -> None:
    for name in LIBRARIES:
        log = logging.getLogger(name)
        log.setLevel(logging.CRITICAL + 1)
        log.propagate = False
        log.addHandler(logging.NullHandler())  # not even the last-resort handler
    pattern = r"(" + "|".join(LIBRARIES) + r")(\.|$)"
    warnings.filterwarnings("ignore", module=pattern)
    # A library may attribute its warning to its caller (stacklevel): that is us.
    warnings.filterwarnings("ignore", module=r"agent\.classifier\.formats(\.|$)")
