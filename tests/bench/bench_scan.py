"""Benchmark `phiwatch scan` (run by hand; pytest does not collect tests/bench).

    .venv/bin/python tests/bench/bench_scan.py [--work /tmp/phiwatch-bench] [--mixed-mb 520] [--repeat 5]

Builds, under --work (reused between runs):
- a mixed laptop-like corpus of >= 500 MB: real source code copied from the installed
  site-packages, service logs, Markdown docs, telemetry CSVs without persons, and some
  PHI/PII files (copies of the dev corpus, every format);
- a PHI-dense CSV of 200 MB (every row a patient with identifiers and diagnoses);
- a 2 GB log file (real bytes, not sparse) with one patient line near the end.

Then measures, each pinned to one core (taskset -c 0) and in a fresh PHIWATCH_HOME (no
cache), the agent's code compiled to bytecode and its engine compiled first, as installed: MB/s of `phiwatch scan --format jsonl`; MB/s of GNU `grep -E -c -r` with SSN,
phone and e-mail patterns over the same files (LC_ALL=C, grep's fastest mode); their
ratio; MB/s on the dense CSV; peak RSS scanning the 2 GB file; and Presidio's MB/s on the
corpus's text files when presidio-analyzer is importable.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource  # noqa: F401  (used by the wrapper too)
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
from tests.shared import corpus_builder  # noqa: E402

PY = sys.executable
MB = 1_000_000
GREP_PATTERNS = [
    r"[0-9]{3}-[0-9]{2}-[0-9]{4}",  # SSN
    r"\(?[0-9]{3}\)?[ .-][0-9]{3}[ .-][0-9]{4}",  # NANP phone
    r"[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}",  # e-mail
]


def _taskset() -> list[str]:
    return ["taskset", "-c", "0"] if shutil.which("taskset") else []


def _size(path: Path) -> int:
    if path.is_file():
        return path.stat().st_size
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file() and not f.is_symlink())


def _log_lines(rng: random.Random, n: int) -> str:
    out = []
    for i in range(n):
        msg = rng.choice([
            f"GET /api/v2/orders/{rng.randint(1000, 99999)} 200 {rng.randint(3, 900)}ms",
            f"cache hit ratio={rng.random():.3f} keys={rng.randint(1000, 90000)}",
            f"worker-{rng.randint(1, 16)} heartbeat ok seq={rng.randint(10**9, 10**10 - 1)}",
            f"request_id={rng.getrandbits(128):032x} upstream=inventory-svc latency_ms={rng.randint(1, 400)}",
            "scheduler: job nightly-reindex finished in 12.4s",
            f"db pool size={rng.randint(1, 64)} waiting={rng.randint(0, 9)} host=10.0.{rng.randint(0, 255)}.{rng.randint(1, 254)}",
            f"build 2024.03.{rng.randint(10, 28)}-{rng.randint(1000, 9999)} deployed to edge-{rng.randint(1, 9)}",
        ])
        out.append(f"2024-03-15T08:{i // 60 % 60:02d}:{i % 60:02d}Z INFO  {msg}")
    return "\n".join(out) + "\n"


def build_mixed(dest: Path, target_mb: int) -> None:
    if (dest / ".done").exists():
        return
    shutil.rmtree(dest, ignore_errors=True)
    rng = random.Random(5)
    site = Path(shutil.__file__).parent  # stdlib: real code, docs and data
    sp = next(Path(p) for p in sys.path if p.endswith("site-packages"))
    # 1. real source code (two copies of site-packages .py/.js, as in venvs and checkouts)
    for copy in range(2):
        for f in sorted(sp.rglob("*")):
            if f.suffix in (".py", ".js", ".md", ".txt", ".rst") and f.is_file() and f.stat().st_size < 2 * MB:
                rel = f.relative_to(sp)
                out = dest / f"code{copy}" / rel
                out.parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(f, out)
    for f in sorted(site.glob("*.py")):
        shutil.copyfile(f, (dest / "code0") / f"stdlib_{f.name}")
    # 2. PHI/PII files: copies of the dev corpus (every format)
    for seed in range(1, 7):  # some PHI files (about 4% of files), as on a real laptop
        out = dest / "projects" / f"export{seed:02d}"
        subprocess.run([PY, str(corpus_builder()), str(out), "--seed", str(seed)],
                       check=True, capture_output=True)
        (out / "manifest.jsonl").unlink()
    # 3. docs without persons
    words = [w for w in Path("/usr/share/dict/words").read_text().split() if w.isalpha() and w.islower()] \
        if Path("/usr/share/dict/words").exists() else ["lorem", "ipsum", "dolor", "sit", "amet", "service"]
    docs = dest / "docs"
    docs.mkdir(parents=True, exist_ok=True)
    # 4. logs and telemetry up to the target size
    logs = dest / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    i = 0
    while _size(dest) < target_mb * MB:
        i += 1
        (logs / f"service-{i:03d}.log").write_text(_log_lines(rng, 60_000))
        if i % 3 == 0:
            rows = ["ts,device,metric,value"] + [
                f"{1700000000 + k * 60},edge-{rng.randint(1, 9)},cpu_ns,{rng.randint(10**6, 10**9)}"
                for k in range(80_000)]
            (logs / f"metrics-{i:03d}.csv").write_text("\n".join(rows) + "\n")
        if i % 4 == 0:
            paras = [" ".join(rng.choice(words) for _ in range(rng.randint(40, 120))).capitalize() + "."
                     for _ in range(400)]
            (docs / f"page-{i:03d}.md").write_text(f"# Design note {i}\n\n" + "\n\n".join(paras) + "\n")
    (dest / ".done").write_text("ok")


def build_dense_csv(dest: Path, target_mb: int = 200) -> None:
    if dest.exists() and dest.stat().st_size >= target_mb * MB:
        return
    rng = random.Random(9)
    first = ["Dawn", "James", "Maria", "Wei", "Aisha", "Carlos", "Emily", "Noah", "Olivia", "Liam"]
    last = ["Bailey", "Smith", "Gonzalez", "Chen", "Khan", "Rivera", "Nguyen", "Patel", "Brown", "Lee"]
    dx = ["E11.9", "I10", "J45.909", "F32.9", "E78.5", "N39.0", "J18.9", "I48.91", "K21.9", "C50.911"]
    meds = ["metformin 500 mg", "lisinopril 10 mg", "atorvastatin 40 mg", "sertraline 50 mg"]
    with open(dest, "w") as f:
        f.write("patient_name,mrn,dob,ssn,phone,email,icd10,medication,visit_date\n")
        written = 0
        while written < target_mb * MB:
            chunk = []
            for _ in range(10_000):
                fn, ln = rng.choice(first), rng.choice(last)
                chunk.append(
                    f"{fn} {ln},{rng.randint(10**6, 10**8)},19{rng.randint(40, 99)}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d},"
                    f"{rng.randint(100, 665)}-{rng.randint(10, 99)}-{rng.randint(1000, 9999)},({rng.randint(201, 919)}) {rng.randint(200, 999)}-{rng.randint(0, 9999):04d},"
                    f"{fn.lower()}.{ln.lower()}{rng.randint(1, 99)}@example.org,{rng.choice(dx)},{rng.choice(meds)},2023-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}")
            data = "\n".join(chunk) + "\n"
            f.write(data)
            written += len(data)


def build_big_log(dest: Path, target_bytes: int = 2 * 1024**3) -> None:
    if dest.exists() and dest.stat().st_size >= target_bytes - 4096:
        return
    rng = random.Random(3)
    block = _log_lines(rng, 400_000).encode()
    with open(dest, "wb") as f:
        written = 0
        while written < target_bytes - len(block):
            f.write(block)
            written += len(block)
        f.write(b"2024-03-15T09:00:00Z INFO  patient lookup ok mrn=31759180 name=\"Dawn Bailey\" dob=1970-03-04 dx=E11.9\n")
        f.write(block[: max(0, target_bytes - written - 200)])


_RSS_WRAPPER = (
    "import resource, subprocess, sys\n"
    "r = subprocess.run(sys.argv[2:])\n"
    "u = resource.getrusage(resource.RUSAGE_CHILDREN)\n"
    "open(sys.argv[1], 'w').write(f'{u.ru_maxrss} {u.ru_utime + u.ru_stime}')\n"
    "sys.exit(r.returncode)\n"
)


def _run_timed(cmd: list[str], env: dict | None = None, stdout=subprocess.DEVNULL) -> tuple[float, int, float, subprocess.CompletedProcess]:
    """Wall seconds, the command's own peak RSS (KiB) and CPU seconds (user + system),
    measured by a wrapper process so that earlier children do not count. CPU seconds are
    the fair figure on a shared machine: wall time includes waiting for a busy core."""
    rss_file = Path(f"/tmp/phiwatch-bench-rss-{os.getpid()}")
    t = time.perf_counter()
    p = subprocess.run([PY, "-c", _RSS_WRAPPER, str(rss_file), *cmd], env=env, stdout=stdout,
                       stderr=subprocess.PIPE)
    dt = time.perf_counter() - t
    rss, cpu = 0, dt
    if rss_file.exists():
        parts = rss_file.read_text().split()
        rss, cpu = int(parts[0]), float(parts[1])
    rss_file.unlink(missing_ok=True)
    return dt, rss, cpu, p


def scan_cmd(target: Path) -> list[str]:
    return [*_taskset(), PY, "-m", "agent", "scan", str(target), "--format", "jsonl"]


def prepare(checkout: Path, env: dict) -> None:
    """Outside the measurement, as on an installed agent: the engine compiled (it is cached
    per rules version) and the code's bytecode written (pip and pyinstaller compile it at
    install; an editable checkout run with PYTHONDONTWRITEBYTECODE=1 would compile every
    module at every start)."""
    subprocess.run([PY, "-m", "compileall", "-q", str(checkout / "agent")], check=True,
                   stdout=subprocess.DEVNULL)
    subprocess.run([PY, "-c", "from agent.classifier.engine import get_engine; get_engine()"], env=env,
                   cwd=checkout, check=True)


def measure_scan(target: Path, home: Path) -> tuple[float, float, int, str]:
    """(wall s, cpu s, peak RSS KiB, verdict counts) of one `phiwatch scan` run."""
    shutil.rmtree(home, ignore_errors=True)
    env = {**os.environ, "PHIWATCH_HOME": str(home)}
    prepare(ROOT, env)
    dt, rss, cpu, p = _run_timed(scan_cmd(target), env, stdout=subprocess.PIPE)
    if p.returncode not in (0, 1):
        raise SystemExit(f"scan failed: {p.stderr.decode()[-500:]}")
    verdicts: dict[str, int] = {}
    for line in p.stdout.decode().splitlines():
        c = json.loads(line)["classification"]
        verdicts[c] = verdicts.get(c, 0) + 1
    return dt, cpu, rss, ", ".join(f"{k}={v}" for k, v in sorted(verdicts.items()))


def measure_grep(target: Path) -> tuple[float, float]:
    args = [*_taskset(), "grep", "-E", "-c", "-r"]
    for p in GREP_PATTERNS:
        args += ["-e", p]
    dt, _, cpu, _ = _run_timed(args + [str(target)], {**os.environ, "LC_ALL": "C"})
    return dt, cpu


def measure_presidio(target: Path, limit_mb: int, python: str) -> str:
    """Presidio's AnalyzerEngine over the corpus's text files (up to limit_mb), on one core.

    Presidio's default needs spaCy's en_core_web_lg, which is downloaded from GitHub (not a
    package registry) and cannot be had on a machine that only reaches registries; the run
    then uses a blank spaCy English pipeline: every regex/checksum recognizer runs, NER-based
    ones (PERSON, LOCATION) find nothing. Install: python -m venv V && V/bin/pip install
    presidio-analyzer; pass --presidio-python V/bin/python.
    """
    code = r"""
