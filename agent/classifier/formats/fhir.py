"""FHIR resources (JSON, NDJSON, XML) as Records.

Identity sits in Patient (HL7 FHIR R4 Patient: identifier, name, telecom, address,
birthDate, contact) and in a clinical resource's `subject`/`patient` reference when it
carries a `display` name. A Bundle is one Record summing its entries. Definitional and
administrative resources (ValueSet, CapabilityStatement, Questionnaire, Medication...) do
not describe a patient: their Record has no identity and no health counts, only text.
FHIR XML is turned into the JSON shape first (FHIR R4 XML: `value` attributes, resource
elements wrapped in <resource>/<contained>), so one code path reads both.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any
from xml.etree.ElementTree import Element

from agent.classifier.formats import jsonfmt, xmlfmt
from agent.classifier.formats.source import Source
from agent.classifier.limits import Budget
from agent.classifier.units import Record, TextBlock, Unit

# Resource type -> health kind (FHIR R4 resource list, clinical and financial modules).
HEALTH = {
    "Condition": "diagnosis",
    "FamilyMemberHistory": "diagnosis",
    "Observation": "result",
    "DiagnosticReport": "result",
    "Specimen": "result",
    "MedicationRequest": "medication",
    "MedicationStatement": "medication",
    "MedicationAdministration": "medication",
    "MedicationDispense": "medication",
    "Procedure": "procedure",
    "ServiceRequest": "procedure",
    "CarePlan": "procedure",
    "Encounter": "encounter",
    "EpisodeOfCare": "encounter",
    "Appointment": "encounter",
    "AllergyIntolerance": "allergy",
    "Immunization": "immunization",
    "DocumentReference": "note",
    "Composition": "note",
    "ClinicalImpression": "note",
    "ImagingStudy": "imaging",
    "Claim": "claim",
    "ExplanationOfBenefit": "claim",
    "Coverage": "claim",
}
# Patient.identifier type codes (HL7 v2 table 0203) -> identifier kind.
ID_TYPES = {
    "MR": "mrn",
    "SS": "ssn",
    "MB": "member_id",
    "SN": "member_id",
    "DL": "license",
    "PPN": "passport",
    "AN": "account",
    "PI": "mrn",
    "MA": "member_id",
    "MC": "member_id",
}
TELECOM = {"phone": "phone", "fax": "fax", "email": "email", "sms": "phone", "url": "url"}
RECORD_TEXT_CHARS = 1 << 20
_TAGS = re.compile(r"<[^>]+>")


def units(src: Source, budget: Budget, depth: int = 0) -> Iterator[Unit]:
    """fhir-json: one resource or Bundle per file."""
    obj = yield from jsonfmt.parsed_or_text(src, budget,
                                            lambda: jsonfmt.load(src, budget, "fhir-json"))
    if obj is None:
        return
    acc = Accumulator("fhir-json", budget)
    acc.add(obj)
    yield from acc.flush()


def ndjson_units(src: Source, budget: Budget, depth: int = 0) -> Iterator[Unit]:
    """fhir-ndjson (Bulk Data $export): one resource per line, grouped into Records."""
    acc = Accumulator("fhir-ndjson", budget)
    for n, obj in jsonfmt.lines(src, budget):
        acc.where = acc.where or f"line {n}"
        if isinstance(obj, dict):
            acc.add(obj)
        else:
            acc.lines.append(obj if isinstance(obj, str) else str(obj))
        if acc.size >= RECORD_TEXT_CHARS:
            yield from acc.flush()
    yield from acc.flush()


def xml_units(src: Source, budget: Budget, depth: int = 0) -> Iterator[Unit]:
    """fhir-xml: the root element is the resource (or Bundle)."""
    root = yield from jsonfmt.parsed_or_text(src, budget,
                                             lambda: xmlfmt.parse(src, budget, "fhir-xml"))
    if root is None:
        return
    acc = Accumulator("fhir-xml", budget)
    acc.add(from_xml(root))
    yield from acc.flush()


class Accumulator:
    """Sums resources into one Record: identity, kind counts and `key: value` text."""

    def __init__(self, fmt: str, budget: Budget) -> None:
        self.fmt, self.budget = fmt, budget
        self.reset()

    def reset(self) -> None:
        self.identity = False
        self.identifiers: dict[str, int] = {}
        self.health: dict[str, int] = {}
        self.lines: list[str] = []
        self.size = 0
        self.where = ""

    def add(self, res: Any, depth: int = 0) -> None:
        if not isinstance(res, dict):
            return
        if depth > self.budget.limits.max_nesting:
            return
        rtype = str(res.get("resourceType", ""))
        if rtype == "Bundle":
            for entry in _items(res.get("entry")):
                if isinstance(entry, dict):
                    self.add(entry.get("resource"), depth + 1)
            return
        for contained in _items(res.get("contained")):
            self.add(contained, depth + 1)
        if rtype == "Patient":
            self._patient(res)
        kind = HEALTH.get(rtype)
        if kind:
            _count(self.health, kind)
            for key in ("subject", "patient", "beneficiary"):
                ref = res.get(key)
                if isinstance(ref, dict) and str(ref.get("display", "")).strip():
                    self.identity = True
                    _count(self.identifiers, "name")
        self._text(res, rtype)

    def _patient(self, p: dict) -> None:
        names = [n for n in _items(p.get("name")) if _has_name(n)]
        ids = [i for i in _items(p.get("identifier")) if isinstance(i, dict) and i.get("value")]
        if names or ids:
            self.identity = True
        if names:
            _count(self.identifiers, "name", len(names))
        for ident in ids:
            _count(self.identifiers, _identifier_kind(ident))
        if p.get("birthDate"):
            _count(self.identifiers, "dob")
        for addr in _items(p.get("address")):
            if isinstance(addr, dict):
                if addr.get("line") or addr.get("city") or addr.get("text"):
                    _count(self.identifiers, "address")
                if addr.get("postalCode"):
                    _count(self.identifiers, "zip")
        for tel in _items(p.get("telecom")):
            if isinstance(tel, dict) and tel.get("value"):
                _count(self.identifiers, TELECOM.get(str(tel.get("system", "")), "phone"))
        for contact in _items(p.get("contact")):
            if isinstance(contact, dict) and _has_name(contact.get("name")):
                _count(self.identifiers, "name")
        if p.get("photo"):
            _count(self.identifiers, "photo")

    def _text(self, res: dict, rtype: str) -> None:
        flat = jsonfmt.flatten(res, self.budget, 0, self.fmt)
        for key, value in flat.items():
            if key.endswith("text.div"):
                value = _TAGS.sub(" ", value)
            line = f"{rtype}.{key}: {value}" if rtype else f"{key}: {value}"
            self.lines.append(line)
            self.size += len(line) + 1

    def flush(self) -> Iterator[Record]:
        if not (self.lines or self.identity or self.health):
            return
        self.budget.check_time()
        text = "\n".join(self.lines) + "\n" if self.lines else ""
        self.budget.add_text(len(text))
        blocks = [
            TextBlock(text[i : i + RECORD_TEXT_CHARS], where=self.where)
            for i in range(0, len(text), RECORD_TEXT_CHARS)
        ]
        yield Record(
            format=self.fmt,
            patient_identity=self.identity,
            identifiers=dict(self.identifiers),
            health=dict(self.health),
            text=blocks,
            where=self.where,
        )
        self.reset()


def _identifier_kind(ident: dict) -> str:
    system = str(ident.get("system", "")).lower()
    if "us-ssn" in system or system.endswith("2.16.840.1.113883.4.1"):
        return "ssn"
    if "us-mbi" in system or "medicare" in system:
        return "mbi"
    itype = ident.get("type")
    for coding in _items(itype.get("coding") if isinstance(itype, dict) else None):
        if isinstance(coding, dict) and str(coding.get("code", "")) in ID_TYPES:
            return ID_TYPES[str(coding["code"])]
    return "mrn"  # any other patient identifier is a record number of some system


def _has_name(n: Any) -> bool:
    if isinstance(n, str):
        return bool(n.strip())
    if not isinstance(n, dict):
        return False
    parts = [n.get("text"), n.get("family"), *_items(n.get("given"))]
    return any(isinstance(x, str) and x.strip() for x in parts)


def _items(v: Any) -> list:
    if v is None:
        return []
    return v if isinstance(v, list) else [v]


def _count(d: dict[str, int], kind: str, n: int = 1) -> None:
    d[kind] = d.get(kind, 0) + n


# ---- FHIR XML -> JSON shape ------------------------------------------------------------

_WRAPPERS = {"resource", "contained"}  # their single child element is a resource


def from_xml(el: Element) -> dict:
    """A FHIR XML resource element in the JSON shape ({"resourceType": ..., ...})."""
    out = _convert(el)
    obj = out if isinstance(out, dict) else {"value": out}
    obj["resourceType"] = xmlfmt.local(el.tag)
    return obj


def _convert(el: Element) -> Any:
    name = xmlfmt.local(el.tag)
    if name == "div":  # XHTML narrative
        return " ".join(t.strip() for t in el.itertext() if t.strip())
    children = list(el)
    if not children:
        return el.attrib.get("value", (el.text or "").strip())
    obj: dict[str, Any] = {k: v for k, v in el.attrib.items() if k in ("url", "id", "value")}
    for child in children:
        key = xmlfmt.local(child.tag)
        if key in _WRAPPERS and len(child):
            val: Any = from_xml(child[0])
        else:
            val = _convert(child)
        if key in obj:
            prev = obj[key]
            obj[key] = [*prev, val] if isinstance(prev, list) else [prev, val]
        else:
            obj[key] = val
    return obj
