"""The detection engine: text bytes -> scored findings (kind, category, span), never values.

Pipeline per block (phi-detection.md 6.3): a multi-pattern prefilter over the raw bytes
says where a detector can possibly fire (Hyperscan when importable; it runs at GB/s on
clean bytes, so code and logs without persons cost almost nothing); the exact Python
regex then runs only in a small window around each prefilter hit; then the validator
(checksum or structural rule); then whole-word context before/after the match.

``PHIWATCH_ENGINE=re`` forces the pure-Python fallback (every regex over the whole block,
vocabulary by word lookup); the tests run both and compare.
"""

from __future__ import annotations

import os
import re
from collections import defaultdict
from dataclasses import dataclass
from functools import cache

from agent.classifier.rules import THRESHOLD, Detector, RuleSet, default_rules

try:  # compiled engine with wheels for Linux, macOS (arm64/x86_64) and Windows
    import hyperscan
except ImportError:  # pragma: no cover - exercised through PHIWATCH_ENGINE=re
    hyperscan = None


@dataclass(slots=True)
class Hit:
    """One finding: which detector, where (byte offsets in the block), how sure. The
    matched bytes are not kept."""

    det: int
    kind: str
    category: str
    subject: str
    start: int
    end: int
    score: float

    @property
    def counted(self) -> bool:
        return self.score >= THRESHOLD


_WORD = re.compile(rb"[a-z0-9][a-z0-9-]*")


