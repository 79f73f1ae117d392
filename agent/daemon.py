"""The long-running agent: watch, crawl, warn, check posture, report.

Threads (all joined by :meth:`Daemon.stop`; none outlives it):

- watchdog's observer (one emitter per root) -> :class:`~agent.watch.Debouncer`
- the debouncer -> the bounded :class:`~agent.watch.WorkQueue`
- ``phiwatch-worker``: classifies queued files, updates the findings store, alerts
- ``phiwatch-crawl``: the throttled, resumable first crawl and the rescans
- ``phiwatch-notify``: gathers alerts into one desktop notification per burst
- the caller's thread runs :meth:`Daemon.run_forever`: the ``schedule`` jobs (posture,
  check-in, rescan, removable-volume poll) between waits on the stop event.

Everything the daemon knows is in the state dir (findings.db, crawl.json), so
`phiwatch status` can read it from another process.
"""

from __future__ import annotations

import logging
import os
import stat
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import schedule

from agent import __version__, paths
from agent.findings import FindingsStore, now_iso
from agent.notify import Alert, Backend, Notification, Notifier
from agent.watch import (
    ByteBudget,
    Crawler,
    Debouncer,
    MountMonitor,
    PathFilter,
    Root,
    Volume,
    Watcher,
    WatchError,
    WorkQueue,
    default_roots,
    walk,
)
from agent.watch.roots import agent_dirs, cloud_of, disjoint, root_of
from agent.watch.scanner import FIRST_LOOK_BYTES, InProcess, ScannerPool

log = logging.getLogger("phiwatch.daemon")

CRAWL_STATE = "crawl.json"
SCANNER_IDLE_SECONDS = 120.0
EARLY_CHECKIN_GAP = 60.0  # at most one early check-in (new PHI, crawl done) per minute  # a classifier child with no work for this long exits
MOUNT_POLL_SECONDS = 2
DEFAULTS = {
    "checkin_interval_seconds": 600,
    "posture_interval_seconds": 3600,
    "rescan_interval_seconds": 86400,
    "crawl_bytes_per_second": 20_000_000,
    "report_paths": "hashed",
}


