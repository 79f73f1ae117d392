"""Office documents, PDFs, data files, notebooks, e-mail and containers."""

from __future__ import annotations

import datetime as dt
import gzip
import io
import json
import sqlite3
import tarfile
import zipfile
from email.message import EmailMessage

import pyarrow as pa
import pyarrow.parquet as pq

from tests.classifier.formats.conftest import (
    HEADER,
    MRN,
    NAME,
    PATIENT_ROW,
    SSN,
    csv_bytes,
    drain,
    write_docx,
    write_pdf,
    write_sqlite,
    write_xlsx,
    zip_bytes,
)


def test_xlsx_every_sheet_and_cell_types(tmp_path):
    p = write_xlsx(
        tmp_path / "book.xlsm",
        {
            "Summary": [["Quarterly census"], [], ["beds", 40]],
            "Patients": [
                HEADER,
                [NAME, MRN, dt.datetime(1961, 4, 2), "E11.9", "T2DM"],
                [NAME, 4417023.0, None, "", ""],
            ],
        },
    )
    d = drain(p)
    assert d.format == "xlsx"
    (s1, rows1), (s2, rows2) = d.tables
    assert (s1.where, s1.header, rows1) == (
        "sheet Summary",
        None,
        [["Quarterly census"], ["beds", "40"]],
    )
    assert s2.where == "sheet Patients" and s2.header == HEADER
    assert rows2 == [[NAME, MRN, "1961-04-02", "E11.9", "T2DM"], [NAME, "4417023"]]
    assert s2.first_row_line == 2


def test_xlsx_title_rows_above_the_header(tmp_path):
    p = write_xlsx(
        tmp_path / "c.xlsx", {"Census": [[f"Census for ward 4W, {NAME}"], [], HEADER, PATIENT_ROW]}
    )
    d = drain(p)
    ((t, rows),) = d.tables
    assert (t.header, rows, t.first_row_line) == (HEADER, [PATIENT_ROW], 4)
    (title,) = d.texts
    assert (title.text, title.where, title.line) == (
        f"Census for ward 4W, {NAME}\n",
        "sheet Census",
        1,
    )


def test_docx_body_table_header_footer(tmp_path):
    d = drain(write_docx(tmp_path / "letter.docx"))
    assert d.format == "docx"
    where = {t.where: t.text for t in d.texts}
    assert f"Discharge letter for {NAME}." in where["body"]
    assert MRN in where["header"]
    assert SSN in where["footer"]
    ((table, rows),) = d.tables
    assert table.header == HEADER and rows == [PATIENT_ROW]


def test_pdf_every_page(tmp_path):
    p = write_pdf(tmp_path / "r.pdf", ["Cover page", f"Patient {NAME}", f"MRN {MRN}"])
    d = drain(p)
    assert d.format == "pdf"
    assert [t.where for t in d.texts] == ["page 1", "page 2", "page 3"]
    assert NAME in d.texts[1].text and MRN in d.texts[2].text


def test_a_short_pdf_is_one_context(tmp_path):
    # the patient on page 1, the diagnosis on page 2: one short letter, one person
    from agent.classifier import classify_file

    p = write_pdf(tmp_path / "d.pdf", [f"Patient: {NAME}   MRN {MRN}",
                                        "Assessment: metastatic melanoma, start pembrolizumab."])
    r = classify_file(p)
    assert (r.classification, r.first_evidence) == ("phi", "page 1")
    # pages far apart in a long document (over 32 KiB of text) are not paired
    filler = [f"Quarterly facilities report, section {i}: " + "lighting and HVAC. " * 6 for i in range(300)]
    p = write_pdf(tmp_path / "long.pdf", [f"Patient: {NAME}   MRN {MRN}", *filler,
                                           "Assessment: metastatic melanoma."])
    assert classify_file(p).classification == "pii"


def test_pdf_encrypted_with_a_password_is_an_error(tmp_path):
    from pypdf import PdfReader, PdfWriter

    src = write_pdf(tmp_path / "plain.pdf", [f"Patient {NAME}"])
    w = PdfWriter()
    for page in PdfReader(src).pages:
        w.add_page(page)
    w.encrypt(user_password="s3cret", owner_password="owner")
    p = tmp_path / "locked.pdf"
    with open(p, "wb") as f:
        w.write(f)
    d = drain(p)
    assert str(d.error) == "encrypted pdf: needs a password"
    assert NAME not in d.all_text()