import sys, time
from pathlib import Path
try:
    import spacy
    from presidio_analyzer import AnalyzerEngine
    from presidio_analyzer.nlp_engine import NlpEngineProvider
    import presidio_analyzer
    try:
        engine = AnalyzerEngine()
        mode = "en_core_web_lg"
    except Exception:
        blank = Path(sys.argv[3])
        spacy.blank("en").to_disk(blank)
        conf = {"nlp_engine_name": "spacy", "models": [{"lang_code": "en", "model_name": str(blank)}]}
        engine = AnalyzerEngine(nlp_engine=NlpEngineProvider(nlp_configuration=conf).create_engine())
        mode = "blank spaCy pipeline, no NER model"
except Exception as e:
    print(f"unavailable: {type(e).__name__}: {str(e)[:160]}"); sys.exit(0)
files = sorted(f for f in Path(sys.argv[1]).rglob('*') if f.suffix in ('.txt', '.log', '.md', '.csv', '.py') and f.is_file())
total, t = 0, time.perf_counter()
for f in files[::7]:
    text = f.read_text(errors='replace')[:200000]
    engine.analyze(text=text, language='en')
    total += len(text.encode())
    if total > int(sys.argv[2]) * 1000000: break
dt = time.perf_counter() - t
print(f"{total/1e6/dt:.2f} MB/s over {total/1e6:.1f} MB of text files (presidio {presidio_analyzer.__version__ if hasattr(presidio_analyzer, '__version__') else ''}, {mode})")
"""
    if not python:
        return "not run (pass --presidio-python)"
    p = subprocess.run([*_taskset(), python, "-c", code, str(target), str(limit_mb),
                        str(target.parent / "spacy-blank-en")], capture_output=True, text=True)
    return (p.stdout.strip() or p.stderr.strip()[-200:] or "unavailable")


def measure_scan_text_sample(target: Path, limit_mb: int, home: Path) -> str:
    """phiwatch on the same sample of text files Presidio reads (every 7th), in-process."""
    code = r"""
