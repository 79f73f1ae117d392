"""SQL dumps: rows read as tables under their column names. The recorded dumps in
tests/fixtures/sqldump/ were written by the real pg_dump, mysqldump and sqlite3 (see the
README there)."""

from __future__ import annotations

from pathlib import Path

import pytest

from agent.classifier import classify_file
from agent.classifier.formats import sqldump
from agent.classifier.formats.sniff import sniff_text
from agent.classifier.limits import Limits
from tests.classifier.formats.conftest import drain, scan_output

DUMPS = Path(__file__).resolve().parents[2] / "fixtures" / "sqldump"
PATIENT_HEADER = ["id", "first_name", "last_name", "dob", "dx_code", "note"]
PATIENT_ROWS = [
    ["1", "Rosalind", "Quexley", "1961-04-02", "E11.9", "Type 2 diabetes; A1c 8.1"],
    ["2", "Bartholomew", "O'Dwyer", "1948-11-30", "I50.9", "heart failure, on furosemide"],
    ["3", "Ines", "Marchetti", "1990-07-15", "F32.9", ""],
]


@pytest.mark.parametrize("name", ["pg_copy.sql", "mysql_patients.sql", "sqlite_patients.sql"])
def test_each_tool_s_dump_gives_the_table_under_its_columns(name):
    d = drain(DUMPS / name)
    assert d.format == "sql" and d.error is None
    ((table, rows),) = d.tables
    assert table.where == "table patients"
    assert table.header == PATIENT_HEADER
    assert rows == PATIENT_ROWS


@pytest.mark.parametrize("name, label", [
    ("pg_copy.sql", "phi"),
    ("mysql_patients.sql", "phi"),
    ("sqlite_patients.sql", "phi"),
    ("seed.sql", "phi"),
    ("pg_inserts_staff.sql", "pii"),
    ("pg_metrics.sql", "none"),
    ("pg_schema_only.sql", "none"),
])
def test_dump_verdicts(name, label):
    r = classify_file(DUMPS / name)
    assert (r.format, r.classification) == ("sql", label)
    if label == "phi":
        assert r.identifiers["name"] >= 6 and r.identifiers["dob"] == 3
        assert r.health["icd10"] == 3
        assert r.first_evidence == "table patients row 1"


def test_read_as_plain_text_the_same_rows_had_no_label(tmp_path):
    """Why dumps have a reader: without the column names a name and a date in a row are
    not identifiers (the verdict the text reader gave before)."""
    from agent.classifier.engine import get_engine
    from agent.classifier.evidence import Evidence, analyze_text

    text = "\n".join(line for line in (DUMPS / "sqlite_patients.sql").read_text().splitlines()
                     if line.startswith("INSERT"))
    ev = Evidence()
    analyze_text(get_engine(), text, ev)
    ev.small_document()
    assert ev.label() != "phi"


def test_insert_columns_come_from_create_table_and_blank_lines_do_not_split(tmp_path):
    p = tmp_path / "seed"
    p.write_text(
        "-- hand-written seed\n"
        "create table visits (\n  id serial primary key,\n  \"patient name\" text not null,\n"
        "  visit_date date,\n  reason varchar(200) default 'n/a',\n  constraint v_pk unique (id)\n);\n\n"
        "insert into visits values (1, 'Rosalind Quexley', '2024-02-01', 'chest pain');\n\n"
        "insert into visits values (2, 'Ines Marchetti', '2024-02-02', 'asthma');\n")
    d = drain(p)
    assert d.format == "sql"
    ((table, rows),) = d.tables
    assert table.header == ["id", "patient name", "visit_date", "reason"]
    assert rows == [["1", "Rosalind Quexley", "2024-02-01", "chest pain"],
                    ["2", "Ines Marchetti", "2024-02-02", "asthma"]]
    assert classify_file(p).classification == "phi"


def test_values_quoting_escapes_functions_and_trailing_clauses(tmp_path):
    p = tmp_path / "x.sql"
    p.write_text(
        "INSERT INTO t (a, b, c, d) VALUES\n"
        "  ('semi; colon', 'it''s', E'tab\\there', '2024-01-01'::date),\n"
        "  ('line one\nline two', NULL, now(), -4.5e2)\n"
        "ON CONFLICT (a) DO UPDATE SET b = EXCLUDED.b;\n"
        "INSERT INTO t VALUES ('O\\'Brien', 'x', 'y', 'z') ON DUPLICATE KEY UPDATE a=VALUES(a);\n")
    ((_, rows1), (_, rows2)) = drain(p).tables
    assert rows1 == [["semi; colon", "it's", "tab\there", "2024-01-01"],
                     ["line one\nline two", "", "now ( )", "-4.5e2"]]
    assert rows2 == [["O'Brien", "x", "y", "z"]]


def test_a_cut_dump_keeps_the_rows_read_and_scans_the_rest_as_text(tmp_path):
    whole = (DUMPS / "mysql_patients.sql").read_text()
    cut = whole[: whole.index("(3,'Ines'") + 12]  # inside the third row's string
    p = tmp_path / "cut.sql"
    p.write_text(cut)
    d = drain(p)
    assert d.error is None
    ((table, rows),) = d.tables
    assert rows == PATIENT_ROWS[:2]
    assert "Ines" in d.all_text()  # the cut statement went to the engine as text
    assert classify_file(p).classification == "phi"


