"""C-CDA (HL7 CDA R2 ClinicalDocument) as a Record.

Identity: recordTarget/patientRole (HL7 C-CDA R2.1 vol. 2, US Realm Header): `id`
(@extension; SSN when @root is 2.16.840.1.113883.4.1), `addr`, `telecom/@value`,
`patient/name`, `patient/birthTime/@value`. An element with @nullFlavor holds no value,
so a skeleton whose recordTarget is all nullFlavor names nobody. Health: coded values
inside section entries, counted by code system OID (the document's own LOINC type code
is not health information about anyone). Narrative section text goes to the engine.
"""

from __future__ import annotations

from collections.abc import Iterator
from xml.etree.ElementTree import Element

from agent.classifier.formats import jsonfmt, xmlfmt
from agent.classifier.formats.source import Source
from agent.classifier.limits import Budget
from agent.classifier.units import Record, TextBlock, Unit

# Code system OIDs (HL7 OID registry).
CODE_SYSTEMS = {
    "2.16.840.1.113883.6.90": "icd10",
    "2.16.840.1.113883.6.103": "icd9",
    "2.16.840.1.113883.6.96": "snomed",
    "2.16.840.1.113883.6.1": "loinc",
    "2.16.840.1.113883.6.88": "rxnorm",
    "2.16.840.1.113883.6.12": "cpt",
    "2.16.840.1.113883.6.69": "ndc",
    "2.16.840.1.113883.12.292": "cvx",
}
SSN_ROOT = "2.16.840.1.113883.4.1"


def units(src: Source, budget: Budget, depth: int = 0) -> Iterator[Unit]:
    root = yield from jsonfmt.parsed_or_text(src, budget,
                                             lambda: xmlfmt.parse(src, budget, "ccda-xml"))
    if root is None:
        return
    identifiers: dict[str, int] = {}
    identity = False
    for target in _find(root, "recordTarget"):
        for role in _find(target, "patientRole"):
            identity |= _patient_role(role, identifiers)
    health: dict[str, int] = {}
    lines: list[str] = []
    for entry in _find(root, "entry"):
        for el in entry.iter():
            kind = CODE_SYSTEMS.get(el.attrib.get("codeSystem", ""))
            if kind and el.attrib.get("code"):
                health[kind] = health.get(kind, 0) + 1
                name = el.attrib.get("displayName")
                lines.append(f"{kind} {el.attrib['code']}" + (f" {name}" if name else ""))
    for section in _find(root, "section"):
        for child in section:
            if xmlfmt.local(child.tag) in ("title", "text"):
                txt = " ".join(t.strip() for t in child.itertext() if t.strip())
                if txt:
                    lines.append(f"{xmlfmt.local(child.tag)}: {txt}")
    text = "\n".join(lines) + "\n" if lines else ""
    budget.add_text(len(text))
    yield Record(
        format="ccda-xml",
        patient_identity=identity,
        identifiers=identifiers,
        health=health,
        text=[TextBlock(text, where="sections")] if text else [],
        where="recordTarget",
    )


def _patient_role(role: Element, ids: dict[str, int]) -> bool:
    identity = False
    for el in role:
        name = xmlfmt.local(el.tag)
        if _null(el):
            continue
        if name == "id" and el.attrib.get("extension"):
            identity = True
            _count(ids, "ssn" if el.attrib.get("root") == SSN_ROOT else "mrn")
        elif name == "addr" and _has_text(el):
            _count(ids, "address")
            if any(xmlfmt.local(c.tag) == "postalCode" and _has_text(c) for c in el):
                _count(ids, "zip")
        elif name == "telecom" and el.attrib.get("value"):
            value = el.attrib["value"].lower()
            kind = "email" if value.startswith("mailto:") else "fax" if "fax" in value else "phone"
            _count(ids, kind)
        elif name == "patient":
            for p in el:
                pname = xmlfmt.local(p.tag)
                if _null(p):
                    continue
                if pname == "name" and _has_text(p):
                    identity = True
                    _count(ids, "name")
                elif pname == "birthTime" and p.attrib.get("value"):
                    _count(ids, "dob")
    return identity


def _find(root: Element, name: str) -> Iterator[Element]:
    return (el for el in root.iter() if xmlfmt.local(el.tag) == name)


def _null(el: Element) -> bool:
    return "nullFlavor" in el.attrib


def _has_text(el: Element) -> bool:
    return any(t.strip() for t in el.itertext())


def _count(d: dict[str, int], kind: str) -> None:
    d[kind] = d.get(kind, 0) + 1
