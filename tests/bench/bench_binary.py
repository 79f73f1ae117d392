"""Benchmark: the PyInstaller onefile binary vs `python -m agent`, side by side.

    .venv/bin/python tests/bench/bench_binary.py [--binary dist/phiwatch] [--runs 10]

Measures the binary's size and the wall time of `--version` and of `scan` of one small
file, alternating the two commands run by run so that machine load hits both alike.
Reports medians and the binary/package ratio. Without --binary it builds one with
scripts/build-binary into a temporary folder first (and says how long that took).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PYTHON = ROOT / ".venv" / "bin" / "python"


def timed(argv: list[str], env: dict[str, str]) -> float:
    start = time.perf_counter()
    result = subprocess.run(argv, capture_output=True, env=env, timeout=600)
    elapsed = time.perf_counter() - start
    if result.returncode not in (0, 1):  # scan exits 1 when it finds PHI/PII
        raise SystemExit(f"{argv} failed ({result.returncode}): {result.stderr.decode()[-2000:]}")
    return elapsed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--binary", type=Path)
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    args = parser.parse_args()
    python = str(PYTHON if PYTHON.exists() else Path(sys.executable))

    with tempfile.TemporaryDirectory(prefix="bench-binary-") as tmp:
        tmpdir = Path(tmp)
        build_seconds = None
        binary = args.binary
        if binary is None:
            start = time.perf_counter()
            out = subprocess.run(
                [
                    str(ROOT / "scripts" / "build-binary"),
                    "--dist",
                    str(tmpdir / "dist"),
                    "--work",
                    str(tmpdir / "work"),
                ],
                capture_output=True,
                text=True,
                check=True,
            )
            build_seconds = time.perf_counter() - start
            binary = Path(out.stdout.strip().splitlines()[-1])
        size = binary.stat().st_size
        sample = tmpdir / "note.txt"
        sample.write_text("Sprint notes: refactor the loader, bump the parser, add tests.\n")
        env = {**os.environ, "PHIWATCH_HOME": str(tmpdir / "home")}
        cases = {
            "--version": ["--version"],
            "scan 1 file": ["scan", str(sample), "--format", "jsonl"],
        }
        results: dict[str, dict[str, list[float]]] = {}
        for name, cmd in cases.items():
            frozen, package = [], []
            # One untimed run each: the first scan builds caches, the OS warms its file cache.
            timed([str(binary), *cmd], env)
            timed([python, "-m", "agent", *cmd], env)
            for _ in range(args.runs):
                frozen.append(timed([str(binary), *cmd], env))
                package.append(timed([python, "-m", "agent", *cmd], env))
            results[name] = {"binary": frozen, "package": package}

    figures = {
        "binary_bytes": size,
        "build_seconds": round(build_seconds, 1) if build_seconds else None,
        "runs": args.runs,
        "cases": {
            name: {
                "binary_median_s": round(statistics.median(r["binary"]), 3),
                "package_median_s": round(statistics.median(r["package"]), 3),
                "ratio": round(statistics.median(r["binary"]) / statistics.median(r["package"]), 2),
            }
            for name, r in results.items()
        },
    }
    if args.json:
        print(json.dumps(figures, indent=2))
        return 0
    print(f"binary size: {size / 1e6:.1f} MB ({size} bytes)")
    if build_seconds:
        print(f"build time: {build_seconds:.0f} s (scripts/build-binary)")
    print(f"{'command':<14} {'binary (median)':>16} {'python -m agent':>16} {'ratio':>7}")
    for name, c in figures["cases"].items():
        print(
            f"{name:<14} {c['binary_median_s']:>15.3f}s {c['package_median_s']:>15.3f}s "
            f"{c['ratio']:>6.2f}x"
        )
    print(f"({args.runs} alternating runs each, after one warm-up run)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
