"""Formats are decided by content, never by the file name."""

from __future__ import annotations

import gzip
import json
import os

import pytest

from agent.classifier.formats import extract
from agent.classifier.formats.sniff import sniff
from tests.classifier.formats.conftest import (
    HEADER,
    MRN,
    NAME,
    PATIENT_ROW,
    csv_bytes,
    drain,
    write_dicom,
    write_docx,
    write_pdf,
    write_sqlite,
    write_xlsx,
    zip_bytes,
)


def test_csv_named_txt_is_a_table(tmp_path):
    p = tmp_path / "notes.txt"
    p.write_bytes(csv_bytes())
    d = drain(p)
    assert d.format == "csv"
    ((table, rows),) = d.tables
    assert table.header == HEADER
    assert rows == [PATIENT_ROW]


def test_xlsx_named_dat_is_a_spreadsheet(tmp_path):
    p = write_xlsx(tmp_path / "export.dat", {"Patients": [HEADER, PATIENT_ROW]})
    d = drain(p)
    assert d.format == "xlsx"
    ((table, rows),) = d.tables
    assert table.where == "sheet Patients"
    assert rows == [PATIENT_ROW]


def test_binary_junk_named_csv_is_binary_and_fast(tmp_path):
    p = tmp_path / "patients.csv"
    p.write_bytes(os.urandom(1 << 20))
    d = drain(p)
    assert d.format == "binary"
    assert d.error is None and not d.texts and not d.tables


def test_png_named_csv_is_binary(tmp_path):
    p = tmp_path / "patients.csv"
    p.write_bytes(b"\x89PNG\r\n\x1a\n" + b"IHDR" + bytes(200))
    assert extract(p).format == "binary"


@pytest.mark.parametrize(
    ("name", "writer", "fmt"),
    [
        ("a.bin", lambda p: write_docx(p), "docx"),
        ("a.bin", lambda p: write_pdf(p, ["hello"]), "pdf"),
        ("a.bin", lambda p: write_dicom(p), "dicom"),
        ("a.bin", lambda p: write_sqlite(p), "sqlite"),
        ("a.bin", lambda p: p.write_bytes(zip_bytes({"x.csv": csv_bytes()})), "zip"),
        ("a.bin", lambda p: p.write_bytes(gzip.compress(csv_bytes())), "gzip"),
    ],
)
def test_binary_formats_by_magic(tmp_path, name, writer, fmt):
    p = tmp_path / name
    writer(p)
    assert extract(p).format == fmt


@pytest.mark.parametrize(
    ("text", "fmt"),
    [
        ("MSH|^~\\&|LAB|ACME|EHR|CLINIC|20260814080000||ORU^R01|99|P|2.5\rPID|1\r", "hl7"),
        ("\x0bMSH|^~\\&|A|B|C|D|2026||ADT^A01|1|P|2.5\rPID|1\r\x1c\r", "hl7"),  # MLLP
        ('{"resourceType": "Patient", "id": "x"}', "fhir-json"),
        ('{"id": "x", "meta": {}, "resourceType": "Bundle"}', "fhir-json"),
        ('{"resourceType":"Patient"}\n{"resourceType":"Condition"}\n', "fhir-ndjson"),
        ('{"a": 1}\n{"a": 2}\n', "jsonl"),
        ('{\n  "a": [1, 2]\n}\n', "json"),
        ('[{"a": 1}, {"a": 2}]', "json"),
        ('{"cells": [{"cell_type": "code", "source": []}], "nbformat": 4}', "ipynb"),
        ('<?xml version="1.0"?>\n<people><p><n>x</n></p></people>', "xml"),
        ('<?xml version="1.0"?><!-- c --><ClinicalDocument xmlns="urn:hl7-org:v3"/>', "ccda-xml"),
        ('<Patient xmlns="http://hl7.org/fhir"><id value="1"/></Patient>', "fhir-xml"),
        (
            "From: a@example.org\nTo: b@example.org\nSubject: hi\nDate: Mon, 1 Jan 2024\n\nbody",
            "eml",
        ),
        ("a\tb\tc\n1\t2\t3\n4\t5\t6\n", "tsv"),
        ("a;b;c\n1;2;3\n4;5;6\n", "csv"),
        # HL7 segments without their MSH; a pipe table whose first header is PID is not
        ("PID|1||445566^^^HOSP^MR||FINCH^HAROLD||19510822|M\nOBX|1|NM|4548-4^HbA1c^LN||8.1|%\n", "hl7"),
        ("PID|USER|CMD\n123|root|bash\n456|www|nginx\n", "csv"),
        ("Dear Sir, thank you.\nWe met, briefly, on Monday.\nRegards\n", "text"),
        ("def f(a, b):\n    return g(a, b, c)\n\nprint(f(1, 2))\n", "text"),
    ],
)
def test_text_formats_by_content(tmp_path, text, fmt):
    p = tmp_path / "file.dat"
    p.write_text(text, encoding="utf-8", newline="")
    assert extract(p).format == fmt