class Engine:
    """Compiled detectors. One per process (``get_engine``); thread-compatible for
    scanning since Hyperscan scratch space is allocated per call."""

    def __init__(self, rules: RuleSet, mode: str | None = None):
        self.rules = rules
        self.detectors: list[Detector] = rules.detectors
        mode = mode or os.environ.get("PHIWATCH_ENGINE", "").strip().lower() or "auto"
        if mode not in ("auto", "hyperscan", "re"):
            raise ValueError(f"PHIWATCH_ENGINE must be 'hyperscan' or 're', not {mode!r}")
        if mode == "hyperscan" and hyperscan is None:
            raise ValueError("PHIWATCH_ENGINE=hyperscan but the hyperscan module is not installed")
        self.mode = "re" if mode == "re" or hyperscan is None else "hyperscan"
        # Prefilter pattern table: id -> (detector index, pattern index or -1 for a term,
        # term length for terms).
        self._table: list[tuple[int, int, int]] = []
        self._terms_first: dict[bytes, list[tuple[bytes, int]]] = defaultdict(list)
        exprs: list[bytes] = []
        flags: list[int] = []
        for di, d in enumerate(self.detectors):
            for pi, p in enumerate(d.patterns):
                self._table.append((di, pi, 0))
                exprs.append(p.source)
                flags.append(self._hs_flags(p.caseless))
            for term in d.terms:
                t = term.encode("utf-8")
                self._table.append((di, -1, len(t)))
                exprs.append(rb"\b" + re.escape(t) + rb"\b")
                flags.append(self._hs_flags(True))
                self._terms_first[t.split(b" ")[0]].append((t, di))
        self._db = None
        if self.mode == "hyperscan":
            self._db = hyperscan.Database(mode=hyperscan.HS_MODE_BLOCK)
            self._db.compile(expressions=exprs, ids=list(range(len(exprs))), elements=len(exprs),
                             flags=flags)

    @staticmethod
    def _hs_flags(caseless: bool) -> int:
        if hyperscan is None:
            return 0
        # PREFILTER: Hyperscan approximates what it cannot run (lookarounds) by a
        # superset; the exact Python regex confirms every candidate afterwards.
        f = hyperscan.HS_FLAG_PREFILTER
        return f | hyperscan.HS_FLAG_CASELESS if caseless else f

    # -- candidate generation ---------------------------------------------------------

    def _candidates_hs(self, data: bytes) -> tuple[dict[int, list[int]], list[Hit]]:
        ends: dict[int, list[int]] = defaultdict(list)
        term_hits: list[Hit] = []
        table = self._table
        dets = self.detectors

        def on_match(pid: int, _from: int, to: int, _flags: int, _ctx: object) -> None:
            di, pi, tlen = table[pid]
            if pi < 0:
                d = dets[di]
                term_hits.append(Hit(di, d.kind, d.category, d.subject, to - tlen, to, d.term_score))
            else:
                ends[pid].append(to)

        self._db.scan(data, match_event_handler=on_match)
        return ends, term_hits

    def _terms_re(self, data: bytes) -> list[Hit]:
        low = data.lower()
        hits: list[Hit] = []
        first = self._terms_first
        for m in _WORD.finditer(low):
            cands = first.get(m.group())
            if not cands:
                continue
            s = m.start()
            for term, di in cands:
                e = s + len(term)
                if low.startswith(term, s) and (e >= len(low) or not low[e:e + 1].isalnum()):
                    d = self.detectors[di]
                    hits.append(Hit(di, d.kind, d.category, d.subject, s, e, d.term_score))
        return hits

    # -- confirmation --------------------------------------------------------------------

    def _score(self, d: Detector, base: float, data: bytes, m: re.Match[bytes]) -> float:
        if d.validator is not None:
            try:
                v = m.group("v")
            except IndexError:
                v = m.group(0)
            if not d.validator(v.decode("latin-1")):
                return 0.0
        score = base
        s, e = m.span()
        ctx = d.context
        if ctx is not None and ctx.regex is not None and score < 1.0:
            window = data[max(0, s - ctx.before):e + ctx.after].lower()
            if ctx.regex.search(window):
                score += ctx.boost
        neg = d.negative
        if neg is not None and neg.regex is not None:
            window = data[max(0, s - neg.before):e + neg.after].lower()
            if neg.regex.search(window):
                score -= neg.boost
        return max(0.0, min(1.0, score))

    def _confirm(self, di: int, pi: int, data: bytes, spans: list[tuple[int, int]],
                 out: list[Hit], seen: set[tuple[int, int]]) -> None:
        d = self.detectors[di]
        p = d.patterns[pi]
        for ws, we in spans:
            for m in p.regex.finditer(data, ws, we):
                key = (di, m.end())
                if key in seen:
                    continue
                seen.add(key)
                out.append(Hit(di, d.kind, d.category, d.subject, m.start(), m.end(),
                               self._score(d, p.score, data, m)))

    def scan(self, data: bytes) -> list[Hit]:
        """Every finding in ``data`` (counted or not; ``Hit.counted`` tells), sorted by
        position. Invalid look-alikes come back with score 0 so that callers can tell a
        column of part numbers from a column of SSNs."""
        if not data:
            return []
        hits: list[Hit] = []
        seen: set[tuple[int, int]] = set()
        n = len(data)
        if self.mode == "hyperscan":
            ends, hits = self._candidates_hs(data)
            for pid, offs in ends.items():
                di, pi, _ = self._table[pid]
                back, fwd = self.detectors[di].window
                spans: list[tuple[int, int]] = []
                for to in offs:  # Hyperscan reports ends in order: merge the windows
                    ws, we = max(0, to - back), min(n, to + fwd)
                    if spans and ws <= spans[-1][1]:
                        spans[-1] = (spans[-1][0], we)
                    else:
                        spans.append((ws, we))
                self._confirm(di, pi, data, spans, hits, seen)
        else:
            hits = self._terms_re(data)
            for di, pi, _ in self._table:
                if pi >= 0:
                    self._confirm(di, pi, data, [(0, n)], hits, seen)
        hits.sort(key=lambda h: (h.start, h.end))
        return _drop_overlaps(hits, self.detectors)


def _drop_overlaps(hits: list[Hit], dets: list[Detector]) -> list[Hit]:
    """One span, one kind (Presidio #47): where counted findings of different kinds
    overlap, the higher score wins (an SSN is not also a phone)."""
    out: list[Hit] = []
    for h in hits:
        if out and h.counted:
            prev = out[-1]
            if prev.counted and h.start < prev.end and prev.kind != h.kind and prev.category == h.category:
                if h.score > prev.score:
                    out[-1] = h
                continue
        out.append(h)
    return out


@cache
def get_engine(mode: str | None = None) -> Engine:
    """The process-wide engine over the shipped rules (compiled once)."""
    return Engine(default_rules(), mode)
