"""phiwatch-server custody list|receive|remove: the receipt-and-removal log of hardware
and media (HIPAA 164.310(d)(2)(iii), accountability)."""

from __future__ import annotations

import csv
import sys

from django.core.management.base import BaseCommand, CommandError

from server.lifecycle import service
from server.lifecycle.errors import LifecycleError
from server.lifecycle.records import MOVEMENT_COLUMNS as COLUMNS
from server.lifecycle.records import movement_row as row
from server.lifecycle.records import movements
from server.output import cli_actor, render


class Command(BaseCommand):
    help = "Receipt and removal log: list (search, CSV/JSON), receive, remove."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        p = sub.add_parser("list")
        p.add_argument("--search", default="")
        p.add_argument("--direction", choices=["in", "out"], default="")
        p.add_argument("--format", choices=["table", "json", "csv"], default="table")
        for name in ("receive", "remove"):
            p = sub.add_parser(name)
            p.add_argument("--description", required=True)
            p.add_argument("--serial", default="")
            p.add_argument("--from", dest="from_party", default="")
            p.add_argument("--to", dest="to_party", default="")
            p.add_argument("--reason", default="")
            p.add_argument("--reference", default="", help="manifest or certificate number")
            p.add_argument("--at", default=None)

    def handle(self, *args, action, **o):
        try:
            if action == "list":
                rows = [row(m) for m in movements(o["search"], o["direction"])[:10000]]
                if o["format"] == "csv":
                    w = csv.DictWriter(sys.stdout, fieldnames=COLUMNS)
                    w.writeheader()
                    w.writerows(rows)
                else:
                    self.stdout.write(render(rows, COLUMNS, o["format"]))
                return
            mv = service.record_movement(
                direction="in" if action == "receive" else "out",
                description=o["description"], serial=o["serial"], from_party=o["from_party"],
                to_party=o["to_party"], reason=o["reason"], reference=o["reference"],
                at=o["at"], actor=cli_actor())
            self.stdout.write(str(mv.pk))
        except LifecycleError as e:
            raise CommandError(str(e)) from e
