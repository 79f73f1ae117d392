"""HL7 v2 messages (and batches, and MLLP captures) as one Record per message.

Segments end with CR (HL7 v2.5.1 ch. 2.5.1); files copied around also use LF or CRLF,
so any line break splits. MSH-1/MSH-2 declare the separators. Identity (v2.5.1 ch. 3.4.2
PID): PID-3 identifier list (CX; component 5 is the type, MR/SS/...), PID-5 name, PID-7
birth date, PID-11 address, PID-13/14 phones, PID-18 account, PID-19 SSN, PID-20 driver's
license; also NK1, GT1, IN1. Segments with clinical content (OBX, DG1, PR1, RX*, AL1,
NTE, TXA...) are counted as health and their text goes to the engine; the identity
segments are counted here and not handed over as text.
"""

from __future__ import annotations

import io
from collections.abc import Iterator

from agent.classifier.formats import textcodec
from agent.classifier.formats.source import Source
from agent.classifier.limits import Budget
from agent.classifier.units import Record, TextBlock, Unit

# Segment id -> health kind (HL7 v2.5.1 chapters 4, 6, 7, 10, 12).
HEALTH = {
    "OBX": "result",
    "OBR": "result",
    "SPM": "result",
    "DG1": "diagnosis",
    "PRB": "diagnosis",
    "DRG": "diagnosis",
    "PR1": "procedure",
    "RXE": "medication",
    "RXO": "medication",
    "RXA": "medication",
    "RXD": "medication",
    "RXG": "medication",
    "RXR": "medication",
    "AL1": "allergy",
    "IAM": "allergy",
    "PV1": "encounter",
    "PV2": "encounter",
    "SCH": "encounter",
    "AIS": "encounter",
    "TXA": "note",
    "NTE": "note",
}
IDENTITY_SEGMENTS = {"PID", "PD1", "NK1", "GT1", "IN1", "IN2", "MRG"}
# PID field -> identifier kind (PID-3 is typed per repetition, below).
PID_FIELDS = {
    2: "mrn",
    4: "mrn",
    5: "name",
    6: "name",
    7: "dob",
    11: "address",
    13: "phone",
    14: "phone",
    18: "account",
    19: "ssn",
    20: "license",
}
CX_TYPES = {
    "MR": "mrn",
    "SS": "ssn",
    "MB": "member_id",
    "MA": "member_id",
    "MC": "member_id",
    "DL": "license",
    "AN": "account",
    "PI": "mrn",
    "PT": "mrn",
}
NK1_FIELDS = {2: "name", 4: "address", 5: "phone", 6: "phone"}
GT1_FIELDS = {3: "name", 5: "address", 6: "phone", 8: "dob", 12: "ssn"}
IN1_FIELDS = {16: "name", 18: "dob", 19: "address", 36: "member_id", 49: "member_id"}
MAX_SEGMENTS = 100_000  # per message; a longer one is cut into several Records
MAX_SEGMENT_CHARS = 1 << 20


def units(src: Source, budget: Budget, depth: int = 0) -> Iterator[Unit]:
    encoding = textcodec.detect(src.head()) or "latin-1"
    with io.TextIOWrapper(src.open(), encoding=encoding, errors="replace", newline="") as f:
        msg: Message | None = None
        for n, seg in enumerate(_segments(f), 1):
            if n % 4096 == 0:
                budget.check_time()
            seg = seg.strip("\x0b\x1c \t")  # MLLP framing bytes (v2.5.1 Appendix C)
            sid = seg[:3]
            if len(seg) < 3 or sid in ("BTS", "FTS"):
                continue
            if msg is not None and (
                (sid == "MSH" and msg.segments) or msg.segments >= MAX_SEGMENTS
            ):
                yield msg.record(budget)
                msg = Message.after(msg, n) if sid != "MSH" else None
            if msg is None:
                msg = Message.from_header(seg, n)
            msg.add(seg)
        if msg is not None and msg.segments:
            yield msg.record(budget)


def _segments(f: io.TextIOBase) -> Iterator[str]:
    # readline(newline="") keeps "\r" as a line end too; cap so one endless line is cut.
    while True:
        line = f.readline(MAX_SEGMENT_CHARS)
        if not line:
            return
        for part in line.replace("\r\n", "\n").replace("\r", "\n").split("\n"):
            if part:
                yield part


class Message:
    def __init__(self, sep: str, comp: str, rep: str, line: int) -> None:
        self.sep, self.comp, self.rep, self.line = sep, comp, rep, line
        self.segments = 0
        self.identity = False
        self.identifiers: dict[str, int] = {}
        self.health: dict[str, int] = {}
        self.lines: list[str] = []

    @classmethod
    def from_header(cls, first: str, line: int) -> Message:
        # MSH-1 is the field separator (byte 3), MSH-2 the encoding characters.
        if first[:3] in ("MSH", "FHS", "BHS") and len(first) > 5:
            return cls(first[3], first[4], first[5], line)
        return cls("|", "^", "~", line)

    @classmethod
    def after(cls, prev: Message, line: int) -> Message:
        return cls(prev.sep, prev.comp, prev.rep, line)

    def add(self, seg: str) -> None:
        self.segments += 1
        sid = seg[:3]
        fields = seg.split(self.sep)
        if sid == "PID":
            self._pid(fields)
        elif sid == "NK1":
            self._fields(fields, NK1_FIELDS)
        elif sid == "GT1":
            self._fields(fields, GT1_FIELDS)
        elif sid == "IN1":
            self._fields(fields, IN1_FIELDS)
        kind = HEALTH.get(sid)
        if kind:
            self.health[kind] = self.health.get(kind, 0) + 1
        if sid not in IDENTITY_SEGMENTS and sid not in ("MSH", "FHS", "BHS"):
            text = " ".join(fields[1:]).replace(self.comp, " ").replace(self.rep, " ; ")
            self.lines.append(f"{sid} {text}")

    def _pid(self, fields: list[str]) -> None:
        ids = _field(fields, 3)
        for rep in ids.split(self.rep):
            comps = rep.split(self.comp)
            if comps[0].strip():
                self.identity = True
                kind = CX_TYPES.get(comps[4].strip() if len(comps) > 4 else "", "mrn")
                self._count(kind)
        if _field(fields, 5).replace(self.comp, "").replace(self.rep, "").strip():
            self.identity = True
        self._fields(fields, PID_FIELDS)
        addr = _field(fields, 11).split(self.comp)
        if len(addr) > 4 and addr[4].strip():
            self._count("zip")

    def _fields(self, fields: list[str], kinds: dict[int, str]) -> None:
        for i, kind in kinds.items():
            value = _field(fields, i)
            for rep in value.split(self.rep):
                if rep.replace(self.comp, "").strip():
                    self._count(kind)

    def _count(self, kind: str) -> None:
        self.identifiers[kind] = self.identifiers.get(kind, 0) + 1

    def record(self, budget: Budget) -> Record:
        text = "\n".join(self.lines) + "\n" if self.lines else ""
        budget.add_text(len(text))
        where = f"line {self.line}"
        return Record(
            format="hl7",
            patient_identity=self.identity,
            identifiers=self.identifiers,
            health=self.health,
            text=[TextBlock(text, where=where, line=self.line)] if text else [],
            where=where,
        )


def _field(fields: list[str], i: int) -> str:
    return fields[i] if i < len(fields) else ""
