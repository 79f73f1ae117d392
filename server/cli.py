"""`phiwatch-server` command line.

Every sub-command is a Django management command in the app it belongs to
(server/<app>/management/commands/<name>.py), so `phiwatch-server secret create` is
`manage.py secret create`: run, createadmin, secret, devices, violations, audit, token,
sweep, simulate, plus Django's own (migrate, ...).
"""

from __future__ import annotations

import os
import sys


def main(argv: list[str] | None = None) -> int:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "server.settings")
    argv = list(sys.argv[1:] if argv is None else argv)
    from django.core.management import ManagementUtility

    from server.errors import ServerError

    try:
        ManagementUtility(["phiwatch-server", *argv]).execute()
    except ServerError as e:
        print(f"phiwatch-server: {e}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
