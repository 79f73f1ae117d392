"""Query results saved from psql and mysql (recorded real outputs in
tests/fixtures/query_output/): read as tables under their column names."""

from __future__ import annotations

from pathlib import Path

import pytest

from agent.classifier import classify_file
from agent.classifier.formats.sniff import sniff_text
from tests.classifier.formats.conftest import drain, scan_output

OUT = Path(__file__).resolve().parents[2] / "fixtures" / "query_output"
ROWS = [["Rosalind", "Quexley", "1961-04-02", "E11.9"], ["Ines", "Marchetti", "1990-07-15", "F32.9"]]


@pytest.mark.parametrize("name", ["psql_out.txt", "mysql_out.txt"])
def test_aligned_output_is_a_table_with_its_header(name):
    d = drain(OUT / name)
    assert d.format == "csv" and d.error is None
    ((table, rows),) = d.tables
    header = [h for h in table.header if h]
    assert header == ["id", "first_name", "last_name", "dob", "dx_code"]
    cells = [[c.strip() for c in r if c.strip()] for r in rows]
    assert [c[1:] for c in cells if len(c) == 5] == ROWS


def test_vertical_output_is_a_table_of_records():
    d = drain(OUT / "psql_expanded.txt")
    assert d.format == "vertical"
    ((table, rows),) = d.tables
    assert table.header == ["patient_name", "dob", "dx", "note"]
    assert rows == [["Rosalind Quexley", "1961-04-02", "E11.9", "line one line two"],
                    ["Ines Marchetti", "1990-07-15", "F32.9", "x"]]
    d = drain(OUT / "mysql_vertical.txt")
    assert d.format == "vertical"
    ((table, rows),) = d.tables
    assert table.header == ["patient_name", "dob", "dx"] and len(rows) == 2


@pytest.mark.parametrize("name", ["psql_out.txt", "mysql_out.txt", "psql_expanded.txt",
                                  "mysql_vertical.txt"])
def test_saved_query_results_about_patients_are_phi(name):
    r = classify_file(OUT / name)
    assert r.classification == "phi"
    assert r.identifiers.get("dob") == 2


@pytest.mark.parametrize("text, fmt", [
    # a Markdown document's horizontal rules do not make it a table
    ("# Notes\n\nSome text, and more.\n\n---\n\nOther text, again.\n", "text"),
    ("-[ RECORD 1 ]+------\nid | 1\n", "vertical"),
    ("- [ ] a task list item\n- [x] done\n", "text"),
])
def test_sniffing(text, fmt):
    assert sniff_text(text) == fmt


def test_no_value_of_a_query_result_leaks(tmp_path):
    blob = scan_output(OUT, tmp_path)
    planted = ["Rosalind", "Quexley", "Marchetti", "1961-04-02", "1990-07-15"]
    assert [v for v in planted if v.encode() in blob] == []


def test_a_record_wider_than_the_limit_ends_the_read(tmp_path):
    p = tmp_path / "wide.txt"
    p.write_text("-[ RECORD 1 ]+-----\n" + "".join(f"k{i} | v\n" for i in range(10_050)))
    d = drain(p)
    assert d.format == "vertical"
    assert d.error is not None and "over 10000 fields" in d.error.reason
    r = classify_file(p)  # nothing read yet: the file is read as text instead
    assert r.classification == "none" and r.reason == "vertical record over 10000 fields; read as text"