def test_sqlite_every_table_read_only(tmp_path):
    p = write_sqlite(tmp_path / "app.db")
    before = p.read_bytes()
    d = drain(p)
    assert d.format == "sqlite"
    tables = {t.where: (t.header, rows) for t, rows in d.tables}
    assert tables["table patients"] == (HEADER, [PATIENT_ROW])
    assert tables["table notes"] == (["id", "body"], [["1", f"Seen today, SSN {SSN}"]])
    assert p.read_bytes() == before
    assert not (tmp_path / "app.db-journal").exists() and not (tmp_path / "app.db-wal").exists()


def test_sqlite_row_limit(tmp_path):
    from agent.classifier.limits import Limits

    p = tmp_path / "big.db"
    conn = sqlite3.connect(p)
    conn.execute("CREATE TABLE t (a)")
    conn.executemany("INSERT INTO t VALUES (?)", [(i,) for i in range(500)])
    conn.commit()
    conn.close()
    d = drain(p, Limits(max_sqlite_rows=100))
    assert len(d.tables[0][1]) == 100


def test_sqlite_inside_zip_is_read_in_memory(tmp_path):
    db = write_sqlite(tmp_path / "x.db").read_bytes()
    p = tmp_path / "backup.zip"
    p.write_bytes(zip_bytes({"backup/app.sqlite": db}))
    d = drain(p)
    ((name, m),) = d.members
    assert name == "backup/app.sqlite" and m.format == "sqlite"
    assert [PATIENT_ROW] in [rows for _, rows in m.tables]


def test_parquet_in_batches(tmp_path):
    n = 10_000
    table = pa.table(
        {
            "patient_name": [NAME] * n,
            "mrn": [f"{MRN}{i}" for i in range(n)],
            "dob": [dt.date(1961, 4, 2)] * n,
            "score": [1.5] * n,
        }
    )
    p = tmp_path / "lake.bin"
    pq.write_table(table, p, row_group_size=3000)
    d = drain(p)
    assert d.format == "parquet"
    ((t, rows),) = d.tables
    assert t.header == ["patient_name", "mrn", "dob", "score"]
    assert len(rows) == n
    assert rows[9999] == [NAME, f"{MRN}9999", "1961-04-02", "1.5"]


def test_ipynb_sources_and_dataframe_output(tmp_path):
    html = (
        '<table class="dataframe"><thead><tr><th></th><th>patient_name</th><th>mrn</th>'
        f"</tr></thead><tbody><tr><th>0</th><td>{NAME}</td><td>{MRN}</td></tr></tbody></table>"
    )
    nb = {
        "nbformat": 4,
        "cells": [
            {
                "cell_type": "code",
                "source": ["df = pd.read_csv('x.csv')\n", "df.head()"],
                "outputs": [
                    {
                        "output_type": "execute_result",
                        "data": {"text/plain": ["..."], "text/html": [html]},
                    }
                ],
            },
            {
                "cell_type": "code",
                "source": "print(ssn)",
                "outputs": [{"output_type": "stream", "name": "stdout", "text": [f"{SSN}\n"]}],
            },
        ],
    }
    p = tmp_path / "analysis.json"
    p.write_text(json.dumps(nb))
    d = drain(p)
    assert d.format == "ipynb"
    ((t, rows),) = d.tables
    assert t.where == "cell 1 output" and t.header == ["", "patient_name", "mrn"]
    assert rows == [["0", NAME, MRN]]
    assert any(SSN in b.text and b.where == "cell 2 output" for b in d.texts)
    assert any("read_csv" in b.text and b.where == "cell 1" for b in d.texts)


def test_eml_headers_body_and_attachment(tmp_path):
    msg = EmailMessage()
    msg["From"] = "Dr Who <doc@clinic.example>"
    msg["To"] = "rq@example.org"
    msg["Subject"] = "Your results"
    msg["Date"] = "Mon, 01 Jan 2024 10:00:00 +0000"
    msg.set_content(f"Dear {NAME}, your HbA1c was 8.1%.")
    msg.add_alternative(f"<p>Dear <b>{NAME}</b></p>", subtype="html")
    msg.add_attachment(csv_bytes(), maintype="text", subtype="csv", filename="labs.csv")
    p = tmp_path / "mail.bin"
    p.write_bytes(bytes(msg))
    d = drain(p)
    assert d.format == "eml"
    assert d.texts[0].where == "headers" and "rq@example.org" in d.texts[0].text
    assert any(f"Dear {NAME}, your HbA1c" in t.text for t in d.texts)
    ((name, m),) = d.members
    assert name == "labs.csv" and m.tables[0][1] == [PATIENT_ROW]


