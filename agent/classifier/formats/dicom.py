"""DICOM headers (never pixels) as a Record.

pydicom reads the header and stops before Pixel Data (7FE0,0010), deferring any long
value. Identity: PatientName (0010,0010) or PatientID (0010,0020) non-empty (DICOM PS3.3
C.7.1.1 Patient Module); other patient attributes are counted. A de-identified file
(PS3.15 Annex E) has them empty: no identity. Descriptions go to the engine as text.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from agent.classifier.formats.source import Source, needs
from agent.classifier.limits import Budget
from agent.classifier.units import ExtractionError, Record, TextBlock, Unit

# Keyword -> identifier kind (PS3.6 data dictionary, group 0010 and a few others).
IDENTIFIERS = {
    "PatientName": "name",
    "OtherPatientNames": "name",
    "PatientBirthName": "name",
    "PatientMotherBirthName": "name",
    "PatientID": "mrn",
    "OtherPatientIDs": "mrn",
    "IssuerOfPatientID": None,
    "PatientBirthDate": "dob",
    "PatientAddress": "address",
    "PatientTelephoneNumbers": "phone",
    "MedicalRecordLocator": "mrn",
    "AccessionNumber": "accession",
    "DeviceSerialNumber": "device",
    "PatientInsurancePlanCodeSequence": "member_id",
}
# Free text that can describe a condition or name someone (PS3.15 Annex E lists them).
TEXT = (
    "StudyDescription",
    "SeriesDescription",
    "ReasonForStudy",
    "RequestedProcedureDescription",
    "AdmittingDiagnosesDescription",
    "AdditionalPatientHistory",
    "ImageComments",
    "PatientComments",
    "MedicalAlerts",
    "Allergies",
    "PerformedProcedureStepDescription",
    "BodyPartExamined",
    "Modality",
)


def units(src: Source, budget: Budget, depth: int = 0) -> Iterator[Unit]:
    with needs("dicom"), _hidden("requests", "PIL"):
        import pydicom
        from pydicom.errors import InvalidDicomError

    target = src.seekable(budget)
    fp = open(target, "rb") if isinstance(target, Path) else target
    with fp:
        size = fp.seek(0, 2)
        fp.seek(0)
        try:
            # force: a data set without the preamble and "DICM" (sniff.py's raw DICOM)
            ds = pydicom.dcmread(fp, stop_before_pixels=True, defer_size=4096,
                                 force=src.head()[128:132] != b"DICM")
        except InvalidDicomError:
            raise ExtractionError("corrupt dicom: not a DICOM file") from None
        except (EOFError, ValueError, KeyError, OSError, TypeError, AttributeError) as e:
            raise ExtractionError(f"corrupt dicom: malformed header ({type(e).__name__})") from None
        stopped = fp.tell()
        if _truncated(ds, stopped, size):
            raise ExtractionError("corrupt dicom: truncated header")
    budget.check_time()
    identifiers: dict[str, int] = {}
    for keyword, kind in IDENTIFIERS.items():
        if kind and _value(ds, keyword):
            identifiers[kind] = identifiers.get(kind, 0) + 1
    identity = bool(_value(ds, "PatientName") or _value(ds, "PatientID"))
    lines = [f"{k}: {_value(ds, k)}" for k in TEXT if _value(ds, k)]
    text = "\n".join(lines) + "\n" if lines else ""
    budget.add_text(len(text))
    yield Record(
        format="dicom",
        patient_identity=identity,
        identifiers=identifiers,
        health={"imaging": 1} if identity or _value(ds, "Modality") else {},
        text=[TextBlock(text, where="header")] if text else [],
        where="header",
    )


@contextmanager
def _hidden(*modules: str) -> Iterator[None]:
    """Modules that pydicom imports for what phiwatch never asks of it (requests for its
    example-data downloader, Pillow for pixel data) look absent while it loads: it takes
    them as optional, and its import costs half as much (~0.1 s less a scan). Modules
    already loaded are left alone; afterwards anyone can import them as usual."""
    hidden = [m for m in modules if m not in sys.modules]
    for m in hidden:
        sys.modules[m] = None  # type: ignore[assignment]  # `import m` raises ImportError
    try:
        yield
    finally:
        for m in hidden:
            if sys.modules.get(m, False) is None:
                del sys.modules[m]


def _truncated(ds: Any, stopped: int, size: int) -> bool:
    """pydicom reads a cut file without complaint, returning what it got; check the ends.

    The file meta group declares its length (PS3.10 7.1); when reading ran to the end of
    the file (no Pixel Data to stop at), the last element must end exactly there."""
    meta_len = ds.file_meta.get("FileMetaInformationGroupLength") if ds.file_meta else None
    if meta_len is not None and 132 + 12 + int(meta_len) > size:
        return True
    if stopped < size:
        return False  # stopped before Pixel Data: the header is whole
    tags = list(ds.keys())
    if not tags:
        return True
    last = ds.get_item(tags[-1])
    length = getattr(last, "length", None)
    tell = getattr(last, "value_tell", None)
    if length is None or tell is None or length == 0xFFFFFFFF:
        return False
    return tell + length != size


def _value(ds: Any, keyword: str) -> str:
    try:
        v = ds.get(keyword)
    except Exception:  # noqa: BLE001 - a malformed element is simply unreadable
        return ""
    if v is None:
        return ""
    from pydicom.sequence import Sequence

    if isinstance(v, Sequence):
        return "sequence" if len(v) else ""
    return str(v).strip().strip("^").strip()