class Daemon:
    """Wires watch, classifier, findings, notifications and reporting together.

    Every OS touch point is a parameter so tests drive the real code path: ``roots``
    (``--root``), ``backend`` (a notification backend), ``mount_table`` /
    ``is_removable`` (see agent.watch.mounts), ``reporter`` (agent.reporter.Reporter or
    None for local-only), ``policy`` (dict; default: the reporter's or rules/policy.yaml).
    """

    def __init__(
        self,
        *,
        roots: list[str] | None = None,
        config: Any = None,
        policy: dict | None = None,
        reporter: Any = "auto",
        backend: Backend | None = None,
        mount_table: Callable[[], dict[str, Volume]] | None = None,
        is_removable: Callable[[Volume], bool] | None = None,
        classify: Callable[..., Any] | None = None,
        gather: float = 0.3,
        hold: float = 10.0,
        scanner_idle: float = SCANNER_IDLE_SECONDS,
    ) -> None:
        self.config = config
        self.reporter = self._make_reporter(config) if reporter == "auto" else reporter
        self.policy = {**DEFAULTS, **(policy if policy is not None else self._load_policy())}
        configured = roots if roots else list(_cfg(config, "roots", []) or [])
        self.roots: list[Root] = default_roots(configured)
        self.filt = PathFilter(
            exclude=tuple(_default_excludes()) + tuple(_cfg(config, "exclude", []) or ()),
            include=tuple(_cfg(config, "include", []) or ()),
            own_dirs=agent_dirs(),
        )
        self.stop_event = threading.Event()
        self.store = FindingsStore()
        self.queue = WorkQueue()  # files that changed: a quick first look each
        self.deep = WorkQueue()  # big files after their first look: the full pass
        self.notifier = Notifier(backend, gather=gather, hold=hold, on_shown=self._on_shown)
        self.debouncer = Debouncer(self._ready, expect_close=Watcher.emits_close())
        self.watcher = Watcher(self.filt, self.debouncer, self._gone, self._folder)
        self.budget = ByteBudget(float(self.policy["crawl_bytes_per_second"]), stop=self.stop_event)
        if classify is not None:
            from agent.classifier import Cache

            self.scanner: ScannerPool | InProcess = InProcess(
                classify, Cache(paths.cache_dir() / "scan.sqlite")
            )
        else:
            self.scanner = ScannerPool(idle_timeout=scanner_idle)
        self.crawler = Crawler(
            paths.state_dir() / CRAWL_STATE,
            self.filt,
            self._crawl_one,
            self.budget,
            self.stop_event,
        )
        self.mounts = MountMonitor(
            self._mounted,
            self._unmounted,
            **({"table": mount_table} if mount_table else {}),
            is_removable=is_removable,
        )
        self.scheduler = schedule.Scheduler()
        self._crawl_wake = threading.Event()
        self._threads: list[threading.Thread] = []
        self._watching = False
        self._checkin_soon = threading.Event()
        self._last_checkin = 0.0
        self._roots_lock = threading.Lock()
        self.processed = 0  # files classified (tests and the bench read it)
        self._busy = 0  # files being classified by the workers right now
        self._busy_lock = threading.Lock()
        self._processed_cond = threading.Condition()

    # -- wiring --------------------------------------------------------------------------
    @staticmethod
    def _make_reporter(config: Any) -> Any:
        try:
            from agent.reporter import Reporter

            return Reporter(config)
        except Exception as e:  # the agent still watches and warns without a server
            log.warning("reporting disabled: %s", type(e).__name__)
            return None

    def _load_policy(self) -> dict:
        if self.reporter is not None:
            try:
                return dict(self.reporter.policy())
            except Exception as e:
                log.warning(
                    "server policy unavailable (%s); using the shipped one", type(e).__name__
                )
        from agent.policy import load_policy

        return dict(load_policy())

    # -- lifecycle -----------------------------------------------------------------------
    def start(self) -> None:
        """Start watching and crawling; returns at once."""
        self.store.add_event("agent_started", {"version": __version__})
        self.store.set_meta(
            "daemon",
            {
                "pid": os.getpid(),
                "started": now_iso(),
                "backend": self.notifier.backend.name,
                "observer": self.watcher.backend,
            },
        )
        self.watcher.start()
        self._watching = True
        for r in disjoint(self.roots):
            try:
                self.watcher.add(r)
            except WatchError as e:
                log.error("%s", e)
        self._save_roots()
        self.debouncer.start()
        self.notifier.start()
        self.mounts.poll()  # volumes already mounted at start
        for name, target in (
            ("phiwatch-worker", self._work),
            ("phiwatch-deep", self._work_deep),
            ("phiwatch-crawl", self._crawl),
        ):
            t = threading.Thread(target=target, name=name, daemon=True)
            t.start()
            self._threads.append(t)
        self._schedule()
        log.info(
            "agent started: %d roots, notifications via %s, observer %s",
            len(self.roots),
            self.notifier.backend.name,
            self.watcher.backend,
        )

    def _schedule(self) -> None:
        """(Re)build the jobs from the policy's intervals."""
        p = self.policy
        self.scheduler.clear()
        self.scheduler.every(max(60, int(p["posture_interval_seconds"]))).seconds.do(self.posture)
        self.scheduler.every(max(30, int(p["checkin_interval_seconds"]))).seconds.do(self.checkin)
        self.scheduler.every(max(600, int(p["rescan_interval_seconds"]))).seconds.do(self.rescan)
        self.scheduler.every(MOUNT_POLL_SECONDS).seconds.do(self._housekeeping)

    def _reload_policy(self) -> None:
        """The server may send a new policy at check-in: new intervals and throttle."""
        try:
            new = {**DEFAULTS, **dict(self.reporter.policy())}
        except Exception:
            return
        keys = ("posture_interval_seconds", "checkin_interval_seconds", "rescan_interval_seconds")
        changed = any(new.get(k) != self.policy.get(k) for k in keys)
        self.policy = new
        self.budget.rate = float(new["crawl_bytes_per_second"])
        if changed and self.scheduler.jobs:
            log.info("policy changed: schedule updated")
            self._schedule()

    def run_forever(self, *, posture_first: bool = True) -> None:
        """Run the schedule until :meth:`stop` (or SIGTERM via the caller)."""
        if posture_first:
            self.posture()
            self.checkin()
        while not self.stop_event.is_set():
            self.scheduler.run_pending()
            if (
                self._checkin_soon.is_set()
                and time.monotonic() - self._last_checkin > EARLY_CHECKIN_GAP
            ):
                # New PHI or a finished crawl: tell the server now, not at the next interval.
                self._checkin_soon.clear()
                self.checkin()
            idle = self.scheduler.idle_seconds
            self.stop_event.wait(min(max(idle or 0.0, 0.05), MOUNT_POLL_SECONDS))

    def stop(self) -> None:
        """Stop every thread and close the stores; idempotent."""
        self.stop_event.set()
        self._crawl_wake.set()
        if self._watching:
            self.watcher.stop()
            self._watching = False
        self.debouncer.stop()
        self.queue.close()
        self.deep.close()
        self._crawl_wake.set()
        for t in self._threads:
            t.join(timeout=30)
        self.notifier.stop()
        self.crawler.save()
        self.scheduler.clear()
        log.info("agent stopped")

    def close(self) -> None:
        self.scanner.close()
        self.store.close()
        if self.reporter is not None and hasattr(self.reporter, "close"):
            self.reporter.close()

    # -- events from the watcher -----------------------------------------------------------
    def _ready(self, path: str) -> None:
        if not self.queue.put(path):
            # Events were lost: fall back to a crawl of the roots (the cache keeps it cheap).
            log.warning("work queue full; rescanning the roots instead")
            self.crawler.request_rescan(self.roots)
            self._crawl_wake.set()

    def _gone(self, path: str, is_dir: bool, reason: str) -> None:
        self.queue.discard(path)
        self.deep.discard(path)
        self.notifier.discard(path, folder=is_dir)
        n = self.store.resolve(path, reason, folder=is_dir)
        if n:
            log.info("%d finding(s) resolved (%s): %s", n, reason, path)

    def _folder(self, path: str) -> None:
        root = root_of(path, self.roots)
        for f, _size in walk(path, self.filt) if root else ():
            self.debouncer.touch(f, closed=True)

    # -- classification ------------------------------------------------------------------
    def _warm_up(self) -> None:
        """Start the quick lane and build its engines now, not on the first PHI file:
        the first classification compiles every rule (seconds), which would otherwise
        delay the first warning by as much."""
        try:
            self.scanner.warm("quick")
        except Exception as e:
            log.info("classifier warm-up failed: %s", type(e).__name__)

    def _work(self) -> None:
        self._warm_up()
        while not self.stop_event.is_set():
            path = self.queue.get(timeout=1.0)
            if path is not None:
                with self._busy_lock:
                    self._busy += 1
                try:
                    self.process(path, quick=True)
                finally:
                    with self._busy_lock:
                        self._busy -= 1

    def _work_deep(self) -> None:
        while not self.stop_event.is_set():
            path = self.deep.get(timeout=1.0)
            if path is not None:
                with self._busy_lock:
                    self._busy += 1
                try:
                    self.process(path)
                finally:
                    with self._busy_lock:
                        self._busy -= 1

    def _crawl_one(self, path: str) -> int:
        return self.process_read(path)

    def process(self, path: str, *, alert: bool = True, quick: bool = False) -> str:
        """Classify one file and update the findings; returns what changed.

        ``quick`` (a file that just changed): it goes to the quick lane, and a file
        bigger than FIRST_LOOK_BYTES gets a first look at its first FIRST_LOOK_BYTES of
        text only (a 10 MB table takes seconds to classify in full, a first look a
        fraction of one), so the warning is not held up by the full pass; the full pass
        follows on the ``deep`` queue and corrects the counts (and warns then, if only
        the full pass finds something)."""
        change, _read = self._process(path, alert=alert, quick=quick)
        return change

    def process_read(self, path: str) -> int:
        """The crawl's entry: full pass; returns the bytes read (0 on a cache hit)."""
        return self._process(path, alert=True, quick=False)[1]

    def _process(self, path: str, *, alert: bool, quick: bool) -> tuple[str, int]:
        try:
            st = os.stat(path)
        except OSError:
            return "none", 0
        if not stat.S_ISREG(st.st_mode):
            return "none", 0
        first_look = quick and st.st_size > FIRST_LOOK_BYTES
        try:
            result, read = self.scanner.classify(
                path, first_look=first_look, lane="quick" if quick else "deep"
            )
        except Exception as e:  # the classifier should return `error`; never crash on it
            log.error("could not classify %s: %s", path, type(e).__name__)
            return "none", 0
        if first_look:
            if not self.deep.put(path):
                self._ready(path)
            if result.classification not in ("phi", "pii"):
                return "none", read
        volume = self.volume_info(path)
        change = self.store.record(result, volume)
        if change in ("opened", "escalated"):
            self._checkin_soon.set()
        if change in ("opened", "escalated") and alert:
            self.notifier.alert(
                Alert(
                    path=path,
                    classification=result.classification,
                    identifiers=dict(result.identifiers),
                    health=dict(result.health),
                    removable=bool(volume.get("removable")),
                    cloud=volume.get("cloud"),
                    encrypted=volume.get("encrypted"),
                )
            )
        elif change == "cleaned":
            log.info("finding resolved (cleaned): %s", path)
        elif result.classification == "error":
            log.info("could not read %s: %s", path, result.reason)
        with self._processed_cond:
            self.processed += 1
            self._processed_cond.notify_all()
        return change, read

    def volume_info(self, path: str) -> dict:
        root = root_of(path, self.roots)
        vol: dict[str, Any] = {"mount": None, "encrypted": None, "removable": False}
        try:
            from agent.posture.disk_encryption import volume_for_path

            vol.update(volume_for_path(path))
        except Exception as e:  # posture not available: the watch still works
            log.debug("volume_for_path unavailable: %s", type(e).__name__)
        vol.pop("device", None)
        vol["removable"] = bool(vol.get("removable") or (root and root.removable))
        vol["cloud"] = cloud_of(path, self.roots)
        return vol

    # -- the crawl -----------------------------------------------------------------------
    def _crawl(self) -> None:
        while not self.stop_event.is_set():
            with self._roots_lock:
                todo = self.crawler.pending(disjoint(self.roots))
            for r in todo:
                if self.stop_event.is_set():
                    return
                if self.crawler.crawl(r):
                    self.reconcile(r)
                    self._checkin_soon.set()
                    prog = self.crawler.progress()["roots"].get(r.key, {})
                    self.store.add_event(
                        "scan_completed",
                        {
                            "root_kind": r.kind,
                            "files": prog.get("files", 0),
                            "bytes": prog.get("bytes", 0),
                        },
                    )
            self._crawl_wake.wait()
            self._crawl_wake.clear()

    def reconcile(self, root: Root) -> int:
        """After a full crawl: findings under ``root`` whose file is gone were deleted
        while nobody watched (agent stopped, volume written elsewhere). Resolve them."""
        gone = [
            f["path"]
            for f in self.store.open_findings()
            if (f["path"] == root.key or f["path"].startswith(root.key + os.sep))
            and not os.path.lexists(f["path"])
        ]
        for p in gone:
            self.store.resolve(p, "deleted")
        if gone:
            log.info("%d finding(s) under %s resolved: files gone", len(gone), root.key)
        return len(gone)

    def rescan(self) -> None:
        self.crawler.request_rescan(self.roots)
        self._crawl_wake.set()

    def crawl_done(self) -> bool:
        with self._roots_lock:
            return not self.crawler.pending(disjoint(self.roots))

    def wait_idle(self, timeout: float = 30.0) -> bool:
        """Tests and the bench: wait until the crawl is done and no work is pending."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if (
                self.crawl_done()
                and not len(self.queue)
                and not len(self.deep)
                and not len(self.debouncer)
                and not self._busy
            ):
                return True
            time.sleep(0.05)
        return False

    # -- removable volumes ---------------------------------------------------------------
    def _housekeeping(self) -> None:
        self.mounts.poll()
        self.scanner.reap()  # idle classifier children exit: the agent stays small

    def _mounted(self, vol: Volume) -> None:
        root = Root(Path(vol.mount), kind="removable", removable=True)
        with self._roots_lock:
            if root in self.roots:
                return
            self.roots.append(root)
        self.store.add_event("media_mounted", vol.to_event())
        if self._watching:
            try:
                self.watcher.add(root)
            except WatchError as e:
                log.error("%s", e)
        # A volume that comes back is crawled again: its files may have changed elsewhere.
        self.crawler.request_rescan([root])
        self._save_roots()
        self._crawl_wake.set()

    def _unmounted(self, vol: Volume) -> None:
        with self._roots_lock:
            self.roots = [r for r in self.roots if r.key != vol.mount]
        self.watcher.remove(Root(Path(vol.mount), kind="removable", removable=True))
        self.store.add_event("media_removed", vol.to_event())
        self._save_roots()
        # Findings on the volume stay open: the PHI left with the drive, it is not cleaned.

    def _save_roots(self) -> None:
        with self._roots_lock:
            roots = [{"path": r.key, "kind": r.kind, "cloud": r.cloud} for r in self.roots]
        self.store.set_meta("roots", roots)

    # -- posture and check-in ------------------------------------------------------------
    def posture(self) -> dict | None:
        """Run the posture checks; keep the result for the next check-in and status."""
        try:
            from agent.posture import run_checks

            checks = [c.to_json() for c in run_checks(self.policy)]
        except Exception as e:
            log.error("posture checks failed: %s", type(e).__name__)
            return None
        result = {"checked_at": now_iso(), "checks": checks}
        headline: dict[str, int] = {}
        for c in checks:
            headline[c["status"]] = headline.get(c["status"], 0) + 1
        self.store.set_meta(
            "posture",
            {
                **result,
                "headline": headline,
                "failing": [c["id"] for c in checks if c["status"] == "fail"],
            },
        )
        self.store.set_meta("posture_pending", True)
        return result

    def _inventory(self) -> dict | None:
        try:
            from agent.inventory import collect

            return collect()
        except Exception as e:
            log.info("inventory unavailable: %s", type(e).__name__)
            return None

    def checkin(self, *, flush: bool = True) -> bool:
        """Queue one report (pending posture, all open findings, new events) and try to
        send it. True when the report is durably queued."""
        self._last_checkin = time.monotonic()
        if self.reporter is None:
            log.info("check-in skipped: reporting is not set up")
            return False
        try:
            from agent.enroll import ensure_enrolled

            ensure_enrolled(self.reporter.config)
        except Exception as e:
            log.info("enrollment check failed: %s", type(e).__name__)
        posture = None
        if self.store.get_meta("posture_pending"):
            p = self.store.get_meta("posture") or {}
            posture = {"checked_at": p.get("checked_at"), "checks": p.get("checks", [])}
        events = self.store.pending_events()
        try:
            self.reporter.queue(
                posture=posture,
                inventory=self._inventory() if posture else None,
                findings=self.store.open_findings(),
                findings_complete=self.crawl_done(),
                events=[{k: e[k] for k in ("event_id", "type", "at", "data")} for e in events],
            )
        except Exception as e:
            log.error("check-in could not be queued: %s", e)
            return False
        if events:
            self.store.ack_events(events[-1]["seq"])
        self.store.set_meta("posture_pending", False)
        self.store.set_meta("last_queued", now_iso())
        if flush:
            try:
                result = self.reporter.flush()
                if result.get("error"):
                    log.warning("check-in not sent yet: %s", result["error"])
                else:
                    self._reload_policy()
            except Exception as e:  # the outbox keeps the report
                log.warning("check-in not sent yet: %s", type(e).__name__)
        return True

    # -- notifications -------------------------------------------------------------------
    def _on_shown(self, n: Notification, count: int, delivered: bool) -> None:
        self.store.set_meta(
            "last_warning",
            {
                "title": n.title,
                "body": n.body,
                "files": count,
                "delivered": delivered,
                "at": now_iso(),
            },
        )

    # -- --once --------------------------------------------------------------------------
    def once(self) -> int:
        """`phiwatch run --once`: posture, one full scan of the roots, one check-in.
        0 when the check-in was queued, 3 when it could not be."""
        self.store.add_event("agent_started", {"version": __version__, "once": True})
        self.posture()
        self.mounts.poll()
        self.crawler.request_rescan(self.roots)
        for r in disjoint(self.roots):
            if self.crawler.crawl(r):
                self.reconcile(r)
        self.store.add_event(
            "scan_completed",
            {"files": sum(v.get("files", 0) for v in self.crawler.progress()["roots"].values())},
        )
        self.notifier.start()
        self.notifier.stop()  # shows what the scan gathered
        return 0 if self.checkin() else 3


class AlreadyRunning(Exception):
    """Another `phiwatch run` holds the state dir (two agents would warn twice)."""


class InstanceLock:
    """An exclusive lock on ``<state_dir>/run.lock`` for the life of the process. The OS
    drops it when the process dies, so a crash never leaves a stale lock."""

    def __init__(self) -> None:
        self.path = paths.state_dir() / "run.lock"
        self._fh: Any = None

    def acquire(self) -> None:
        fh = open(self.path, "a+")
        try:
            if os.name == "nt":
                import msvcrt

                fh.seek(0)
                msvcrt.locking(fh.fileno(), msvcrt.LK_NBLCK, 1)
            else:
                import fcntl

                fcntl.flock(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            fh.seek(0)
            pid = fh.read().strip()
            fh.close()
            raise AlreadyRunning(f"phiwatch run is already running (pid {pid or '?'})") from None
        fh.seek(0)
        fh.truncate()
        fh.write(str(os.getpid()))
        fh.flush()
        self._fh = fh

    def release(self) -> None:
        if self._fh is not None:
            self._fh.close()
            self._fh = None


def _default_excludes() -> tuple[str, ...]:
    from agent.watch.roots import DEFAULT_EXCLUDES

    return DEFAULT_EXCLUDES


def _cfg(config: Any, key: str, default: Any) -> Any:
    if config is None:
        return default
    try:
        value = getattr(config, key)
    except AttributeError:
        return default
    return default if value is None else value