def test_tar_gz_members(tmp_path):
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tf:
        for name, data in (("export/patients.csv", csv_bytes()), ("README", b"hello\n")):
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tf.addfile(info, io.BytesIO(data))
    p = tmp_path / "export.tgz"
    p.write_bytes(buf.getvalue())
    d = drain(p)
    assert d.format == "gzip"
    ((tar_name, tar),) = d.members
    assert tar_name == "export.tar" and tar.format == "tar"
    inner = dict(tar.members)
    assert inner["export/patients.csv"].tables[0][1] == [PATIENT_ROW]
    assert inner["README"].texts[0].text == "hello\n"


def test_gzip_keeps_the_original_name(tmp_path):
    p = tmp_path / "blob"
    with open(p, "wb") as raw, gzip.GzipFile("patients.csv", "wb", fileobj=raw) as g:
        g.write(csv_bytes())
    ((name, m),) = drain(p).members
    assert name == "patients.csv" and m.format == "csv"


def test_zip_encrypted_member_is_an_error_member(tmp_path):
    # zipfile cannot write encrypted archives; set the encryption flag by hand (APPNOTE
    # 4.4.4 bit 0) in both headers, which is what readers look at.
    data = bytearray(zip_bytes({"secret.csv": csv_bytes(), "open.txt": b"hi\n"}))
    first_local = data.find(b"PK\x03\x04")
    first_central = data.find(b"PK\x01\x02")
    data[first_local + 6] |= 1
    data[first_central + 8] |= 1
    p = tmp_path / "enc.zip"
    p.write_bytes(bytes(data))
    d = drain(p)
    members = dict(d.members)
    assert str(members["secret.csv"].error) == "encrypted member"
    assert members["open.txt"].texts[0].text == "hi\n"


def test_pptx_slides(tmp_path):
    # A minimal PresentationML package: the parts our reader looks at.
    p = tmp_path / "deck.pptx"
    slide = (
        '<p:sld xmlns:p="http://schemas.openxmlformats.org/presentationml/2006/main" '
        'xmlns:a="http://schemas.openxmlformats.org/drawingml/2006/main"><p:cSld><p:spTree>'
        f"<p:sp><p:txBody><a:p><a:r><a:t>Case review: {NAME}</a:t></a:r></a:p>"
        f"<a:p><a:r><a:t>MRN {MRN}</a:t></a:r></a:p></p:txBody></p:sp>"
        "</p:spTree></p:cSld></p:sld>"
    )
    p.write_bytes(
        zip_bytes(
            {
                "[Content_Types].xml": b"<Types/>",
                "ppt/presentation.xml": b"<p/>",
                "ppt/slides/slide1.xml": slide.encode(),
            }
        )
    )
    d = drain(p)
    assert d.format == "pptx"
    assert d.texts[0].where == "slide 1"
    assert d.texts[0].text == f"Case review: {NAME}\nMRN {MRN}\n"


def test_xml_repeated_records_become_a_table(tmp_path):
    p = tmp_path / "orders.xml"
    rows = "".join(
        f'<order id="{i}"><mrn>{MRN}</mrn><name>{NAME}</name><test>HbA1c</test></order>'
        for i in range(3)
    )
    p.write_text(f'<?xml version="1.0"?><labOrders site="A">{rows}<note>sent</note></labOrders>')
    d = drain(p)
    ((t, trows),) = d.tables
    assert t.where == "labOrders" and t.header == ["id", "mrn", "name", "test"]
    assert trows[2] == ["2", MRN, NAME, "HbA1c"]
    assert "labOrders@site: A" in d.texts[0].text and "labOrders/note: sent" in d.texts[0].text


def test_json_nested_records_and_scalars(tmp_path):
    p = tmp_path / "resp.json"
    p.write_text(
        json.dumps(
            {
                "page": 1,
                "data": {
                    "patients": [
                        {"name": {"family": "Quexley", "given": ["Rosalind", "Ann"]}, "mrn": MRN},
                        {"name": {"family": "Doe"}, "mrn": "X1", "dx": "E11.9"},
                    ]
                },
                "requested_by": "ops@example.org",
            }
        )
    )
    d = drain(p)
    ((t, rows),) = d.tables
    assert t.where == "data.patients"
    assert t.header == ["name.family", "name.given", "mrn", "dx"]
    assert rows == [["Quexley", "Rosalind; Ann", MRN, ""], ["Doe", "", "X1", "E11.9"]]
    assert d.texts[0].text == "page: 1\nrequested_by: ops@example.org\n"


def test_zip_of_csv_named_without_extension(tmp_path):
    p = tmp_path / "download"
    with zipfile.ZipFile(p, "w") as zf:
        zf.writestr("data", csv_bytes())
    ((name, m),) = drain(p).members
    assert (name, m.format) == ("data", "csv")


