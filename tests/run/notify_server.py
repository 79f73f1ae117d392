"""A minimal freedesktop notification server (org.freedesktop.Notifications, spec 1.2)
for tests: owns the name on the bus given as argv[1] and appends every Notify call as
one JSON line to argv[2]. Run as its own process by tests/run/conftest.py.

It answers Notify with a new id, or with ``replaces_id`` when that is non-zero (the spec:
"the server will atomically replace the notification with this ID"), and answers
GetServerInformation / GetCapabilities like a real server would.
"""

from __future__ import annotations

import json
import sys

from jeepney import HeaderFields, MessageType, message_bus, new_error, new_method_return
from jeepney.io.blocking import open_dbus_connection

NAME = "org.freedesktop.Notifications"


def main(address: str, out_path: str) -> None:
    conn = open_dbus_connection(bus=address)
    reply = conn.send_and_get_reply(message_bus.RequestName(NAME))
    if reply.body[0] != 1:  # DBUS_REQUEST_NAME_REPLY_PRIMARY_OWNER
        sys.exit(f"could not own {NAME}")
    print("ready", flush=True)
    next_id = 1
    while True:
        msg = conn.receive()
        if msg.header.message_type != MessageType.method_call:
            continue
        member = msg.header.fields.get(HeaderFields.member)
        if member == "Notify":
            app, replaces, icon, summary, body, actions, hints, timeout = msg.body
            nid = replaces or next_id
            if not replaces:
                next_id += 1
            with open(out_path, "a", encoding="utf-8") as f:
                f.write(
                    json.dumps(
                        {
                            "id": nid,
                            "app": app,
                            "replaces": replaces,
                            "icon": icon,
                            "summary": summary,
                            "body": body,
                            "urgency": hints.get("urgency", ("y", None))[1],
                            "timeout": timeout,
                        }
                    )
                    + "\n"
                )
            conn.send(new_method_return(msg, "u", (nid,)))
        elif member == "GetServerInformation":
            conn.send(new_method_return(msg, "ssss", ("phiwatch-test", "phiwatch", "1", "1.2")))
        elif member == "GetCapabilities":
            conn.send(new_method_return(msg, "as", (["body"],)))
        else:
            conn.send(new_error(msg, "org.freedesktop.DBus.Error.UnknownMethod"))


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