def test_a_zip_storing_an_xlsx_is_a_zip_and_its_member_an_xlsx(tmp_path):
    # the stored xlsx's own headers (xl/workbook.xml...) are in the outer zip's bytes
    import zipfile

    from agent.classifier import classify_file

    xlsx = write_xlsx(tmp_path / "p.xlsx", {"S": [HEADER, PATIENT_ROW]}).read_bytes()
    p = tmp_path / "outer.zip"
    with zipfile.ZipFile(p, "w", zipfile.ZIP_STORED) as z:
        z.writestr("notes.txt", "see the sheet\n")
        z.writestr("data/patients.xlsx", xlsx)
    assert sniff(p.read_bytes()) == "zip"
    r = classify_file(p)
    assert (r.format, r.classification) == ("zip", "phi")
    assert [(m.format, m.classification) for m in r.members][-1] == ("xlsx", "phi")


def test_an_xlsx_with_data_descriptors_is_an_xlsx(tmp_path):
    # written to a stream that cannot seek back: sizes follow each part's data (bit 3)
    import io
    import zipfile

    src = zipfile.ZipFile(write_xlsx(tmp_path / "p.xlsx", {"S": [HEADER, PATIENT_ROW]}))

    class Unseekable(io.RawIOBase):
        def __init__(self):
            self.data = bytearray()

        def writable(self):
            return True

        def write(self, b):
            self.data += b
            return len(b)

    out = Unseekable()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        for info in src.infolist():
            with z.open(info.filename, "w") as f:
                f.write(src.read(info))
    data = bytes(out.data)
    assert int.from_bytes(data[6:8], "little") & 8  # the first part has a data descriptor
    assert sniff(data) == "xlsx"


