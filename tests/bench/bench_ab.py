"""A/B timing of `phiwatch scan` between checkouts (run by hand; not collected).

    .venv/bin/python tests/bench/bench_ab.py /tmp/before . [--runs 7] [--target DIR]

Make the other checkout with `git worktree add /tmp/before <commit>`. Each round runs
`python -m agent scan TARGET --format jsonl` once from every checkout (so its own code and
rules are imported), interleaved, pinned to one core, with a fresh PHIWATCH_HOME and the
compiled engine loaded, and takes the CPU seconds of the process. The best of the runs is
reported: this machine's timings drift by 10% or more over minutes, and only runs taken
side by side compare.
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_scan import prepare  # noqa: E402

TASKSET = ["taskset", "-c", "0"] if shutil.which("taskset") else []


def cpu_seconds(checkout: Path, target: str, engines: str) -> float:
    home = tempfile.mkdtemp(prefix="phiwatch-ab-")
    env = {**os.environ, "PHIWATCH_HOME": home, "PHIWATCH_ENGINE_CACHE": engines}
    try:
        prepare(checkout, env)  # as bench_scan.py: bytecode written, engine compiled
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        subprocess.run([*TASKSET, sys.executable, "-m", "agent", "scan", target, "--format", "jsonl"],
                       cwd=checkout, env=env, stdout=subprocess.DEVNULL, check=False)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
    finally:
        shutil.rmtree(home, ignore_errors=True)
    return (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("checkouts", nargs="+", type=Path)
    ap.add_argument("--runs", type=int, default=7)
    ap.add_argument("--target", default="/tmp/phiwatch-bench/mixed", help="built by bench_scan.py")
    args = ap.parse_args()
    engines = tempfile.mkdtemp(prefix="phiwatch-ab-engines-")
    best = {c: float("inf") for c in args.checkouts}
    for i in range(args.runs):
        for c in args.checkouts:
            t = cpu_seconds(c.resolve(), args.target, engines)
            best[c] = min(best[c], t)
            print(f"run {i + 1}: {c}: {t:.2f} cpu-s", file=sys.stderr)
    shutil.rmtree(engines, ignore_errors=True)
    for c, t in best.items():
        print(f"{c}: best {t:.2f} cpu-s of {args.runs}")


if __name__ == "__main__":
    main()
