"""Benchmark: a full posture run on this machine - wall time and peak RSS.

Run by hand: ``.venv/bin/python tests/bench/bench_posture.py [--runs N]``.

Measures, each as the median of N runs:
- warm: ``run_checks()`` in this process (imports done) - what the running agent pays
  every posture interval;
- cold: ``phiwatch posture --format json`` as a new process - what a user or an MDM
  script pays, with its peak RSS from wait4();
- references in the same session: a bare ``python -c pass`` start and one ``lsblk -J``,
  so the figures read as ratios on any machine.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))


def _spawn(argv: list[str]) -> tuple[float, int, int]:
    """(wall seconds, peak RSS KiB, exit code) of one child process."""
    start = time.perf_counter()
    proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=ROOT)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    return wall, usage.ru_maxrss, proc.returncode


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=10)
    args = parser.parse_args()

    from agent.posture import run_checks
    from agent.runner import LiveRunner

    run_checks(None, LiveRunner())  # warm imports and page cache
    warm = []
    for _ in range(args.runs):
        start = time.perf_counter()
        run_checks(None, LiveRunner())
        warm.append(time.perf_counter() - start)

    cold = [_spawn([sys.executable, "-m", "agent", "posture", "--format", "json"])
            for _ in range(args.runs)]
    bare = [_spawn([sys.executable, "-c", "pass"]) for _ in range(args.runs)]
    lsblk = [_spawn(["lsblk", "-J", "-b", "-o", "NAME,PATH,TYPE,FSTYPE,MOUNTPOINTS"])
             for _ in range(args.runs)]

    med = statistics.median
    result = {
        "runs": args.runs,
        "warm_run_checks_s": round(med(warm), 4),
        "cold_cli_s": round(med(c[0] for c in cold), 4),
        "cold_cli_peak_rss_mib": round(max(c[1] for c in cold) / 1024, 1),
        "cold_cli_exit_code": cold[0][2],
        "ref_python_start_s": round(med(b[0] for b in bare), 4),
        "ref_python_start_peak_rss_mib": round(max(b[1] for b in bare) / 1024, 1),
        "ref_lsblk_s": round(med(x[0] for x in lsblk), 4),
    }
    result["warm_vs_lsblk"] = round(result["warm_run_checks_s"] / result["ref_lsblk_s"], 1)
    result["cold_vs_python_start"] = round(result["cold_cli_s"] / result["ref_python_start_s"], 1)
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
