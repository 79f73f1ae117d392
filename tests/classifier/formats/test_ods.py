"""OpenDocument spreadsheets, written with odfpy (a real ODF writer): every sheet a table."""

from __future__ import annotations

import zipfile

import pytest

from agent.classifier import classify_file
from tests.classifier.formats.conftest import HEADER, PATIENT_ROW, drain


def write_ods(path, sheets: dict[str, list[list]]):
    from odf.opendocument import OpenDocumentSpreadsheet
    from odf.table import Table, TableCell, TableRow
    from odf.text import P

    doc = OpenDocumentSpreadsheet()
    for name, rows in sheets.items():
        t = Table(name=name)
        for r in rows:
            tr = TableRow()
            for v in r:
                if isinstance(v, (int, float)):
                    cell = TableCell(valuetype="float", value=v)
                else:
                    cell = TableCell(valuetype="string")
                cell.addElement(P(text=str(v)))
                tr.addElement(cell)
            t.addElement(tr)
        doc.spreadsheet.addElement(t)
    doc.save(str(path))
    return path


def test_every_sheet_is_a_table_under_its_header(tmp_path):
    p = write_ods(tmp_path / "book.ods", {
        "Summary": [["Quarterly census"], ["beds", 40]],
        "Patients": [HEADER, PATIENT_ROW],
    })
    d = drain(p)
    assert d.format == "ods" and d.error is None
    tables = {t.where: (t.header, rows) for t, rows in d.tables}
    assert tables["sheet Patients"] == (HEADER, [PATIENT_ROW])
    r = classify_file(p)
    assert (r.format, r.classification, r.first_evidence) == ("ods", "phi", "sheet Patients line 2")


def test_repeated_rows_and_cells_are_bounded(tmp_path):
    """A sheet pads to a million rows and 1,024 columns with one repeated empty row and
    cell: read as nothing, not expanded."""
    t, tx = "urn:oasis:names:tc:opendocument:xmlns:table:1.0", "urn:oasis:names:tc:opendocument:xmlns:text:1.0"
    content = (
        '<?xml version="1.0" encoding="UTF-8"?><office:document-content '
        'xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
        f'xmlns:table="{t}" xmlns:text="{tx}"><office:body><office:spreadsheet>'
        '<table:table table:name="S"><table:table-row><table:table-cell><text:p>patient_name</text:p>'
        '</table:table-cell><table:table-cell><text:p>dob</text:p></table:table-cell>'
        '<table:table-cell table:number-columns-repeated="1022"/></table:table-row>'
        '<table:table-row table:number-rows-repeated="3"><table:table-cell><text:p>Rosalind Quexley</text:p>'
        '</table:table-cell><table:table-cell office:value-type="date" office:date-value="1961-04-02"/>'
        '</table:table-row><table:table-row table:number-rows-repeated="1048570">'
        '<table:table-cell table:number-columns-repeated="1024"/></table:table-row>'
        '</table:table></office:spreadsheet></office:body></office:document-content>')
    p = tmp_path / "padded.ods"
    with zipfile.ZipFile(p, "w") as z:
        z.writestr("mimetype", "application/vnd.oasis.opendocument.spreadsheet", zipfile.ZIP_STORED)
        z.writestr("content.xml", content, zipfile.ZIP_DEFLATED)
    d = drain(p)
    ((table, rows),) = d.tables
    assert table.header == ["patient_name", "dob"]
    assert rows == [["Rosalind Quexley", "1961-04-02"]] * 3


@pytest.mark.parametrize("cut", [0.3, 0.6, 0.9])
def test_a_cut_ods_is_an_error_with_a_reason(tmp_path, cut):
    data = write_ods(tmp_path / "a.ods", {"P": [HEADER, PATIENT_ROW]}).read_bytes()
    p = tmp_path / "cut.ods"
    p.write_bytes(data[: int(len(data) * cut)])
    r = classify_file(p)
    assert r.classification == "error" and r.reason