def test_a_backslash_before_a_quote_does_not_swallow_the_dump(tmp_path):
    """PostgreSQL strings take a backslash literally; read as an escape, the quote stays
    open. The next statement still starts a statement."""
    p = tmp_path / "pg.sql"
    p.write_text("SET standard_conforming_strings = on;\n"
                 "INSERT INTO files VALUES (1, 'C:\\');\n"
                 "INSERT INTO patients (name, dob, dx) VALUES ('Rosalind Quexley', '1961-04-02', 'E11.9');\n")
    d = drain(p)
    tables = {t.where: rows for t, rows in d.tables}
    assert tables["table patients"] == [["Rosalind Quexley", "1961-04-02", "E11.9"]]


def test_one_endless_statement_is_cut_at_the_limit(tmp_path, monkeypatch):
    monkeypatch.setattr(sqldump, "MAX_STATEMENT", 100_000)
    p = tmp_path / "huge.sql"
    with p.open("w") as f:
        f.write("INSERT INTO t VALUES\n")
        for i in range(20_000):
            f.write(f"({i},'x'),\n")
    d = drain(p)
    assert d.error is not None and d.error.partial
    assert "SQL statement over" in d.error.reason
    r = classify_file(p)
    assert r.classification == "none" and "SQL statement over" in (r.reason or "")


def test_copy_rows_count_against_the_row_limit(tmp_path):
    p = tmp_path / "copy.sql"
    p.write_text("COPY public.t (a, b) FROM stdin;\n" + "".join(f"{i}\tx\n" for i in range(3000))
                 + "\\.\n")
    d = drain(p, Limits(max_rows=2000))
    assert d.error is not None and "over 2000 rows" in d.error.reason


@pytest.mark.parametrize("text, fmt", [
    ((DUMPS / "pg_copy.sql").read_text()[:4000], "sql"),
    ("-- seed\n\ninsert into t values (1);\n", "sql"),
    ("PRAGMA foreign_keys=OFF;\nBEGIN TRANSACTION;\nCREATE TABLE t(a);\n", "sql"),
    # SQL inside code or prose is not a dump
    ('import sqlite3\nSQL = """\nINSERT INTO t VALUES (1)\n"""\n', "text"),
    ("Start the server, then\nINSERT INTO is what the loader runs.\n", "text"),
    ("Update the README before the release.\n", "text"),
    ("# Notes\n\nSELECT a FROM b is slow\n", "text"),
    ("a,b,c\n1,2,3\n4,5,6\n", "csv"),
])
def test_sniffing_a_dump(text, fmt):
    assert sniff_text(text) == fmt


def test_no_value_of_a_dump_leaks(tmp_path):
    blob = scan_output(DUMPS, tmp_path)
    planted = ["Rosalind", "Quexley", "Bartholomew", "Dwyer", "Marchetti", "1961-04-02",
               "1948-11-30", "grace.liu@example.com", "Omar Haddad", "415-555-0133"]
    assert [v for v in planted if v.encode() in blob] == []


def test_a_long_insert_is_read_in_batches_of_rows():
    from agent.classifier.limits import Budget

    statement = "INSERT INTO t VALUES " + ",".join(f"({i},'x')" for i in range(2500)) + ";"
    values = sqldump._Values(statement, statement.index("VALUES") + 6, Budget())
    assert [len(b) for b in values.batches()] == [1024, 1024, 452]
    assert values.complete


def test_a_long_insert_stops_at_the_time_budget(tmp_path):
    p = tmp_path / "slow.sql"
    p.write_text("INSERT INTO t (a, b) VALUES " + ",".join(f"({i},'n{i}')" for i in range(300_000)) + ";\n")
    d = drain(p, Limits(time_budget_s=0.05))
    assert d.error is not None and d.error.partial and "time budget" in d.error.reason


def test_a_finding_in_the_dump_s_text_is_located_on_its_line(tmp_path):
    p = tmp_path / "notes.sql"
    p.write_text("-- seed\n\nCREATE TABLE t (a int);\n\n\n-- note: patient Rosalind Quexley, SSN 536-90-4399\n"
                 "INSERT INTO t VALUES (1);\n")
    r = classify_file(p)
    assert r.format == "sql" and r.identifiers.get("ssn") == 1
    assert r.first_evidence == "line 6"


def test_a_sql_server_script_without_semicolons():
    d = drain(DUMPS / "mssql_generated.sql")
    assert d.format == "sql"
    assert [(t.header, rows) for t, rows in d.tables] == [
        (["PatientName", "DOB", "Diagnosis"], [["Rosalind Quexley", "1961-04-02", "Type 2 diabetes"]]),
        (["PatientName", "DOB", "Diagnosis"], [["Ines Marchetti", "1990-07-15", "asthma"]]),
    ]
    assert classify_file(DUMPS / "mssql_generated.sql").classification == "phi"