def test_html_report_tables(tmp_path):
    p = tmp_path / "report.dat"
    p.write_text(
        "<!DOCTYPE html><html><head><style>td{}</style><script>var x=1;</script></head><body>"
        f"<h1>Clinic report</h1><p>Prepared for {NAME}</p><table>"
        "<tr><th>patient_name</th><th>mrn</th></tr>"
        f"<tr><td>{NAME}</td><td>{MRN}</td></tr></table></body></html>"
    )
    d = drain(p)
    assert d.format == "html"
    ((t, rows),) = d.tables
    assert (t.header, rows) == (["patient_name", "mrn"], [[NAME, MRN]])
    assert d.texts[0].text == f"Clinic report\nPrepared for {NAME}\n"


def test_docx_part_over_the_parse_limit_is_read_as_text(tmp_path):
    from agent.classifier.limits import Limits

    d = drain(write_docx(tmp_path / "big.docx"), Limits(max_parse_bytes=100))
    assert d.error is None and not d.tables
    body = "".join(t.text for t in d.texts if t.where.startswith("body"))
    assert f"Discharge letter for {NAME}." in body and "<w:" not in body


def test_xlsx_shared_strings_over_the_memory_cap(tmp_path):
    from agent.classifier.limits import Limits

    p = write_xlsx(tmp_path / "s.xlsx", {"S": [HEADER, PATIENT_ROW]})
    with zipfile.ZipFile(p, "a") as zf:  # openpyxl wrote inline strings; add a big table
        zf.writestr("xl/sharedStrings.xml", "<sst>" + "<si><t>x</t></si>" * 500 + "</sst>")
    d = drain(p, Limits(max_member_in_memory=1000))
    assert str(d.error) == "xlsx shared strings over 1000 bytes"
    assert drain(p).error is None


def test_json_keys_that_are_data_stay_out_of_locations(tmp_path):
    p = tmp_path / "by_patient.json"
    p.write_text(
        json.dumps(
            {
                NAME: {"visits": [{"dx": "E11.9"}, {"dx": "I10"}]},
                MRN: [{"dx": "J45.909"}, {"dx": "N18.3"}],
            }
        )
    )
    d = drain(p)
    wheres = [t.where for t, _ in d.tables]
    assert wheres == ["*.visits", "*"]
    assert NAME in d.all_text() or "E11.9" in d.all_text()


def test_missing_format_library_costs_only_its_format(tmp_path, monkeypatch):
    import sys

    p = tmp_path / "t.parquet"
    pq.write_table(pa.table({"a": [1]}), p)
    monkeypatch.setitem(sys.modules, "pyarrow.parquet", None)  # as if not installed
    d = drain(p)
    assert (d.format, str(d.error)) == ("parquet", "parquet support is not installed")
    assert drain(write_sqlite(tmp_path / "ok.db")).error is None


