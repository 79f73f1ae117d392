"""The console's errors: bad input on a form or a query string, named for the user."""

from __future__ import annotations


class ConsoleError(Exception):
    """Base class."""


class BadInput(ConsoleError):
    """A filter, a date or a form field the console cannot use; the message names it."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message
