"""macOS: `osascript` "display notification". The text goes in as argv of an AppleScript
`on run argv` handler, never spliced into the script, so no quoting can break it.
Notifications appear only from a process in the user's GUI session (launchd
LaunchAgent, see docs/agent.md); replacing a shown notification is not possible here, so
a burst gives one notification per gather window."""

from __future__ import annotations

import subprocess

from agent.notify.errors import NotifyError
from agent.notify.message import Notification

DISPLAY = "display notification (item 2 of argv) with title (item 1 of argv)"


def command(n: Notification) -> list[str]:
    line = DISPLAY + (' sound name "Sosumi"' if n.urgent else "")
    return ["osascript", "-e", "on run argv", "-e", line, "-e", "end run", n.title, n.body]


class OsascriptBackend:
    name = "osascript"

    def show(self, n: Notification, replaces: int | None = None) -> int | None:
        try:
            subprocess.run(command(n), capture_output=True, timeout=10, check=True)
        except (OSError, subprocess.SubprocessError) as e:
            raise NotifyError(f"osascript failed: {type(e).__name__}") from None
        return None
