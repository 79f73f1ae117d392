"""phiwatch-server policy show | set KEY=VALUE...: the policy agents receive."""

from __future__ import annotations

import json

import yaml
from django.core.management.base import BaseCommand, CommandError

from server.errors import ConfigError
from server.output import cli_actor
from server.policy.effective import effective, set_overrides
from server.policy.models import PolicyRevision


class Command(BaseCommand):
    help = "Show the effective policy, or override keys of rules/policy.yaml."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        show = sub.add_parser("show", help="the effective policy and its version")
        show.add_argument("--format", choices=["yaml", "json"], default="yaml")
        s = sub.add_parser("set", help="KEY=VALUE (YAML scalar); a new revision, audited")
        s.add_argument("pairs", nargs="+", metavar="KEY=VALUE")
        s.add_argument("--note", default="")

    def handle(self, *args, action, **opts):
        if action == "show":
            policy, version = effective()
            out = {"policy_version": version, "policy": policy}
            self.stdout.write(json.dumps(out, indent=2) if opts["format"] == "json"
                              else yaml.safe_dump(out, sort_keys=False).rstrip())
            return
        latest = PolicyRevision.objects.order_by("-id").first()
        overrides = dict(latest.overrides) if latest else {}
        for pair in opts["pairs"]:
            key, sep, raw = pair.partition("=")
            if not sep or not key:
                raise CommandError(f"expected KEY=VALUE, got {pair!r}")
            try:
                overrides[key] = yaml.safe_load(raw)
            except yaml.YAMLError as e:
                raise CommandError(f"{key}: cannot parse {raw!r}") from e
        try:
            version = set_overrides(overrides, actor=cli_actor(), note=opts["note"])
        except ConfigError as e:
            raise CommandError(str(e)) from e
        self.stdout.write(f"policy version {version}")
