"""`phiwatch scan PATH...`: classify files and folders now.

Prints what was found (``--format table``, the default: files with PHI or PII and files
that could not be read, then a summary) or one JSON object per file (``--format jsonl``).
Counts and locations only, never a matched value. Exit 0 when nothing is found, 1 when
PHI or PII is found, 2 on usage errors. Verdicts are cached under PHIWATCH_HOME, so an
unchanged file is not read twice.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections import Counter
from pathlib import Path

from agent import paths


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("paths", nargs="+", metavar="PATH", help="files or folders to classify")
    parser.add_argument("--format", choices=("table", "jsonl"), default="table",
                        help="table for people (default), jsonl for programs")


def _kinds(counts: dict[str, int]) -> str:
    return ", ".join(f"{k} {n}" for k, n in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])))


class _Progress:
    """One self-overwriting line on stderr, only when stderr is a terminal."""

    def __init__(self) -> None:
        self.enabled = sys.stderr.isatty()
        self.last = 0.0

    def __call__(self, done: int, path: str) -> None:
        if not self.enabled:
            return
        now = time.monotonic()
        if now - self.last < 0.2:
            return
        self.last = now
        name = os.path.basename(path)[:40]
        sys.stderr.write(f"\rscanning: {done} files  {name:<40}")
        sys.stderr.flush()

    def clear(self) -> None:
        if self.enabled:
            sys.stderr.write("\r" + " " * 72 + "\r")
            sys.stderr.flush()


class _Chunks:
    """Output lines written to ``stream`` about 8 KiB at a time, whatever Python's own
    buffering: with PYTHONUNBUFFERED=1 (usual in containers and CI) every line was a
    write call, which cost ~8% of a scan piped into another program."""

    SIZE = 8192

    def __init__(self, stream) -> None:  # type: ignore[no-untyped-def]
        self.stream = stream
        self.parts: list[str] = []
        self.size = 0

    def write(self, text: str) -> None:
        self.parts.append(text)
        self.size += len(text)
        if self.size >= self.SIZE:
            self.flush()

    def flush(self) -> None:
        if self.parts:
            self.stream.write("".join(self.parts))
            self.parts.clear()
            self.size = 0
        self.stream.flush()


def run(args: argparse.Namespace) -> int:
    missing = [p for p in args.paths if not os.path.lexists(p)]
    if missing:
        for p in missing:
            print(f"phiwatch scan: no such file or folder: {p}", file=sys.stderr)
        return 2
    from agent.classifier import Cache, scan_paths
    from agent.classifier.engine import get_engine
    from agent.classifier.errors import RuleError
    from agent.classifier.process import tune

    try:
        get_engine()  # compile (or load) the detectors before the first file
        cache = Cache(paths.cache_dir() / "scan.sqlite", one_pass=True)
    except RuleError as e:
        print(f"phiwatch scan: rules are invalid: {e}", file=sys.stderr)
        return 2
    except ValueError as e:  # PHIWATCH_ENGINE names no engine
        print(f"phiwatch scan: {e}", file=sys.stderr)
        return 2
    tune()
    progress = _Progress()
    totals: Counter = Counter()
    found = False
    out = sys.stdout
    lines = _Chunks(out)
    rows: list[tuple[str, str, str, str]] = []
    try:
        for r in scan_paths(args.paths, cache=cache, on_progress=progress):
            if "!" not in r.path:
                totals[r.classification] += 1
            if r.classification in ("phi", "pii"):
                found = True
            if args.format == "jsonl":
                lines.write(r.to_jsonl() + "\n")
            elif r.classification != "none":
                kinds = " | ".join(x for x in (_kinds(r.identifiers), _kinds(r.health)) if x)
                detail = r.reason if r.classification == "error" else kinds
                rows.append((r.classification, r.path, detail or "-", r.first_evidence or "-"))
        lines.flush()
    except BrokenPipeError:
        # `phiwatch scan ... | head`: the reader left; stop quietly like other CLI tools.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 1 if found else 0
    finally:
        progress.clear()
        cache.close()
    if args.format == "table":
        _table(rows, totals, out)
    return 1 if found else 0


def _table(rows: list[tuple[str, str, str, str]], totals: Counter, out) -> None:
    if rows:
        wp = min(60, max(len("PATH"), *(len(r[1]) for r in rows)))
        out.write(f"{'VERDICT':<7}  {'PATH':<{wp}}  {'FIRST EVIDENCE':<22}  FOUND (identifiers | health)\n")
        for verdict, path, detail, where in rows:
            shown = path if len(path) <= wp else "…" + path[-(wp - 1):]
            out.write(f"{verdict:<7}  {shown:<{wp}}  {where:<22}  {detail}\n")
        out.write("\n")
    n = sum(totals.values())
    parts = ", ".join(f"{totals[k]} {k}" for k in ("phi", "pii", "none", "error"))
    out.write(f"{n} file{'s' if n != 1 else ''} scanned: {parts}\n")


def cache_path() -> Path:
    """Where `phiwatch scan` keeps its verdict cache."""
    return paths.cache_dir() / "scan.sqlite"