import sys, time
from pathlib import Path
from agent.classifier import classify_file
from agent.classifier.engine import get_engine
get_engine()
files = sorted(f for f in Path(sys.argv[1]).rglob('*') if f.suffix in ('.txt', '.log', '.md', '.csv', '.py') and f.is_file())
total, t = 0, time.perf_counter()
for f in files[::7]:
    total += classify_file(f).bytes
    if total > int(sys.argv[2]) * 1000000: break
dt = time.perf_counter() - t
print(f"{total/1e6/dt:.2f} MB/s over {total/1e6:.1f} MB")
"""
    env = {**os.environ, "PHIWATCH_HOME": str(home)}
    p = subprocess.run([*_taskset(), PY, "-c", code, str(target), str(limit_mb)], capture_output=True,
                       text=True, env=env, cwd=ROOT)
    return p.stdout.strip() or p.stderr.strip()[-200:]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--work", default="/tmp/phiwatch-bench")
    ap.add_argument("--mixed-mb", type=int, default=520)
    ap.add_argument("--skip-big", action="store_true", help="skip the 2 GB RSS run")
    ap.add_argument("--repeat", type=int, default=5, help="runs of scan and grep on the mixed corpus (best kept)")
    ap.add_argument("--presidio-python", default="", help="a python with presidio-analyzer installed")
    ap.add_argument("--only-presidio", action="store_true", help="only the Presidio comparison")
    args = ap.parse_args()
    work = Path(args.work)
    work.mkdir(parents=True, exist_ok=True)
    mixed, dense, big = work / "mixed", work / "dense.csv", work / "big.log"
    print("building inputs (reused between runs) ...", file=sys.stderr)
    build_mixed(mixed, args.mixed_mb)
    build_dense_csv(dense)
    if not args.skip_big:
        build_big_log(big)
    mixed_mb = _size(mixed) / MB
    nfiles = sum(1 for f in mixed.rglob("*") if f.is_file())
    engine = os.environ.get("PHIWATCH_ENGINE") or "auto (hyperscan)"
    rows = []
    if args.only_presidio:
        print(measure_presidio(mixed, 3, args.presidio_python))
        print(measure_scan_text_sample(mixed, 3, work / "home-sample"))
        return
    # warm the page cache for both tools alike; then the two side by side, the best of
    # --repeat runs each (this kind of machine drifts by 10-25% between runs of minutes)
    measure_grep(mixed)
    scans, greps = [], []
    for _ in range(args.repeat):
        scans.append(measure_scan(mixed, work / "home-mixed"))
        greps.append(measure_grep(mixed))
    t_scan, c_scan, _, verdicts = min(scans, key=lambda r: r[1])
    t_grep, c_grep = min(greps, key=lambda r: r[1])
    load = os.getloadavg()[0]
    rows.append((f"mixed corpus: phiwatch scan (best of {args.repeat})", f"{mixed_mb:.0f} MB, {nfiles} files",
                 f"{mixed_mb / c_scan:.1f} MB/s cpu", f"{c_scan:.1f} cpu-s, {t_scan:.1f} wall-s; {verdicts}"))
    rows.append((f"mixed corpus: grep -E -c (SSN|phone|email) (best of {args.repeat})", f"{mixed_mb:.0f} MB",
                 f"{mixed_mb / c_grep:.1f} MB/s cpu", f"{c_grep:.1f} cpu-s, {t_grep:.1f} wall-s, LC_ALL=C"))
    rows.append(("ratio scan / grep (cpu time)", "", f"{c_grep / c_scan:.2f}",
                 f"wall-time ratio {t_grep / t_scan:.2f}; target >= 0.33"))
    dense_mb = dense.stat().st_size / MB
    t_dense, c_dense, rss_dense, v = measure_scan(dense, work / "home-dense")
    rows.append(("PHI-dense CSV: phiwatch scan", f"{dense_mb:.0f} MB", f"{dense_mb / c_dense:.1f} MB/s cpu",
                 f"{c_dense:.1f} cpu-s, {t_dense:.1f} wall-s; {v}; peak RSS {rss_dense / 1024:.0f} MB"))
    if not args.skip_big:
        big_mb = big.stat().st_size / MB
        t_big, c_big, rss_big, v = measure_scan(big, work / "home-big")
        rows.append(("2 GB log: peak RSS", f"{big_mb:.0f} MB", f"{rss_big / 1024:.0f} MB",
                     f"{big_mb / c_big:.1f} MB/s cpu, {t_big:.1f} wall-s; {v}; target < 200 MB"))
    rows.append(("Presidio analyzer, text-file sample", "", measure_presidio(mixed, 3, args.presidio_python), ""))
    rows.append(("phiwatch, same text-file sample", "", measure_scan_text_sample(mixed, 3, work / "home-sample"), ""))
    print(f"\nphiwatch scan benchmark - engine {engine}, one core (taskset -c 0), python {sys.version.split()[0]}, "
          f"load average {load:.1f} on {os.cpu_count()} cores\n")
    w = [max(len(str(r[i])) for r in rows) for i in range(4)]
    for r in rows:
        print("  ".join(str(c).ljust(w[i]) for i, c in enumerate(r)))


if __name__ == "__main__":
    main()
