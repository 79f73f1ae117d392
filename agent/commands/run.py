"""Run the agent: watch for PHI, warn, check posture and report (until stopped).

With --once: one posture run, one scan of the roots, one check-in, then exit
(0 when the check-in was queued, 3 when it could not be, 2 on usage errors).
"""

from __future__ import annotations

import argparse
import os
import signal
import sys


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--once",
        action="store_true",
        help="one posture run, one scan of the roots, one check-in, then exit",
    )
    parser.add_argument(
        "--root",
        action="append",
        metavar="PATH",
        default=[],
        help="watch and scan PATH instead of the configured roots (repeatable)",
    )
    parser.add_argument("--verbose", "-v", action="store_true", help="also log to stderr")
    # Internal: the classifier child of a running agent (agent/watch/scanner.py).
    parser.add_argument("--scan-worker", action="store_true", help=argparse.SUPPRESS)


def run(args: argparse.Namespace) -> int:
    if args.scan_worker:
        from agent.watch.scanner import serve

        return serve()

    from agent import logs
    from agent.config import ConfigError, load_config

    for r in args.root:
        if not os.path.isdir(r):
            print(f"phiwatch run: --root {r}: not a folder", file=sys.stderr)
            return 2
    try:
        config = load_config()
    except ConfigError as e:
        print(f"phiwatch run: {e}", file=sys.stderr)
        return 2
    logfile = logs.setup(getattr(config, "log_level", "info"), console=args.verbose)

    import logging

    from agent.daemon import AlreadyRunning, Daemon, InstanceLock
    from agent.watch import lower_priority

    log = logging.getLogger("phiwatch.run")
    log.info("priority lowered: %s; log at %s", lower_priority(), logfile)
    lock = InstanceLock()
    try:
        lock.acquire()
    except AlreadyRunning as e:
        print(f"phiwatch run: {e}", file=sys.stderr)
        logs.teardown()
        return 1
    daemon = Daemon(roots=[os.path.abspath(r) for r in args.root], config=config)
    try:
        if args.once:
            rc = daemon.once()
            if rc:
                print(
                    f"phiwatch run --once: the check-in could not be queued (see {logfile})",
                    file=sys.stderr,
                )
            return rc

        def _stop(signum, frame):  # noqa: ARG001 - signal handler signature
            daemon.stop_event.set()

        signal.signal(signal.SIGTERM, _stop)
        signal.signal(signal.SIGINT, _stop)
        daemon.start()
        daemon.run_forever()
        return 0
    finally:
        daemon.stop()
        daemon.close()
        lock.release()
        logs.teardown()
