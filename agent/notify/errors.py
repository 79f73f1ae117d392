"""Errors of the notify package."""

from __future__ import annotations


class NotifyError(Exception):
    """A desktop notification could not be shown (no session bus, no notification
    server, osascript/PowerShell failed). The warning is still in the log and in
    `phiwatch status`. Messages never carry the notification text."""
