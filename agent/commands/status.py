"""Show what the agent knows: posture headline, open findings, crawl progress, check-ins.

Reads the state the running agent keeps (it does not need the agent to be running).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from typing import Any


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--format", choices=("table", "json"), default="table")


def collect() -> dict[str, Any]:
    """Everything `phiwatch status` shows, as one JSON-able dict."""
    from agent import paths
    from agent.daemon import CRAWL_STATE
    from agent.findings import FindingsStore

    store = FindingsStore()
    try:
        posture = store.get_meta("posture") or {}
        findings = store.open_findings()
        daemon = store.get_meta("daemon") or {}
        out: dict[str, Any] = {
            "agent": {**daemon, "running": _alive(daemon.get("pid"))},
            "posture": {
                "checked_at": posture.get("checked_at"),
                "headline": posture.get("headline", {}),
                "failing": posture.get("failing", []),
            },
            "findings": {
                "open": len(findings),
                "counts": store.counts(),
                "files": [
                    {
                        k: f[k]
                        for k in (
                            "path",
                            "classification",
                            "identifiers",
                            "health",
                            "format",
                            "bytes",
                            "volume",
                            "first_seen",
                            "last_seen",
                        )
                    }
                    for f in findings
                ],
            },
            "last_warning": store.get_meta("last_warning"),
            "roots": store.get_meta("roots", []),
            "pending_events": len(store.pending_events()),
        }
    finally:
        store.close()
    try:
        crawl = json.loads((paths.state_dir() / CRAWL_STATE).read_text())
    except (OSError, ValueError):
        crawl = {"roots": {}}
    out["crawl"] = {root: _progress(st) for root, st in crawl.get("roots", {}).items()}
    out["reporting"] = _reporting()
    out["config"] = _config()
    return out


def _alive(pid: Any) -> bool:
    if not isinstance(pid, int):
        return False
    try:
        import psutil

        if pid == os.getpid() or not psutil.pid_exists(pid):
            return False
        # A pid recorded by an agent that died may belong to another program by now.
        return "run" in psutil.Process(pid).cmdline()
    except Exception:
        return False


def _progress(st: dict) -> dict:
    done = bool(st.get("done"))
    p = {"done": done, "files": st.get("files", 0), "bytes": st.get("bytes", 0)}
    last = st.get("last_bytes")
    if not done and last:
        p["percent_estimate"] = min(99, round(100 * st.get("bytes", 0) / last))
    if st.get("finished"):
        from datetime import UTC, datetime

        p["finished"] = datetime.fromtimestamp(st["finished"], UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return p


def _reporting() -> dict:
    try:
        from agent.reporter import Reporter

        r = Reporter()
        try:
            return r.status()
        finally:
            r.close()
    except Exception as e:
        return {"enrolled": False, "error": f"reporting unavailable: {type(e).__name__}"}


def _config() -> dict:
    try:
        from agent.config import load_config

        return load_config().describe()
    except Exception as e:
        return {"error": str(e)}


def _fmt_counts(d: dict) -> str:
    return ", ".join(f"{n} {k}" for k, n in sorted(d.items(), key=lambda kv: (-kv[1], kv[0])))


def render(s: dict) -> str:
    lines = []
    a = s["agent"]
    lines.append(
        f"agent:      {'running' if a.get('running') else 'not running'}"
        + (
            f" (pid {a['pid']}, since {a.get('started')}, notifications via {a.get('backend')})"
            if a.get("running")
            else ""
        )
    )
    p = s["posture"]
    if p["checked_at"]:
        head = ", ".join(f"{n} {k}" for k, n in sorted(p["headline"].items()))
        lines.append(f"posture:    {head} (checked {p['checked_at']})")
        if p["failing"]:
            lines.append(f"            failing: {', '.join(p['failing'])}")
    else:
        lines.append("posture:    not checked yet")
    f = s["findings"]
    lines.append(
        f"findings:   {f['open']} open" + (f" ({_fmt_counts(f['counts'])})" if f["open"] else "")
    )
    for item in f["files"]:
        where = []
        v = item.get("volume") or {}
        if v.get("removable"):
            where.append("removable")
        if v.get("cloud"):
            where.append(v["cloud"])
        if v.get("encrypted") is False:
            where.append("unencrypted")
        kinds = _fmt_counts({**item["identifiers"], **item["health"]})
        lines.append(f"  {item['classification'].upper():4} {item['path']}")
        lines.append(
            f"       {kinds}"
            + (f" [{', '.join(where)}]" if where else "")
            + f" since {item['first_seen']}"
        )
    w = s.get("last_warning")
    if w:
        lines.append(
            f"last warning: {w['at']} {w['title']}"
            + ("" if w.get("delivered") else " (no desktop session: shown here)")
        )
    for root, c in s["crawl"].items():
        state = (
            "done"
            if c["done"]
            else (
                f"{c.get('percent_estimate', '?')}%" if "percent_estimate" in c else "in progress"
            )
        )
        lines.append(f"crawl:      {root}: {state}, {c['files']} files, {c['bytes'] / 1e6:.1f} MB")
    r = s["reporting"]
    lines.append(
        f"server:     {r.get('server_url') or 'not enrolled'}"
        + (f" (device {r['device_id']})" if r.get("device_id") else "")
    )
    lines.append(
        f"check-in:   last {r.get('last_checkin') or 'never'}, "
        f"outbox depth {r.get('outbox_depth', 0)}"
        + (f", last error: {r['last_error']}" if r.get("last_error") else "")
    )
    ts = r.get("token_store")
    lines.append(f"token:      {ts if ts else 'none'}")
    cfg = s["config"]
    for key in ("roots", "exclude", "server_url", "log_level"):
        if key in cfg and isinstance(cfg[key], dict):
            lines.append(f"config:     {key} = {cfg[key]['value']!r} ({cfg[key]['source']})")
    return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    try:
        s = collect()
    except Exception as e:
        print(
            f"phiwatch status: cannot read the agent's state: {type(e).__name__}", file=sys.stderr
        )
        return 1
    if args.format == "json":
        print(json.dumps(s, indent=2, sort_keys=True, default=str))
    else:
        print(render(s))
    return 0