def test_format_libraries_load_only_when_needed():
    import subprocess
    import sys

    code = (
        "import sys, agent.classifier.formats; "
        "print(sorted(m for m in ('pyarrow', 'pydicom', 'pypdf', 'openpyxl') "
        "if m in sys.modules))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    assert out.stdout.strip() == "[]"


def test_legacy_xls_sheets_are_tables(tmp_path):
    import datetime as dt

    import xlwt  # writes real BIFF8 workbooks in an OLE2 compound file

    wb = xlwt.Workbook()
    ws = wb.add_sheet("Patients")
    date = xlwt.easyxf(num_format_str="YYYY-MM-DD")
    row = [NAME, MRN, dt.date(1961, 4, 2), "E11.9", "Type 2 diabetes mellitus"]
    for r, cells in enumerate([HEADER, row]):
        for c, v in enumerate(cells):
            ws.write(r, c, v, date) if isinstance(v, dt.date) else ws.write(r, c, v)
    p = tmp_path / "old.dat"
    wb.save(str(p))
    d = drain(p)
    assert d.format == "ole2" and d.error is None
    ((table, rows),) = d.tables
    assert (table.where, table.header, rows) == ("sheet Patients", HEADER, [PATIENT_ROW])
    from agent.classifier import classify_file

    r = classify_file(p)
    assert (r.classification, r.first_evidence) == ("phi", "sheet Patients line 2")


def test_other_legacy_office_files_give_their_strings(tmp_path):
    """An OLE2 file that is not a workbook (a .doc, a .msg; here a workbook xlrd cannot
    read, its stream renamed) is read as printable strings."""
    import xlwt

    wb = xlwt.Workbook()
    ws = wb.add_sheet("Notes")
    for r, v in enumerate(PATIENT_ROW):
        ws.write(r, 0, v)
    p = tmp_path / "old.doc"
    wb.save(str(p))
    p.write_bytes(p.read_bytes().replace("Workbook".encode("utf-16-le"), "Wordbook".encode("utf-16-le")))
    d = drain(p)
    assert d.format == "ole2" and d.error is None and not d.tables
    text = d.all_text()
    for v in PATIENT_ROW:
        assert f"\n{v}\n" in text


def test_xml_attribute_records_become_a_table(tmp_path):
    p = tmp_path / "people.xml"
    rows = "".join(f'<patient name="{NAME}" mrn="{MRN}{i}" dx="E11.9"/>' for i in range(3))
    p.write_text(f"<export>{rows}</export>")
    ((t, trows),) = drain(p).tables
    assert t.header == ["name", "mrn", "dx"] and trows[1] == [NAME, f"{MRN}1", "E11.9"]


def test_docx_with_a_malformed_part_is_still_read(tmp_path):
    src = write_docx(tmp_path / "a.docx")
    p = tmp_path / "broken.docx"
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(p, "w") as zout:
        for info in zin.infolist():
            data = zin.read(info)
            if info.filename.startswith("word/footer"):
                data = data[: len(data) - 5]  # cut: the XML no longer closes
            zout.writestr(info, data)
    d = drain(p)
    assert d.error.partial and str(d.error).endswith("; read as text")
    assert str(d.error).startswith("corrupt docx: malformed XML at line")
    text = d.all_text()
    assert f"Discharge letter for {NAME}." in text and SSN in text  # footer as text


# As WordPad writes it (font/colour tables, \*\generator, \uc1 \u escapes, \'e9 hex).
RTF = (
    r"{\rtf1\ansi\ansicpg1252\deff0\nouicompat\deflang1033{\fonttbl{\f0\fnil\fcharset0 "
    r"Calibri;}}{\colortbl ;\red255\green0\blue0;}{\*\generator Riched20 10.0.19041}"
    r"\viewkind4\uc1 \pard\sa200\sl276\slmult1\f0\fs22\lang9 Progress note\par"
    "\r\n"
    r"Patient: Rosalind Quexley, MRN4417023\par"
    "\r\n"
    r"Dx: E11.9 \endash  Type 2 diabetes; caf\'e9 visit \u8217?s ok\par"
    "\r\n"
    r"{\pict\pngblip 89504e470d0a1a0a0000000d49484452}\par}"
)


def test_rtf_text_without_markup(tmp_path):
    p = tmp_path / "note.doc"  # EHR exports often carry a .doc name
    p.write_bytes(RTF.encode("ascii"))
    d = drain(p)
    assert d.format == "rtf" and d.error is None
    assert d.texts[0].text == (
        "Progress note\nPatient: Rosalind Quexley, MRN4417023\n"
        "Dx: E11.9 - Type 2 diabetes; café visit \u2019s ok\n"
    )


def _docx(path, paragraphs, table):
    import docx

    d = docx.Document()
    for p in paragraphs:
        d.add_paragraph(p)
    t = d.add_table(rows=len(table), cols=len(table[0]))
    for i, row in enumerate(table):
        for j, v in enumerate(row):
            t.cell(i, j).text = v
    d.save(path)
    return path


def test_a_short_document_s_topic_is_about_the_patients_its_table_lists(tmp_path):
    from agent.classifier import classify_file

    rows = [["Ruth Ginsburg", "3", "MWF"], ["Thurgood Marshall", "5", "TTS"]]
    sched = _docx(tmp_path / "sched.docx", ["Weekly dialysis schedule"], [["Patient", "Chair", "Days"], *rows])
    r = classify_file(sched)
    assert (r.classification, r.first_evidence) == ("phi", "body table row 1")
    # without the topic, or with a column of people who are not said to be patients
    plain = _docx(tmp_path / "plain.docx", ["Weekly schedule"], [["Patient", "Chair", "Days"], *rows])
    staff = _docx(tmp_path / "staff.docx", ["Dialysis unit staff"], [["Name", "Chair", "Days"], *rows])
    navigators = _docx(tmp_path / "nav.docx", ["Dialysis patient navigators"],
                       [["Patient Navigator", "Phone"], ["Mary Johnson", "x4410"], ["James Smith", "x4411"]])
    assert classify_file(plain).classification == "pii"
    assert classify_file(staff).classification == "pii"
    assert classify_file(navigators).classification != "phi"
