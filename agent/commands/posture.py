"""Check this workstation's safeguards: disk encryption, screen lock, logoff, media, firewall, updates.

Exit status: 0 every check passed (or does not apply), 1 a check failed, 3 nothing failed
but a check is unknown or in progress (not yet compliant, not proven either), 2 usage
error (bad replay or policy file, cannot write the record file).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
from typing import Any

from agent import __version__
from agent.policy import load_policy, read_policy_file
from agent.posture import run_checks
from agent.posture.errors import PolicyError
from agent.posture.result import FAIL, IN_PROGRESS, PASS, STATUSES, UNKNOWN, CheckResult
from agent.runner import LiveRunner, RecordingRunner, ReplayError, ReplayRunner, Runner

EXIT_OK, EXIT_FAIL, EXIT_USAGE, EXIT_INCOMPLETE = 0, 1, 2, 3


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--format", choices=("table", "json"), default="table",
                        help="table for people (default), json for scripts (docs/posture.md)")
    source = parser.add_mutually_exclusive_group()
    source.add_argument("--record", metavar="FILE",
                        help="also save every command output and file the checks read to FILE")
    source.add_argument("--replay", metavar="FILE",
                        help="re-evaluate from a FILE made by --record, on any OS")
    parser.add_argument("--policy", metavar="FILE",
                        help="evaluate against rules/policy.yaml merged with this YAML/JSON "
                             "override (e.g. a device's server policy, for support)")


def exit_code(results: list[CheckResult]) -> int:
    statuses = {r.status for r in results}
    if FAIL in statuses:
        return EXIT_FAIL
    if statuses & {UNKNOWN, IN_PROGRESS}:
        return EXIT_INCOMPLETE
    return EXIT_OK


def report(results: list[CheckResult], runner: Runner, source: str) -> dict[str, Any]:
    """The JSON document of ``--format json``: the protocol's posture object plus context."""
    summary = {s: sum(r.status == s for r in results) for s in STATUSES}
    return {
        "checked_at": dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "os": runner.os,
        "agent_version": __version__,
        "source": source,
        "summary": summary,
        "exit_code": exit_code(results),
        "checks": [r.to_json() for r in results],
    }


def render_table(results: list[CheckResult], runner: Runner, source: str) -> str:
    rows = [("STATUS", "CHECK", "OBSERVED", "POLICY")]
    for r in results:
        observed = r.observed if r.status != UNKNOWN else f"unknown: {r.reason}"
        rows.append((r.status, r.id, observed, r.policy))
    widths = [max(len(row[i]) for row in rows) for i in range(3)]
    lines = [f"phiwatch posture ({runner.os}, {source})", ""]
    for row in rows:
        lines.append("  ".join(cell.ljust(widths[i]) for i, cell in enumerate(row[:3])) + "  " + row[3])
    todo = [r for r in results if r.status not in (PASS, "not_applicable") and r.fix]
    if todo:
        lines += ["", "To fix:"]
        lines += [f"  {r.id}: {r.fix}" for r in todo]
    counts = ", ".join(f"{sum(r.status == s for r in results)} {s}" for s in STATUSES
                       if any(r.status == s for r in results))
    lines += ["", counts]
    return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    try:
        policy = load_policy(read_policy_file(args.policy) if args.policy else None)
    except PolicyError as e:
        print(f"phiwatch posture: {e}", file=sys.stderr)
        return EXIT_USAGE
    runner: Runner
    if args.replay:
        try:
            runner = ReplayRunner.load(args.replay)
        except ReplayError as e:
            print(f"phiwatch posture: {e}", file=sys.stderr)
            return EXIT_USAGE
        recorded = runner.data.get("recorded_at") or "unknown time"
        source = f"replay of {args.replay}, recorded {recorded}"
    elif args.record:
        runner = RecordingRunner(LiveRunner())
        source = "this machine, recording"
    else:
        runner = LiveRunner()
        source = "this machine"
    results = run_checks(policy, runner)
    if args.format == "json":
        print(json.dumps(report(results, runner, source), indent=2))
    else:
        print(render_table(results, runner, source))
    if args.record:
        # After printing: a bad path must not cost the user the verdicts they waited for.
        try:
            runner.save(args.record)  # type: ignore[attr-defined]
        except OSError as e:
            print(f"phiwatch posture: cannot write {args.record}: {e.strerror}", file=sys.stderr)
            return EXIT_USAGE
    return exit_code(results)


