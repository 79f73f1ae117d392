"""Linux: org.freedesktop.Notifications on the session bus (what notify-send uses),
spoken with jeepney (pure Python, no libdbus). Spec: Desktop Notifications Specification
1.2, method Notify(susssasa{sv}i) -> u; hint "urgency" is a byte, 2 = critical.
Passing the previous id as replaces_id updates that notification in place, which is
how a burst of findings stays one notification."""

from __future__ import annotations

import os

from agent.notify.errors import NotifyError
from agent.notify.message import Notification

APP_NAME = "phiwatch"


def session_bus_available() -> bool:
    """A session bus to talk to: $DBUS_SESSION_BUS_ADDRESS or systemd's per-user socket."""
    if os.environ.get("DBUS_SESSION_BUS_ADDRESS"):
        return True
    runtime = os.environ.get("XDG_RUNTIME_DIR") or f"/run/user/{os.getuid()}"
    return os.path.exists(os.path.join(runtime, "bus"))


class DBusBackend:
    name = "dbus"

    def __init__(self, address: str = "SESSION", timeout: float = 5.0) -> None:
        self.address = address
        self.timeout = timeout

    def show(self, n: Notification, replaces: int | None = None) -> int | None:
        from jeepney import DBusAddress, new_method_call
        from jeepney.io.blocking import open_dbus_connection
        from jeepney.wrappers import DBusErrorResponse, unwrap_msg

        addr = DBusAddress(
            "/org/freedesktop/Notifications",
            bus_name="org.freedesktop.Notifications",
            interface="org.freedesktop.Notifications",
        )
        hints = {"urgency": ("y", 2 if n.urgent else 1), "category": ("s", "device")}
        msg = new_method_call(
            addr,
            "Notify",
            "susssasa{sv}i",
            (
                APP_NAME,
                int(replaces or 0),
                "dialog-warning",
                n.title,
                n.body,
                [],
                hints,
                0 if n.urgent else -1,
            ),
        )
        try:
            with open_dbus_connection(bus=self.address) as conn:
                reply = conn.send_and_get_reply(msg, timeout=self.timeout)
            return int(unwrap_msg(reply)[0])
        except DBusErrorResponse as e:
            raise NotifyError(f"notification server refused: {e.name}") from None
        except (OSError, KeyError, ValueError, TimeoutError) as e:
            raise NotifyError(
                f"no session bus or notification server: {type(e).__name__}"
            ) from None
