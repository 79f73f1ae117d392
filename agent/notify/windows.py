"""Windows: a toast through PowerShell and the WinRT ToastNotificationManager.

The text reaches PowerShell in environment variables and is XML-escaped there
(SecurityElement.Escape), never spliced into the script. The toast is raised under
PowerShell's AppUserModelID (documented in Microsoft's "Send a local toast notification
from desktop apps"), so no Start-menu shortcut needs to be installed; Tag/Group
"phiwatch"/"findings" make a later toast replace the earlier one. Must run in the
user's session (a service in session 0 cannot show toasts)."""

from __future__ import annotations

import base64
import os
import subprocess

from agent.notify.errors import NotifyError
from agent.notify.message import Notification

AUMID = r"{1AC14E77-02E7-4E5D-B744-2EB1AE5198B7}\WindowsPowerShell\v1.0\powershell.exe"

SCRIPT = r"""
[Windows.UI.Notifications.ToastNotificationManager, Windows.UI.Notifications, ContentType = WindowsRuntime] > $null
[Windows.Data.Xml.Dom.XmlDocument, Windows.Data.Xml.Dom.XmlDocument, ContentType = WindowsRuntime] > $null
$t = [System.Security.SecurityElement]::Escape($env:PHIWATCH_TITLE)
$b = [System.Security.SecurityElement]::Escape($env:PHIWATCH_BODY)
$s = if ($env:PHIWATCH_URGENT -eq '1') { 'reminder' } else { 'default' }
$xml = New-Object Windows.Data.Xml.Dom.XmlDocument
$xml.LoadXml("<toast scenario=`"$s`"><visual><binding template=`"ToastGeneric`"><text>$t</text><text>$b</text></binding></visual></toast>")
$toast = [Windows.UI.Notifications.ToastNotification]::new($xml)
$toast.Tag = 'phiwatch'; $toast.Group = 'findings'
[Windows.UI.Notifications.ToastNotificationManager]::CreateToastNotifier('__AUMID__').Show($toast)
""".replace("__AUMID__", AUMID)


def command(n: Notification) -> tuple[list[str], dict[str, str]]:
    encoded = base64.b64encode(SCRIPT.encode("utf-16-le")).decode("ascii")
    env = {
        "PHIWATCH_TITLE": n.title,
        "PHIWATCH_BODY": n.body,
        "PHIWATCH_URGENT": "1" if n.urgent else "0",
    }
    return (
        [
            "powershell.exe",
            "-NoProfile",
            "-NonInteractive",
            "-WindowStyle",
            "Hidden",
            "-EncodedCommand",
            encoded,
        ],
        env,
    )


class ToastBackend:
    name = "toast"

    def show(self, n: Notification, replaces: int | None = None) -> int | None:
        argv, env = command(n)
        try:
            subprocess.run(
                argv, env={**os.environ, **env}, capture_output=True, timeout=20, check=True
            )
        except (OSError, subprocess.SubprocessError) as e:
            raise NotifyError(f"PowerShell toast failed: {type(e).__name__}") from None
        return None
