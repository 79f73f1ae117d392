"""Fixtures for format extraction: real files written with the real libraries
(openpyxl, python-docx, reportlab, pydicom, pyarrow, sqlite3, zipfile), and a helper
that drains an Extraction into plain data the tests can assert on."""

from __future__ import annotations

import io
import sqlite3
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from agent.classifier.formats import extract
from agent.classifier.limits import Limits
from agent.classifier.units import ExtractionError, Member, Record, Table, TextBlock

# Planted values: fake but well-formed (SSN area 123 is valid, not a published sample).
NAME = "Rosalind Quexley"
SSN = "123-45-6789"
MRN = "MRN4417023"
DX = "E11.9"
PATIENT_ROW = [NAME, MRN, "1961-04-02", DX, "Type 2 diabetes mellitus"]
HEADER = ["patient_name", "mrn", "dob", "dx_code", "diagnosis"]


@dataclass
class Drained:
    """Everything an Extraction yielded, flattened (members keep their nested result)."""

    format: str
    texts: list[TextBlock] = field(default_factory=list)
    tables: list[tuple[Table, list[list[str]]]] = field(default_factory=list)
    records: list[Record] = field(default_factory=list)
    members: list[tuple[str, Drained]] = field(default_factory=list)
    error: ExtractionError | None = None

    def all_text(self) -> str:
        """Every string the extraction produced (text, headers, cells, record text)."""
        parts = [t.text for t in self.texts]
        for table, rows in self.tables:
            parts.append("\t".join(table.header or []))
            parts.extend("\t".join(r) for r in rows)
        for rec in self.records:
            parts.extend(t.text for t in rec.text)
        for _, m in self.members:
            parts.append(m.all_text())
        return "\n".join(parts)


def drain_units(fmt: str, units) -> Drained:
    out = Drained(fmt)
    try:
        for u in units:
            if isinstance(u, TextBlock):
                if isinstance(u.text, bytes):  # ASCII read as is (formats/text.py)
                    u.text = u.text.decode("ascii")
                out.texts.append(u)
            elif isinstance(u, Table):
                out.tables.append((u, [list(r) for r in u.rows]))
            elif isinstance(u, Record):
                out.records.append(u)
            elif isinstance(u, Member):
                out.members.append((u.name, drain_units(u.format, u.units)))
    except ExtractionError as e:
        out.error = e
    return out


def drain(path: Path, limits: Limits | None = None) -> Drained:
    """Extract `path` and consume every unit; an ExtractionError is kept, not raised."""
    try:
        ex = extract(path, limits)
    except ExtractionError as e:
        return Drained("?", error=e)
    return drain_units(ex.format, ex.units)


def write_xlsx(path: Path, sheets: dict[str, list[list]]) -> Path:
    import openpyxl

    wb = openpyxl.Workbook()
    wb.remove(wb.active)
    for title, rows in sheets.items():
        ws = wb.create_sheet(title)
        for r in rows:
            ws.append(r)
    wb.save(path)
    return path


def write_docx(path: Path) -> Path:
    import docx

    doc = docx.Document()
    doc.add_paragraph(f"Discharge letter for {NAME}.")
    table = doc.add_table(rows=2, cols=len(HEADER))
    for i, h in enumerate(HEADER):
        table.cell(0, i).text = h
    for i, v in enumerate(PATIENT_ROW):
        table.cell(1, i).text = v
    section = doc.sections[0]
    section.header.paragraphs[0].text = f"Confidential - {MRN}"
    section.footer.paragraphs[0].text = f"SSN on file {SSN}"
    doc.save(path)
    return path


def write_pdf(path: Path, pages: list[str]) -> Path:
    from reportlab.lib.pagesizes import letter
    from reportlab.pdfgen import canvas

    c = canvas.Canvas(str(path), pagesize=letter)
    for text in pages:
        c.drawString(72, 720, text)
        c.showPage()
    c.save()
    return path


def write_dicom(path: Path, name: str = "QUEXLEY^ROSALIND", pid: str = MRN) -> Path:
    from pydicom.dataset import FileDataset, FileMetaDataset
    from pydicom.uid import ExplicitVRLittleEndian, generate_uid

    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = "1.2.840.10008.5.1.4.1.1.2"
    meta.MediaStorageSOPInstanceUID = generate_uid()
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds = FileDataset(str(path), {}, file_meta=meta, preamble=b"\0" * 128)
    ds.PatientName = name
    ds.PatientID = pid
    ds.PatientBirthDate = "19610402" if name else ""
    ds.Modality = "CT"
    ds.StudyDescription = "CT chest for pneumonia"
    ds.Rows, ds.Columns, ds.BitsAllocated, ds.BitsStored, ds.HighBit = 64, 64, 16, 16, 15
    ds.SamplesPerPixel, ds.PixelRepresentation = 1, 0
    ds.PhotometricInterpretation = "MONOCHROME2"
    ds.PixelData = b"\x01\x02" * 64 * 64
    ds.save_as(path, enforce_file_format=True)
    return path


def write_sqlite(path: Path) -> Path:
    conn = sqlite3.connect(path)
    conn.execute(f"CREATE TABLE patients ({', '.join(HEADER)})")
    conn.execute("INSERT INTO patients VALUES (?, ?, ?, ?, ?)", PATIENT_ROW)
    conn.execute("CREATE TABLE notes (id INTEGER, body TEXT)")
    conn.execute("INSERT INTO notes VALUES (1, ?)", (f"Seen today, SSN {SSN}",))
    conn.commit()
    conn.close()
    return path


def zip_bytes(members: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return buf.getvalue()


def csv_bytes() -> bytes:
    return (",".join(HEADER) + "\n" + ",".join(PATIENT_ROW) + "\n").encode()


@pytest.fixture
def planted() -> dict[str, str]:
    return {"name": NAME, "ssn": SSN, "mrn": MRN}


def scan_output(target: Path, tmp_path: Path) -> bytes:
    """Every byte `phiwatch scan` writes for ``target``: stdout and stderr in both output
    formats, and every file under its PHIWATCH_HOME (the cache); paths taken out."""
    import os
    import subprocess
    import sys

    root = Path(__file__).resolve().parents[3]
    env = {k: v for k, v in os.environ.items() if not k.startswith("PHIWATCH_")}
    env["PHIWATCH_HOME"] = str(tmp_path / "home")
    blob = b""
    for args in (["--format", "jsonl"], ["--format", "table"]):
        p = subprocess.run([sys.executable, "-m", "agent", "scan", str(target), *args],
                           capture_output=True, env=env, cwd=root, timeout=120)
        assert p.returncode == 1, p.stderr[-2000:]
        blob += p.stdout + p.stderr
    blob += b"".join(f.read_bytes() for f in (tmp_path / "home").rglob("*") if f.is_file())
    return blob.replace(str(target).encode(), b"")
