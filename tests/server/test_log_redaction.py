"""Server-error logs name the exception type and place, never the data in its message."""

from __future__ import annotations

import logging
import sys

from server.logfilter import RedactExceptions


def test_exception_message_with_report_values_is_not_logged(caplog):
    secret_folder = "/home/a/Patients/Jane Roe 1957-03-02"
    logger = logging.getLogger("phiwatch.test.redact")
    logger.addFilter(RedactExceptions())
    try:
        raise ValueError(f'invalid input: INSERT ... VALUES ("{secret_folder}")')
    except ValueError:
        logger.error("Internal Server Error: %s", "/api/v1/checkin", exc_info=sys.exc_info())
    (record,) = caplog.records
    text = caplog.text + record.getMessage()
    assert "Jane Roe" not in text and "1957" not in text
    assert "builtins.ValueError" in record.getMessage()
    assert "test_log_redaction.py" in record.getMessage()
    assert "/api/v1/checkin" in record.getMessage()
