"""Keep request data out of the server's logs.

A database error's message can quote the failing SQL with its bound values (client-side
binding), and those values are report contents (folders, hostnames). Server-error log
lines therefore keep the exception's type and where it was raised, never its message.
"""

from __future__ import annotations

import logging
import traceback


class RedactExceptions(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        if record.exc_info and record.exc_info[0] is not None:
            etype, _, tb = record.exc_info
            frames = traceback.extract_tb(tb)[-3:]
            where = "; ".join(f"{f.filename}:{f.lineno} in {f.name}" for f in frames)
            record.msg = f"{record.getMessage()} [{etype.__module__}.{etype.__name__} at {where}]"
            record.args = None
            record.exc_info = None
            record.exc_text = None
        return True
