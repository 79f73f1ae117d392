"""Benchmark of the running agent (run by hand, not collected by pytest).

    .venv/bin/python tests/bench/bench_agent.py                   # full: 2 GB, 5 min idle
    .venv/bin/python tests/bench/bench_agent.py --home-gb 0.2 --duration 30 --files 50

Starts a private D-Bus session with the test notification server, generates a home
folder, starts a real `phiwatch run --root <home>` process (low priority, default
throttle from rules/policy.yaml) and measures:

1. crawl throughput of the first crawl at the default throttle (bytes charged to the
   budget per wall second, from the agent's own crawl.json), and the time to finish;
2. idle RSS of the agent process after the first crawl;
3. idle CPU over --duration seconds (process CPU time / wall time);
4. warning latency: a PHI file (1 KB .. --max-mb MB) is written and closed, and the time
   until the notification server receives the warning; one file at a time, p50/p95.

Prints one JSON object with every figure (and the machine's CPU count) on stdout.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psutil

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))
from tests.shared import corpus_builder  # noqa: E402

NOTIFY_SERVER = REPO / "tests" / "run" / "notify_server.py"
CORPUS_BUILD = corpus_builder()


def log(msg: str) -> None:
    print(f"[bench] {msg}", file=sys.stderr, flush=True)


def phi_rows(corpus: Path) -> tuple[bytes, list[bytes]]:
    """Header and rows of a corpus PHI table where every row identifies a patient (not
    the de-identified table with one identified row), so a 1 KB prefix is PHI too."""
    manifest = [json.loads(x) for x in (corpus / "manifest.jsonl").read_text().splitlines() if x]
    tables = sorted(
        (
            m
            for m in manifest
            if m["label"] == "phi"
            and m["format"] == "csv"
            and "de-identified" not in m.get("note", "")
        ),
        key=lambda m: -len(m["identifiers"]),
    )
    lines = (corpus / "files" / tables[0]["path"]).read_bytes().splitlines(keepends=True)
    return lines[0], lines[1:]


def phi_file(path: Path, size: int, header: bytes, rows: list[bytes]) -> None:
    out = bytearray(header)
    i = 0
    while len(out) < size:
        out += rows[i % len(rows)]
        i += 1
    with open(path, "wb") as f:
        f.write(out)


def make_home(home: Path, gb: float, header: bytes, rows: list[bytes]) -> int:
    """A home folder of about ``gb`` GB: documents, PHI tables, big binaries, and excluded
    folders (node_modules, .git, .cache) that the crawl must skip. Returns the bytes the
    crawl should see."""
    rnd = random.Random(7)
    target = int(gb * 1e9)
    counted = 0
    docs = home / "Documents"
    docs.mkdir(parents=True)
    text = b"Quarterly planning notes: migrate the ETL, review the model card, ship v2.\n" * 140
    n_docs = max(50, int(target * 0.02 / len(text)))
    for i in range(n_docs):
        (docs / f"note_{i:05d}.txt").write_bytes(text)
        counted += len(text)
    data = home / "data"
    data.mkdir()
    phi_budget = int(target * 0.15)
    i = 0
    while phi_budget > 0:
        size = min(phi_budget, rnd.choice([200_000, 1_000_000, 5_000_000, 10_000_000]))
        phi_file(data / f"extract_{i:03d}.csv", size, header, rows)
        counted += size
        phi_budget -= size
        i += 1
    dl = home / "Downloads"
    dl.mkdir()
    block = rnd.randbytes(1 << 20)
    remaining = target - counted
    j = 0
    while remaining > 0:
        size = min(remaining, 100 << 20)
        with open(dl / f"image_{j:02d}.bin", "wb") as f:
            for _ in range(size // len(block)):
                f.write(block)
            f.write(block[: size % len(block)])
        counted += size
        remaining -= size
        j += 1
    for skipped in ("code/app/node_modules/lib", "code/app/.git/objects", ".cache/pip"):
        d = home / skipped
        d.mkdir(parents=True)
        for k in range(200):
            (d / f"f{k}.js").write_bytes(text)
    return counted


def crawl_state(phome: Path, root: Path) -> dict:
    try:
        return json.loads((phome / "state" / "crawl.json").read_text())["roots"].get(str(root), {})
    except (OSError, ValueError, KeyError):
        return {}


def received(log_path: Path) -> list[dict]:
    if not log_path.exists():
        return []
    return [json.loads(x) for x in log_path.read_text().splitlines() if x]


def pct(values: list[float], q: float) -> float:
    s = sorted(values)
    return s[min(len(s) - 1, max(0, round(q * (len(s) - 1))))]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--home-gb", type=float, default=2.0)
    ap.add_argument("--duration", type=float, default=300.0, help="idle CPU window, seconds")
    ap.add_argument("--files", type=int, default=200, help="PHI files for the latency test")
    ap.add_argument("--max-mb", type=float, default=10.0)
    ap.add_argument("--keep", action="store_true", help="keep the temp folder")
    args = ap.parse_args()

    work = Path(tempfile.mkdtemp(prefix="bench-agent-"))
    procs: list[subprocess.Popen] = []
    result: dict = {
        "cpus": os.cpu_count(),
        "home_gb": args.home_gb,
        "load_average_at_start": os.getloadavg()[0],
    }
    try:
        corpus = work / "corpus"
        subprocess.run(
            [sys.executable, str(CORPUS_BUILD), str(corpus), "--seed", "1"],
            check=True,
            capture_output=True,
        )
        header, rows = phi_rows(corpus)
        home = work / "home"
        log(f"generating a {args.home_gb} GB home folder in {home}")
        t = time.monotonic()
        expected = make_home(home, args.home_gb, header, rows)
        log(f"generated {expected / 1e9:.2f} GB in {time.monotonic() - t:.0f} s")

        bus = subprocess.Popen(
            [
                "dbus-daemon",
                "--session",
                "--nofork",
                "--nopidfile",
                f"--address=unix:path={work}/bus",
                "--print-address=1",
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
        )
        procs.append(bus)
        address = bus.stdout.readline().strip()
        notes = work / "notifications.jsonl"
        server = subprocess.Popen(
            [sys.executable, str(NOTIFY_SERVER), address, str(notes)],
            stdout=subprocess.PIPE,
            text=True,
        )
        procs.append(server)
        assert server.stdout.readline().strip() == "ready"

        phome = work / "phiwatch-home"
        env = {
            **os.environ,
            "PHIWATCH_HOME": str(phome),
            "DBUS_SESSION_BUS_ADDRESS": address,
            "PHIWATCH_MANAGED_CONFIG": str(work / "none.toml"),
        }
        # Drop the page cache's copy of the home folder so the crawl reads from disk.
        subprocess.run(["sync"])
        try:
            Path("/proc/sys/vm/drop_caches").write_text("3\n")
        except OSError:
            pass
        t0 = time.monotonic()
        agent = subprocess.Popen(
            [sys.executable, "-m", "agent", "run", "--root", str(home)],
            cwd=REPO,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        procs.append(agent)
        proc = psutil.Process(agent.pid)

        # 1. crawl throughput
        while not crawl_state(phome, home).get("done"):
            if agent.poll() is not None:
                raise SystemExit("the agent exited during the crawl")
            time.sleep(0.5)
        st = crawl_state(phome, home)
        crawl_s = st["finished"] - st["started"]
        result["crawl"] = {
            "files": st["files"],
            "bytes": st["bytes"],
            "seconds": round(crawl_s, 1),
            "mb_per_s": round(st["bytes"] / crawl_s / 1e6, 1),
            "throttle_mb_per_s": 20.0,
            "agent_start_to_done_s": round(time.monotonic() - t0, 1),
        }
        log(f"crawl: {result['crawl']}")
        n_found = len(received(notes))

        # 2. RSS right after the first crawl (classifier children still up), then idle
        # RSS once they have exited (SCANNER_IDLE_SECONDS without work).
        from agent.daemon import SCANNER_IDLE_SECONDS

        def tree_rss() -> tuple[float, int]:
            kids = proc.children(recursive=True)
            total = proc.memory_info().rss + sum(k.memory_info().rss for k in kids)
            return round(total / 2**20, 1), len(kids)

        result["rss_after_crawl_mb"], kids = tree_rss()
        result["rss_after_crawl_children"] = kids
        deadline = time.monotonic() + SCANNER_IDLE_SECONDS + 30
        while proc.children() and time.monotonic() < deadline:
            time.sleep(1)
        result["idle_rss_mb"], result["idle_children"] = tree_rss()
        try:
            result["idle_uss_mb"] = round(proc.memory_full_info().uss / 2**20, 1)
        except psutil.Error:
            pass
        log(
            f"RSS after crawl {result['rss_after_crawl_mb']} MB ({kids} children); "
            f"idle {result['idle_rss_mb']} MB"
        )

        # 3. idle CPU (the agent and any child it starts meanwhile)
        def cpu_total() -> float:
            t = proc.cpu_times()
            return t.user + t.system + t.children_user + t.children_system

        c0, w0 = cpu_total(), time.monotonic()
        time.sleep(args.duration)
        c1, w1 = cpu_total(), time.monotonic()
        cpu = c1 - c0
        result["idle_cpu"] = {
            "seconds": round(w1 - w0, 1),
            "cpu_seconds": round(cpu, 3),
            "percent": round(100 * cpu / (w1 - w0), 3),
        }
        log(f"idle CPU {result['idle_cpu']}")

        # 4. warning latency, one PHI file at a time
        incoming = home / "incoming"
        incoming.mkdir()
        sizes = [
            int(1000 * (args.max_mb * 1000) ** (i / max(1, args.files - 1)))
            for i in range(args.files)
        ]
        random.Random(3).shuffle(sizes)
        latencies: list[tuple[int, float]] = []
        # Wait out the hold window so each file starts a fresh notification.
        for i, size in enumerate(sizes):
            before = len(received(notes))
            staged = work / "staged.csv"
            phi_file(staged, size, header, rows)
            target = incoming / f"patients_{i:03d}.csv"
            with open(staged, "rb") as src, open(target, "wb") as dst:
                shutil.copyfileobj(src, dst, 1 << 20)
                dst.flush()
            closed = time.monotonic()  # the file is closed when the with-block ends
            deadline = closed + 60
            while len(received(notes)) == before and time.monotonic() < deadline:
                time.sleep(0.005)
            if len(received(notes)) == before:
                log(f"no warning for {target.name} ({size} bytes) within 60 s")
                latencies.append((size, float("inf")))
            else:
                latencies.append((size, time.monotonic() - closed))
        result["latency_first_file_s"] = round(latencies[0][1], 3)  # cold classifier child
        lat = [v for _, v in latencies]
        finite = [v for v in lat if v != float("inf")]
        result["latency"] = {
            "files": len(lat),
            "missed": len(lat) - len(finite),
            "p50_s": round(pct(lat, 0.5), 3),
            "p95_s": round(pct(lat, 0.95), 3),
            "max_s": round(max(finite), 3) if finite else None,
            "p95_s_files_over_1mb": round(pct([v for s, v in latencies if s > 1e6], 0.95), 3),
            "sizes_bytes": [min(sizes), max(sizes)],
        }
        log(f"latency {result['latency']}")
        result["notifications_during_crawl"] = n_found
        result["rss_active_mb"] = tree_rss()[0]
        result["load_average_at_end"] = os.getloadavg()[0]
    finally:
        for p in reversed(procs):
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
                try:
                    p.wait(timeout=60)
                except subprocess.TimeoutExpired:
                    p.kill()
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
    print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