def test_truncated_xlsx_is_still_recognised_as_xlsx(tmp_path):
    p = write_xlsx(tmp_path / "a.xlsx", {"S": [HEADER, PATIENT_ROW]})
    data = p.read_bytes()
    p.write_bytes(data[: len(data) // 2])
    assert sniff(p.read_bytes()) == "xlsx"


@pytest.mark.parametrize("encoding", ["utf-16-le", "utf-16-be", "utf-16", "utf-8-sig", "latin-1"])
def test_text_encodings_decode(tmp_path, encoding):
    text = (f"Patient: {NAME}\nMRN {MRN}, seen today, café, résumé.\nPlan: follow up.\n") * 20
    p = tmp_path / "note.txt"
    p.write_bytes(text.encode(encoding))
    d = drain(p)
    assert d.format == "text"
    assert d.error is None
    assert "".join(t.text for t in d.texts) == text


def test_utf16_csv_without_bom_is_a_table(tmp_path):
    p = tmp_path / "export.txt"
    p.write_bytes(csv_bytes().decode().encode("utf-16-le"))
    d = drain(p)
    assert d.format == "csv"
    assert d.tables[0][1] == [PATIENT_ROW]


def test_empty_file_is_text_without_units(tmp_path):
    p = tmp_path / "empty.csv"
    p.write_bytes(b"")
    d = drain(p)
    assert (d.format, d.texts, d.tables, d.error) == ("text", [], [], None)


def test_json_lines_header_and_extra_keys(tmp_path):
    p = tmp_path / "events.log"
    lines = [{"patient": NAME, "mrn": MRN}] * 3 + [{"patient": NAME, "dx": "E11.9"}]
    p.write_text("\n".join(json.dumps(x) for x in lines) + "\nnot json\n")
    d = drain(p)
    assert d.format == "jsonl"
    ((table, rows),) = d.tables
    assert table.header == ["patient", "mrn", "dx"]
    assert rows[0] == [NAME, MRN, ""]
    assert rows[3] == [NAME, "", "E11.9"]
    assert rows[4] == ["not json"]


@pytest.mark.parametrize(
    "text",
    [
        "[2026-01-02 10:00:00] INFO service started\n[2026-01-02 10:00:01] INFO ready\n",
        "[general]\nname = demo\n[paths]\nroot = /srv\n",
        "{timestamp} {level} template line\n",
    ],
)
def test_bracketed_logs_and_ini_are_text_not_json(tmp_path, text):
    p = tmp_path / "app.log"
    p.write_text(text)
    d = drain(p)
    assert (d.format, d.error) == ("text", None)


def test_truncated_json_is_scanned_as_text_with_a_reason(tmp_path):
    p = tmp_path / "export.json"
    p.write_text(json.dumps([{"patient": NAME, "mrn": MRN}] * 50)[:-40])
    d = drain(p)
    assert d.format == "json"
    assert NAME in d.all_text()
    assert d.error.partial
    assert str(d.error).startswith("corrupt json: invalid JSON at line 1")
    assert str(d.error).endswith("; scanned as text")


def test_csv_with_a_report_preamble(tmp_path):
    p = tmp_path / "report.csv"
    p.write_text(
        "Clinic census export\nGenerated 2026-01-02 by ops\n\n"
        + csv_bytes().decode()
        + ",".join(PATIENT_ROW)
        + "\n"
    )
    d = drain(p)
    assert d.format == "csv"
    (pre,) = d.texts
    assert pre.text == "Clinic census export\nGenerated 2026-01-02 by ops\n"
    ((t, rows),) = d.tables
    assert (t.header, rows, t.first_row_line) == (HEADER, [PATIENT_ROW, PATIENT_ROW], 5)


def test_text_quoting_magic_or_tags_stays_text(tmp_path):
    a = tmp_path / "media_types.py"
    a.write_text('PDF_MAGIC = b"%PDF-"  # pdf files start with this\n')
    b = tmp_path / "VAR.rst"
    b.write_text("<PROJECT-NAME>_VERSION\n---------------------\n\nThe version.\n")
    assert [drain(a).format, drain(b).format] == ["text", "text"]


def test_header_in_another_language_and_excel_utf16_export(tmp_path):
    # Excel's "Unicode text" export: UTF-16 LE with a BOM, tab-separated.
    text = "Âge\tPrénom\tNom\tDiagnostic\n61\tRosalind\tQuexley\tE11.9\n44\tAnn\tDoe\tI10\n"
    p = tmp_path / "export.txt"
    p.write_bytes(text.encode("utf-16"))
    d = drain(p)
    assert d.format == "tsv"
    ((t, rows),) = d.tables
    assert t.header == ["Âge", "Prénom", "Nom", "Diagnostic"]
    assert rows[0] == ["61", "Rosalind", "Quexley", "E11.9"]


def test_every_format_reader_imports():
    """Readers are imported when a file of their format is first met: a wrong module or
    function name must fail here, not on a laptop that meets that format."""
    from agent.classifier.formats import READERS, extractor

    for fmt in READERS:
        assert callable(extractor(fmt)), fmt
    assert list(extractor("binary")(None, None, 0)) == []


def _eml_as_first_written(text: str) -> bool:
    """sniff._looks_like_eml before it looked at the first line first."""
    import re

    from agent.classifier.formats.sniff import _EML_HEADER

    head, _, _ = text.partition("\n\n")
    if "\r\n\r\n" in head:
        head = head.split("\r\n\r\n", 1)[0]
    first = head.split("\n", 1)[0]
    if not (first.startswith("From ") or re.match(r"[A-Za-z][\w-]*:[ \t]", first)):
        return False
    names = {m.group(1).lower() for m in _EML_HEADER.finditer(head)}
    return len(names & {"from", "to", "subject", "date", "received", "message-id", "mime-version",
                        "return-path"}) >= 3


def test_eml_test_decides_as_first_written():
    import random

    from agent.classifier.formats.sniff import _looks_like_eml

    rng = random.Random(5)
    pieces = ["From ", "From: a@b.c", "To: x", "Subject: s", "Date: d", "Received: r", "X-Y: z", ":",
              " ", "\t", "\n", "\r\n", "\n\n", "\r\n\r\n", "body", "import os", "a-b:", "é"]
    seen = set()
    for _ in range(20_000):
        text = "".join(rng.choice(pieces) for _ in range(rng.randint(0, 10)))
        got = _looks_like_eml(text)
        assert got == _eml_as_first_written(text), repr(text)
        seen.add(got)
    assert seen == {True, False}


def _top_level_key_as_first_written(text: str, key: str) -> bool:
    """sniff._top_level_key as a character loop, before it used a token regex."""
    depth, in_str, esc, start = 0, False, False, 0
    for i, ch in enumerate(text[:8192]):
        if in_str:
            if esc:
                esc = False
            elif ch == "\\":
                esc = True
            elif ch == '"':
                in_str = False
                if depth == 1 and text[start + 1 : i] == key:
                    return True
        elif ch == '"':
            in_str, start = True, i
        elif ch in "{[":
            depth += 1
        elif ch in "}]":
            depth -= 1
    return False


def test_top_level_key_decides_as_first_written():
    import random

    from agent.classifier.formats.sniff import _top_level_key

    rng = random.Random(8)
    pieces = ['"resourceType"', '"resource\\"Type"', '"a"', "{", "}", "[", "]", ":", ",", " ", "\n",
              '"', "\\", '\\"', "x" * 50, '"' + "y" * 3000, "é"]
    seen = set()
    for _ in range(20_000):
        text = "".join(rng.choice(pieces) for _ in range(rng.randint(0, 16)))
        got = _top_level_key(text, "resourceType")
        assert got == _top_level_key_as_first_written(text, "resourceType"), repr(text[:200])
        seen.add(got)
    assert seen == {True, False}


def test_sampled_lines_are_the_first_lines_of_the_whole_head():
    """delimited.sample_lines may split a prefix of the head, whichever prefix: the lines
    must be the whole head's first SAMPLE_LINES (or all of them, but a cut last one)."""
    import random

    from agent.classifier.formats.delimited import SAMPLE_LINES, sample_lines

    rng = random.Random(4)
    breaks = ["\n"] * 8 + ["\r\n", "\r", "\x0b", "\x0c", "\x1c", "\u2028"]
    for _ in range(3_000):
        width = rng.choice([1, 10, 40, 90, 400])
        text = "".join("x" * rng.randint(0, width) + rng.choice(breaks)
                       for _ in range(rng.randint(0, 300)))
        text += "y" * rng.randint(0, 3)
        whole = text.splitlines()
        if len(whole) > SAMPLE_LINES + 1:
            want = whole[:SAMPLE_LINES]
        elif len(whole) > 1 and not text.endswith(("\n", "\r")):
            want = whole[:-1]
        else:
            want = whole
        assert sample_lines(text) == want
