"""Benchmark: the PyInstaller binary (onefile, and onedir) vs `python -m agent`, side by side.

    .venv/bin/python tests/bench/bench_binary.py [--runs 10] [--binary dist/phiwatch] [--json]

Measures the binary's size and the wall time of `--version` and of `scan` of one small
file, alternating the commands run by run so that machine load hits all alike, and
reports medians and the ratio to the package. Without --binary it builds a onefile and a
onedir binary with scripts/build-binary into a temporary folder first.
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


def build(dist: Path, work: Path, onedir: bool) -> tuple[Path, float]:
    start = time.perf_counter()
    cmd = [str(ROOT / "scripts" / "build-binary"), "--dist", str(dist), "--work", str(work)]
    out = subprocess.run(
        cmd + (["--onedir"] if onedir else []), capture_output=True, text=True, check=True
    )
    return Path(out.stdout.strip().splitlines()[-1]), time.perf_counter() - start


def size_of(path: Path) -> int:
    if path.parent.name == "phiwatch" and (path.parent / "_internal").is_dir():
        # Onedir links some libraries twice by symlink: count files once, as du does.
        return sum(
            f.stat().st_size for f in path.parent.rglob("*") if f.is_file() and not f.is_symlink()
        )
    return path.stat().st_size


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--binary", type=Path, help="measure this binary only (no builds)")
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    args = parser.parse_args()
    python = str(PYTHON if PYTHON.exists() else Path(sys.executable))

    with tempfile.TemporaryDirectory(prefix="bench-binary-") as tmp:
        tmpdir = Path(tmp)
        variants: dict[str, Path] = {}
        builds: dict[str, float] = {}
        if args.binary:
            variants["binary"] = args.binary
        else:
            for name, onedir in (("onefile", False), ("onedir", True)):
                variants[name], builds[name] = build(tmpdir / name, tmpdir / f"work-{name}", onedir)
        sizes = {name: size_of(path) for name, path in variants.items()}
        sample = tmpdir / "note.txt"
        sample.write_text("Sprint notes: refactor the loader, bump the parser, add tests.\n")
        env = {**os.environ, "PHIWATCH_HOME": str(tmpdir / "home")}
        cases = {
            "--version": ["--version"],
            "scan 1 file": ["scan", str(sample), "--format", "jsonl"],
        }
        programs = {name: [str(path)] for name, path in variants.items()}
        programs["python -m agent"] = [python, "-m", "agent"]
        times: dict[str, dict[str, list[float]]] = {c: {p: [] for p in programs} for c in cases}
        for case, cmd in cases.items():
            for prog in programs.values():  # warm-up: caches, the OS's file cache
                timed(prog + cmd, env)
            for _ in range(args.runs):
                for name, prog in programs.items():
                    times[case][name].append(timed(prog + cmd, env))

    medians = {c: {p: statistics.median(v) for p, v in t.items()} for c, t in times.items()}
    figures = {
        "sizes_bytes": sizes,
        "build_seconds": {k: round(v, 1) for k, v in builds.items()},
        "runs": args.runs,
        "median_seconds": {c: {p: round(v, 3) for p, v in m.items()} for c, m in medians.items()},
        "ratio_to_package": {
            c: {
                p: round(v / m["python -m agent"], 2)
                for p, v in m.items()
                if p != "python -m agent"
            }
            for c, m in medians.items()
        },
    }
    if args.json:
        print(json.dumps(figures, indent=2))
        return 0
    for name, size in sizes.items():
        built = f", built in {builds[name]:.0f} s" if name in builds else ""
        print(f"{name}: {size / 1e6:.1f} MB{built}")
    names = list(programs)
    print(f"{'command':<13}" + "".join(f"{n:>18}" for n in names))
    for case, m in medians.items():
        cells = []
        for n in names:
            ratio = "" if n == "python -m agent" else f" ({m[n] / m['python -m agent']:.1f}x)"
            cells.append(f"{m[n]:.2f}s{ratio}")
        print(f"{case:<13}" + "".join(f"{c:>18}" for c in cells))
    print(f"(median of {args.runs} alternating runs each, after one warm-up run)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
