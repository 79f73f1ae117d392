"""Extraction throughput per format and peak memory on a large file (run by hand).

    .venv/bin/python tests/bench/bench_formats.py [--mb 200] [--big-gb 2] [--keep DIR]

Measures `agent.classifier.formats.extract` alone (bytes -> units, every unit drained,
no detection), in MB/s of file size on one core, best of 2 runs, against `cat FILE >
/dev/null` read in the same session as a reference for the disk and page cache. Then
peak RSS growth while draining a `--big-gb` dense text log (no sparse holes) in a fresh
process. Files are generated under a temp folder and removed unless `--keep` is given.
"""

from __future__ import annotations

import argparse
import json
import random
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from agent.classifier.formats import extract  # noqa: E402
from agent.classifier.units import Member, Record, Table, TextBlock  # noqa: E402

LOG = (
    b"2026-01-02T03:04:05.123Z INFO  svc=api req=9f1c2b7e-55aa-4c1e user=svc-batch "
    b"GET /v1/items?page=3 200 12ms\n"
)


def drain(units) -> int:
    n = 0
    for u in units:
        if isinstance(u, TextBlock):
            n += 1
        elif isinstance(u, Table):
            for _ in u.rows:
                n += 1
        elif isinstance(u, Record):
            n += 1
        elif isinstance(u, Member):
            n += drain(u.units)
    return n


def make_log(path: Path, mb: int) -> None:
    chunk = LOG * ((4 << 20) // len(LOG))
    with open(path, "wb") as f:
        while f.tell() < mb << 20:
            f.write(chunk)


def make_csv(path: Path, mb: int) -> None:
    rnd = random.Random(7)
    first = ["Maria", "James", "Wei", "Aisha", "Olga", "Carlos"]
    last = ["Garcia", "Smith", "Chen", "Okafor", "Ivanova", "Lopez"]
    dx = ["E11.9", "I10", "J45.909", "N18.3", "F32.9"]
    lines = []
    for i in range(20_000):
        lines.append(
            f"{rnd.choice(first)} {rnd.choice(last)},MRN{rnd.randrange(10**7):07d},"
            f"19{rnd.randrange(40, 99)}-0{rnd.randrange(1, 9)}-1{rnd.randrange(0, 9)},"
            f"{rnd.randrange(100, 899)}-{rnd.randrange(10, 99)}-{rnd.randrange(1000, 9999)},"
            f"({rnd.randrange(200, 999)}) 555-{rnd.randrange(1000, 9999)},{rnd.choice(dx)},"
            f"seen {i}\n"
        )
    block = "".join(lines).encode()
    with open(path, "wb") as f:
        f.write(b"patient_name,mrn,dob,ssn,phone,dx_code,note\n")
        while f.tell() < mb << 20:
            f.write(block)


def make_jsonl(path: Path, mb: int) -> None:
    rec = {
        "ts": "2026-01-02T03:04:05Z",
        "patient": "Maria Garcia",
        "mrn": "MRN0012345",
        "event": "lab_result",
        "loinc": "4548-4",
        "value": 8.1,
        "unit": "%",
    }
    line = (json.dumps(rec) + "\n").encode()
    with open(path, "wb") as f:
        block = line * 10_000
        while f.tell() < mb << 20:
            f.write(block)


def timed(path: Path) -> tuple[float, str]:
    best = float("inf")
    fmt = ""
    for _ in range(2):
        t0 = time.perf_counter()
        ex = extract(path)
        drain(ex.units)
        best = min(best, time.perf_counter() - t0)
        fmt = ex.format
    return best, fmt


def cat_time(path: Path) -> float:
    best = float("inf")
    for _ in range(2):
        t0 = time.perf_counter()
        subprocess.run(["cat", str(path)], stdout=subprocess.DEVNULL, check=True)
        best = min(best, time.perf_counter() - t0)
    return best


RSS_SCRIPT = """
import resource, sys
from pathlib import Path
sys.path.insert(0, sys.argv[2])
from agent.classifier.formats import extract
base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
ex = extract(Path(sys.argv[1]))
n = sum(1 for _ in ex.units)
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(base, peak, n)
"""


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--mb", type=int, default=200, help="size of each generated file")
    ap.add_argument("--big-gb", type=float, default=2.0, help="size of the RSS test file")
    ap.add_argument("--keep", type=Path, help="keep generated files in this folder")
    args = ap.parse_args()
    root = args.keep or Path(tempfile.mkdtemp(prefix="bench-formats-"))
    root.mkdir(parents=True, exist_ok=True)
    try:
        files = {
            "log (text)": (root / "app.log", make_log),
            "PHI-dense CSV": (root / "patients.csv", make_csv),
            "JSON Lines": (root / "events.jsonl", make_jsonl),
        }
        print(f"{'file':<16}{'format':>8}{'MB':>8}{'s':>8}{'MB/s':>9}{'cat MB/s':>10}")
        for label, (path, make) in files.items():
            make(path, args.mb)
            mb = path.stat().st_size / 1e6
            secs, fmt = timed(path)
            cat = cat_time(path)
            print(f"{label:<16}{fmt:>8}{mb:>8.0f}{secs:>8.2f}{mb / secs:>9.0f}{mb / cat:>10.0f}")
        big = root / "big.log"
        make_log(big, int(args.big_gb * 1024))
        t0 = time.perf_counter()
        out = subprocess.run(
            [sys.executable, "-c", RSS_SCRIPT, str(big), str(Path(__file__).resolve().parents[2])],
            capture_output=True,
            text=True,
        )
        if out.returncode:
            print(out.stderr[-2000:])
            return 1
        secs = time.perf_counter() - t0
        base, peak, n = (int(x) for x in out.stdout.split())
        gb = big.stat().st_size / 1e9
        print(
            f"\n{gb:.1f} GB dense log: {n} blocks in {secs:.1f} s ({gb * 1000 / secs:.0f} MB/s), "
            f"peak RSS {peak / 1024:.0f} MiB (growth {(peak - base) / 1024:.0f} MiB "
            f"over {base / 1024:.0f} MiB after imports)"
        )
    finally:
        if not args.keep:
            shutil.rmtree(root, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
