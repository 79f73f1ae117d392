"""Evidence for one file: counts per kind, and whether identifiers and health information
meet (same record, or near each other in free text). Counts and locations only.
"""

from __future__ import annotations

import bisect
import re
from collections import Counter
from dataclasses import dataclass, field

from agent.classifier.engine import Engine, Hit
from agent.classifier.names import CREDIT_REACH, credited, find_names
from agent.classifier.units import LazyLine

# Identifier kinds that do not name a person on their own: an IP is mostly infrastructure,
# a date or a ZIP without a person is not identifying (phi-detection.md 7). They are still
# counted, but neither make a file `pii` alone nor pair with health information.
WEAK_KINDS = frozenset({"ip", "date", "zip"})
# Identifiers anyone has (staff, authors, customers): on their own they do not make a text
# about a patient (see analyze_bytes, `cue`). The others (MRN, date of birth, SSN, member
# id...) are a patient's, or a person's in a health context.
_CONTACT_KINDS = frozenset({"name", "email", "phone", "fax", "url", "address"})
# "my/his/her" and up to two words just before a health word: "her biopsy results".
_POSSESSIVE = re.compile(rb"(?i)\b(?:my|his|her)\s+(?:[a-z-]+\s+){0,2}\Z")
# Clinical shorthand that only a note about one person uses: "Pt lives alone", "67 y/o M",
# "c/o chest pain", "h/o CHF", "s/p CABG", "HPI:", "f/u in 2 wks".
_NOTE_SHORTHAND = re.compile(
    rb"(?i)(?<![\w/.])(?:pt|y/o|c/o|h/o|s/p|hpi|f/u)(?![\w/])|\b\d{1,3} ?(?:yo|y/o|-year-old)\b")
# Contact kinds that credit an author in code and documents ("# Author: Jane Roe
# <jroe@lab.org>" above a "breast cancer classifier" docstring): counted, but not paired
# with health findings when a credit stands just before them.
_CREDITED_KINDS = frozenset({"email", "phone", "url"})
# Free text: an identifier and a health finding this close (bytes) are taken to be about
# the same person (Purview uses 300 characters for its ICD-10 proximity; a note's header
# block and its assessment are usually within a few hundred bytes).
PROXIMITY = 600
# Blocks this small (a note, a letter, a message) are one context: header and body belong
# to the same person wherever they sit.
SMALL_BLOCK = 4096
# A document that names its patient (a patient label before a name, an MRN, a date of
# birth) is one context up to this much text: a note's header and its assessment pages
# later are about the same person. (Longer texts, exports of many notes, pair by proximity.)
CUED_DOCUMENT = 32 * 1024


@dataclass
class Evidence:
    identifiers: Counter = field(default_factory=Counter)
    health: Counter = field(default_factory=Counter)
    phi: bool = False
    strong_identifier: bool = False
    phi_where: str | None = None
    first_where: str | None = None
    # Free text analysed (bytes, overlaps not counted) and where its first patient
    # identifier was: a small document is one context (``small_document``).
    text_bytes: int = 0
    patient_where: str | None = None
    # health information about a patient was seen (not only topic words: `needs_cue`)
    patient_health: bool = False
    # a patient identifier with a cue (a labelled name, an MRN...) was seen: see CUED_DOCUMENT
    patient_cued: bool = False
    # condition or procedure words seen without a patient cue in their own block ("Weekly
    # dialysis schedule" above a table)
    topic_health: bool = False
    # where a table's column headed "Patient" (or "Pt Name"...) held its first identifier
    table_patient: str | None = None

    def identifier(self, kind: str, where: str | None, n: int = 1) -> None:
        self.identifiers[kind] += n
        if kind not in WEAK_KINDS:
            self.strong_identifier = True
            if self.first_where is None:
                self.first_where = where

    def health_info(self, kind: str, n: int = 1, about_patient: bool = True) -> None:
        self.health[kind] += n
        if about_patient:
            self.patient_health = True
        else:
            self.topic_health = True

    def mark_phi(self, where: str | None) -> None:
        if not self.phi:
            self.phi = True
            self.phi_where = where

    def merge(self, other: Evidence) -> None:
        self.identifiers.update(other.identifiers)
        self.health.update(other.health)
        self.patient_health = self.patient_health or other.patient_health
        self.topic_health = self.topic_health or other.topic_health
        if other.strong_identifier:
            self.strong_identifier = True
            self.first_where = self.first_where or other.first_where
        if other.phi:
            self.mark_phi(other.phi_where)

    def small_document(self) -> None:
        """A document whose free text is no more than a small block (a two-page letter or
        discharge summary, a short PDF), or CUED_DOCUMENT when it names its patient, is one
        context, as a small block is: a patient identifier on one page and a diagnosis on
        the next are about the same person. Tables keep to their rows: their cells are not
        counted as free text here."""
        limit = CUED_DOCUMENT if self.patient_cued else SMALL_BLOCK
        if not self.phi and self.patient_where is not None and self.patient_health \
                and self.text_bytes <= limit:
            self.mark_phi(self.patient_where)
        # A table of patients (a column headed so) in a small document whose text names
        # a condition or a procedure: the text is about them ("Weekly dialysis schedule").
        if not self.phi and self.table_patient is not None and self.text_bytes <= SMALL_BLOCK \
                and (self.patient_health or self.topic_health):
            self.mark_phi(self.table_patient)

    def label(self) -> str:
        if self.phi:
            return "phi"
        if self.strong_identifier:
            return "pii"
        return "none"

    def where(self) -> str | None:
        return self.phi_where if self.phi else self.first_where


