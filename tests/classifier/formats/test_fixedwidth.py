"""Fixed-width reports: rows aligned under a header of known column names are records."""

from __future__ import annotations

import pytest

from agent.classifier import classify_file
from agent.classifier.formats import fixedwidth
from agent.classifier.formats.sniff import sniff_text
from tests.classifier.formats.conftest import drain, scan_output

CENSUS = (
    "RPT0042  CLINIC DAILY CENSUS                        PAGE 1\n"
    "RUN DATE 03/07/2024\n"
    "\n"
    "MRN       PATIENT NAME              DOB        DX\n"
    "--------  ------------------------  ---------  ----------------\n"
    "00381245  HARRIS, DEREK             19620311   HYPERTENSION\n"
    "00381246  NGUYEN, THU               19800704   PREGNANCY 32WK\n"
    "\f\n"
    "MRN       PATIENT NAME              DOB        DX\n"
    "00381247  MORALES, JUAN             19451125   DEMENTIA\n"
)


def test_a_census_report_is_read_as_records(tmp_path):
    p = tmp_path / "census.txt"
    p.write_text(CENSUS)
    d = drain(p)
    assert d.format == "fixed-width" and d.error is None
    assert [t.where for t in d.texts] == ["before the table"]
    ((table, rows),) = d.tables
    assert table.header == ["MRN", "PATIENT NAME", "DOB", "DX"]
    cells = [r for r in rows if r]
    assert cells == [["00381245", "HARRIS, DEREK", "19620311", "HYPERTENSION"],
                     ["00381246", "NGUYEN, THU", "19800704", "PREGNANCY 32WK"],
                     ["00381247", "MORALES, JUAN", "19451125", "DEMENTIA"]]
    r = classify_file(p)
    assert r.classification == "phi"
    assert r.identifiers["mrn"] == 3 and r.first_evidence == "line 6"


def test_the_same_report_without_persons_is_none(tmp_path):
    p = tmp_path / "beds.txt"
    p.write_text("UNIT      BEDS   OCCUPIED   DX GROUP\n"
                 "4 WEST    32     28         CARDIAC\n"
                 "5 EAST    30     30         ONCOLOGY\n"
                 "6 NORTH   24     19         ORTHO\n")
    r = classify_file(p)
    assert r.classification == "none"


def test_a_value_running_into_the_next_column_is_cut_at_its_own_space():
    starts = (0, 6, 12)
    assert fixedwidth.cut("Ann   1234567 x", starts) == ["Ann", "1234567", "x"]
    assert fixedwidth.cut("Ann   12", starts) == ["Ann", "12", ""]
    assert fixedwidth.cut("Ann 1234.50", (0, 6)) == ["Ann", "1234.50"]  # right-aligned


@pytest.mark.parametrize("text", [
    # code with aligned comments, prose with two spaces after a full stop, `ls -l`
    "import os\nx = 1      # count\ny = 22     # size\nz = 333    # name\n",
    "The patient portal.  It is new.  Please read.\nName  DOB  Dx are fields.  See below.\n",
    "total 8\n-rw-r--r--  1 root  root  12 Mar  7 10:00 a.txt\n-rw-r--r--  1 root  root  13 Mar  7 10:01 b.txt\n",
    # a header but no rows under it
    "NAME      DOB        DX\n\nNothing to report.\n",
])
def test_text_that_is_not_a_fixed_width_table(text):
    assert sniff_text(text) == "text"


def test_sniffed_as_a_report():
    assert sniff_text(CENSUS) == "fixed-width"


def test_no_value_of_a_report_leaks(tmp_path):
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "census.txt").write_text(CENSUS)
    blob = scan_output(tmp_path / "in", tmp_path)
    planted = ["00381245", "HARRIS", "DEREK", "19620311", "NGUYEN", "MORALES"]
    assert [v for v in planted if v.encode() in blob] == []


def test_rows_count_against_the_row_limit(tmp_path):
    from agent.classifier.limits import Limits

    p = tmp_path / "long.txt"
    p.write_text("MRN       NAME            DX\n" + "".join(
        f"{i:08d}  PATIENT, ANN    ASTHMA\n" for i in range(300)))
    d = drain(p, Limits(max_rows=100))
    assert d.format == "fixed-width"
    assert d.error is not None and d.error.partial and "over 100 rows" in d.error.reason
