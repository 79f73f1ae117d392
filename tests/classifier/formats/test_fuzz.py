"""Seeded mutations of real files of every format: extraction ends in units or an
ExtractionError, never another exception, and stays within its budget."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from agent.classifier.formats import extract
from agent.classifier.limits import Limits
from agent.classifier.units import ExtractionError, Member, Table
from tests.classifier.formats.conftest import (
    HEADER,
    PATIENT_ROW,
    csv_bytes,
    write_dicom,
    write_docx,
    write_pdf,
    write_sqlite,
    write_xlsx,
    zip_bytes,
)
from tests.classifier.formats.test_fixedwidth import CENSUS
from tests.classifier.formats.test_ods import write_ods
from tests.classifier.formats.test_records import ADT, BUNDLE, _ccda


def _drain(units) -> None:
    for u in units:
        if isinstance(u, Table):
            for _ in u.rows:
                pass
        elif isinstance(u, Member):
            try:
                _drain(u.units)
            except ExtractionError:
                pass  # the member's own error; the archive goes on


def _xls(path) -> bytes:
    import xlwt

    wb = xlwt.Workbook()
    ws = wb.add_sheet("P")
    for r, row in enumerate([HEADER, PATIENT_ROW]):
        for c, v in enumerate(row):
            ws.write(r, c, v)
    wb.save(str(path))
    return path.read_bytes()


@pytest.fixture(scope="module")
def seeds(tmp_path_factory) -> dict[str, bytes]:
    d = tmp_path_factory.mktemp("seeds")
    pq.write_table(pa.table({"patient_name": ["A B"], "mrn": ["X1"]}), d / "t.parquet")
    files = {
        "xlsx": write_xlsx(d / "a.xlsx", {"S": [HEADER, PATIENT_ROW]}).read_bytes(),
        "docx": write_docx(d / "a.docx").read_bytes(),
        "pdf": write_pdf(d / "a.pdf", ["page one", "page two"]).read_bytes(),
        "dcm": write_dicom(d / "a.dcm").read_bytes(),
        "sqlite": write_sqlite(d / "a.db").read_bytes(),
        "parquet": (d / "t.parquet").read_bytes(),
        "zip": zip_bytes({"a.csv": csv_bytes(), "b.json": json.dumps(BUNDLE).encode()}),
        "fhir": json.dumps(BUNDLE).encode(),
        "hl7": ADT.encode(),
        "ccda": _ccda("<patient><name><given>A</given></name></patient>").encode(),
        "csv": csv_bytes(),
        "sql": (Path(__file__).resolve().parents[2] / "fixtures" / "sqldump" / "mysql_patients.sql").read_bytes(),
        "fixed-width": CENSUS.encode(),
        "vertical": (Path(__file__).resolve().parents[2] / "fixtures" / "query_output" / "psql_expanded.txt").read_bytes(),
        "ods": write_ods(d / "a.ods", {"P": [HEADER, PATIENT_ROW]}).read_bytes(),
        "xls": _xls(d / "a.xls"),
    }
    return files


@pytest.mark.filterwarnings("ignore")  # pytest resets warning filters per test; see quiet.py
@pytest.mark.parametrize(
    "kind", ["xlsx", "docx", "pdf", "dcm", "sqlite", "parquet", "zip", "fhir", "hl7", "ccda", "csv",
             "sql", "fixed-width", "vertical", "ods", "xls"]
)
def test_mutated_files_end_in_units_or_a_reason(tmp_path, seeds, kind):
    rnd = random.Random(kind)  # deterministic per format
    data = seeds[kind]
    other = []
    for i in range(30):
        buf = bytearray(data)
        if i % 3 == 0:
            buf = buf[: rnd.randrange(1, len(buf))]  # truncation
        else:
            for _ in range(rnd.randrange(1, 16)):  # byte flips
                buf[rnd.randrange(len(buf))] = rnd.randrange(256)
        p = tmp_path / f"m{i}"
        p.write_bytes(bytes(buf))
        try:
            _drain(extract(p, Limits(time_budget_s=20)).units)
        except ExtractionError as e:
            assert e.reason
        except Exception as e:  # noqa: BLE001 - this is what the test looks for
            other.append(f"{i}: {type(e).__name__}")
    assert other == []
