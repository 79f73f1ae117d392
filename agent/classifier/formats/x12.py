"""ASC X12 health care claims (837) and remittances (835) as one Record per transaction.

The ISA header is fixed width (106 characters): the element separator is at offset 3,
the component separator at 104, the segment terminator at 105. A transaction runs from
ST to SE. Identity sits in the subscriber and patient loops (837: NM1*IL, loop 2010BA,
and NM1*QC, loop 2010CA; 835: NM1*QC per claim): NM103/NM104 name, NM108/NM109 id
qualifier and id (MI member id, 34 SSN), then N3/N4 address, DMG birth date, REF
secondary ids. Provider and payer loops (NM1*85, 82, PR...) are not the patient.
Health: HI diagnosis codes, SV1/SV2/SV3 service lines, CLM/CLP claims.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from agent.classifier.formats import textcodec
from agent.classifier.formats.source import Source
from agent.classifier.limits import Budget
from agent.classifier.units import ExtractionError, Record, TextBlock, Unit

CHUNK_CHARS = 1 << 20
PERSON_ENTITIES = {"IL", "QC", "74"}  # subscriber, patient, corrected patient/insured
ID_QUALIFIERS = {"MI": "member_id", "34": "ssn", "II": "member_id", "HN": "member_id"}
REF_IDS = {"SY": "ssn", "EA": "mrn", "1W": "member_id", "IG": "member_id", "F6": "mbi"}
HEALTH = {
    "HI": "diagnosis",
    "SV1": "procedure",
    "SV2": "procedure",
    "SV3": "procedure",
    "CLM": "claim",
    "CLP": "claim",
    "SVC": "procedure",
}
_ISA = re.compile(r"\A\s*ISA([^\w\s])")


def units(src: Source, budget: Budget, depth: int = 0) -> Iterator[Unit]:
    encoding = textcodec.detect(src.head()) or "latin-1"
    head = textcodec.decode_head(src.head(), encoding).lstrip()
    m = _ISA.match(head)
    if not m or len(head) < 106:
        raise ExtractionError("corrupt x12: ISA header is not 106 characters")
    elem, comp, term = head[3], head[104], head[105]
    txn: Transaction | None = None
    for seg in _segments(src, encoding, term, budget):
        fields = seg.split(elem)
        sid = fields[0]
        if sid == "ST":
            if txn is not None:
                yield txn.record(budget)
            txn = Transaction(comp)
        if txn is None:
            continue  # ISA/GS envelope before the first transaction
        txn.add(sid, fields)
        if sid == "SE":
            yield txn.record(budget)
            txn = None
    if txn is not None:
        yield txn.record(budget)


def _segments(src: Source, encoding: str, term: str, budget: Budget) -> Iterator[str]:
    import codecs

    decoder = codecs.getincrementaldecoder(encoding)(errors="replace")
    carry = ""
    with src.open() as f:
        while True:
            budget.check_time()
            raw = f.read(CHUNK_CHARS)
            text = carry + decoder.decode(raw, final=not raw)
            parts = text.split(term)
            carry = parts.pop() if raw else ""
            budget.add_text(len(text) - len(carry))
            for part in parts:
                part = part.strip()
                if part:
                    yield part
            if not raw:
                if carry.strip():
                    yield carry.strip()
                return
            if len(carry) > CHUNK_CHARS:  # no terminator for a whole chunk: not X12
                raise ExtractionError("corrupt x12: segment longer than 1 MiB")


class Transaction:
    def __init__(self, comp: str) -> None:
        self.comp = comp
        self.person = False  # inside a subscriber / patient loop
        self.identity = False
        self.identifiers: dict[str, int] = {}
        self.health: dict[str, int] = {}
        self.lines: list[str] = []

    def add(self, sid: str, f: list[str]) -> None:
        if sid == "NM1":
            self.person = _get(f, 1) in PERSON_ENTITIES and _get(f, 2) == "1"
            if self.person:
                if _get(f, 3) or _get(f, 4):
                    self.identity = True
                    self._count("name")
                if _get(f, 9):
                    self.identity = True
                    self._count(ID_QUALIFIERS.get(_get(f, 8), "member_id"))
        elif sid in ("HL", "CLM", "LX"):
            self.person = False  # a new level, claim or service line: not the person loop
        elif self.person:
            if sid == "N3" and _get(f, 1):
                self._count("address")
            elif sid == "N4" and _get(f, 3):
                self._count("zip")
            elif sid == "DMG" and _get(f, 2):
                self._count("dob")
            elif sid == "REF" and _get(f, 2):
                self._count(REF_IDS.get(_get(f, 1), "account"))
            elif sid == "PER":
                for i in (4, 6, 8):
                    if _get(f, i):
                        self._count("email" if _get(f, i - 1) == "EM" else "phone")
        kind = HEALTH.get(sid)
        if kind:
            n = sum(1 for x in f[1:] if x) if sid == "HI" else 1
            self.health[kind] = self.health.get(kind, 0) + n
            codes = " ".join(x.replace(self.comp, " ") for x in f[1:] if x)
            self.lines.append(f"{sid} {codes}")

    def _count(self, kind: str) -> None:
        self.identifiers[kind] = self.identifiers.get(kind, 0) + 1

    def record(self, budget: Budget) -> Record:
        text = "\n".join(self.lines) + "\n" if self.lines else ""
        return Record(
            format="x12",
            patient_identity=self.identity,
            identifiers=self.identifiers,
            health=self.health,
            text=[TextBlock(text, where="claims")] if text else [],
            where="transaction",
        )


def _get(fields: list[str], i: int) -> str:
    return fields[i].strip() if i < len(fields) else ""