_LINE_SUFFIX = re.compile(r"\s*line \d+$")


def _locate(data: bytes, pos: int, where: str, line: int | LazyLine | None) -> str | None:
    """"page 3 line 12" / "line 40012": the line of ``pos`` inside the block."""
    if line is not None:
        n = int(line) + data.count(b"\n", 0, pos)
        return f"{_LINE_SUFFIX.sub('', where)} line {n}".strip()
    return where or None


def _first_where(ev: Evidence, kind: str, data: bytes, pos: int, where: str,
                 line: int | LazyLine | None) -> str | None:
    """The location of a finding, worked out only when it is the file's first strong
    identifier (the only one kept): counting lines up to every finding made a file dense
    with names quadratic (a 20 MB export ran out of its time budget)."""
    if ev.first_where is not None or kind in WEAK_KINDS:
        return None
    return _locate(data, pos, where, line)


def _credited(data: bytes, pos: int) -> bool:
    return credited(data[max(0, pos - CREDIT_REACH):pos].decode("utf-8", "replace"))


def _merge_windows(hits: list[Hit], size: int, pad: int) -> list[tuple[int, int]]:
    spans: list[tuple[int, int]] = []
    for h in hits:
        s, e = max(0, h.start - pad), min(size, h.end + pad)
        if spans and s <= spans[-1][1]:
            spans[-1] = (spans[-1][0], max(e, spans[-1][1]))
        else:
            spans.append((s, e))
    return spans


def analyze_text(engine: Engine, text: str | bytes, ev: Evidence, *, where: str = "",
                 line: int | LazyLine | None = None, overlap: int = 0) -> None:
    """Score one block of free text into ``ev``: count findings, look for names near
    them, and pair identifiers with health findings by proximity. ``bytes`` are ASCII
    text (a character a byte)."""
    if isinstance(text, bytes):
        analyze_bytes(engine, text, ev, where=where, line=line, overlap_bytes=overlap)
        return
    data = text.encode("utf-8", "replace")
    analyze_bytes(engine, data, ev, where=where, line=line,
                  overlap_bytes=len(text[:overlap].encode("utf-8", "replace")) if overlap else 0)


def analyze_bytes(engine: Engine, data: bytes, ev: Evidence, *, where: str = "",
                  line: int | LazyLine | None = None, overlap_bytes: int = 0) -> None:
    ev.text_bytes += len(data) - overlap_bytes
    found = [h for h in engine.scan(data) if h.end > overlap_bytes]
    hits = [h for h in found if h.counted]
    near = [h for h in found if h.counted or h.category == "trigger"]
    if not near:
        return
    size = len(data)
    spans = [(0, size)] if size <= SMALL_BLOCK else _merge_windows(near, size, PROXIMITY)
    seen_names: set[int] = set()
    ids: list[tuple[int, int, str]] = []  # (start, end, kind) of person identifiers (patient)
    # Does the block name a patient? Topic words (a detector's `needs_cue`) pair with
    # identifiers only then: "the sepsis model" under a staff e-mail is no one's health.
    id_cue = False  # a patient identifier that says it is a patient's (see CUED_DOCUMENT)
    for ws, we in spans:
        for nh in find_names(data[ws:we], ws):
            if nh.end > overlap_bytes and nh.start not in seen_names:
                seen_names.add(nh.start)
                ev.identifier("name", _first_where(ev, "name", data, nh.start, where, line))
                if nh.subject == "patient":
                    ids.append((nh.start, nh.end, "name"))
                    id_cue = id_cue or nh.cue
    health_hits: list[Hit] = []
    for h in hits:
        if h.category == "identifier":
            ev.identifier(h.kind, _first_where(ev, h.kind, data, h.start, where, line))
            if h.subject == "patient" and h.kind not in WEAK_KINDS and not (
                    h.kind in _CREDITED_KINDS and _credited(data, h.start)):
                ids.append((h.start, h.end, h.kind))
                id_cue = id_cue or h.kind not in _CONTACT_KINDS
        else:
            health_hits.append(h)
    dets = engine.detectors
    cue = id_cue
    if not cue and any(dets[h.det].needs_cue for h in health_hits):
        cue = any(_NOTE_SHORTHAND.search(data, ws, we) for ws, we in spans)
    health: list[int] = []
    for h in health_hits:
        about = cue or not dets[h.det].needs_cue or \
            _POSSESSIVE.search(data, max(0, h.start - 24), h.start) is not None
        ev.health_info(h.kind, about_patient=about)
        if about:
            health.append(h.start)
    if ev.phi or not ids:
        return
    ids.sort()
    ev.patient_cued = ev.patient_cued or id_cue
    if ev.patient_where is None and ev.text_bytes <= CUED_DOCUMENT:  # else never asked for
        ev.patient_where = _locate(data, ids[0][0], where, line)
    if not health:
        return
    if size <= SMALL_BLOCK:
        ev.mark_phi(_locate(data, ids[0][0], where, line))
        return
    starts = [i[0] for i in ids]
    for pos in health:
        k = bisect.bisect_left(starts, pos)
        for j in (k - 1, k):
            if 0 <= j < len(ids) and abs(ids[j][0] - pos) <= PROXIMITY:
                ev.mark_phi(_locate(data, ids[j][0], where, line))
                return
