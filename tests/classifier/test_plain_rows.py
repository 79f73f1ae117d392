"""Tables read as plain text first (delimited.py `_Lines.plain`, tabular `_skipping_clean`):
batches in which the engine has no candidate are passed over unsplit, and nothing that a
row-by-row read would find may be lost."""

from __future__ import annotations

import csv
import io
from itertools import islice

import pytest

from agent.classifier.evidence import Evidence
from agent.classifier.formats import extract
from agent.classifier.scan import classify_file
from agent.classifier.tabular import analyze_table
from agent.classifier.units import PlainRows, Table

ROWS = 20_000  # several 4,096-row batches


def _metrics(path, planted_at: int | None, planted: str, quote_from: int | None = None) -> None:
    with open(path, "w", newline="") as f:
        f.write("ts,device,metric,note\n")
        for i in range(ROWS):
            note = planted if i == planted_at else f"heartbeat ok seq {i}"
            if quote_from is not None and i >= quote_from:
                note = f'"{note}, checked"'
            f.write(f"{1700000000 + i * 60},edge-{i % 9},cpu_ns,{note}\n")


@pytest.mark.parametrize("quote_from", [None, 5_000, 15_000])
def test_a_patient_row_deep_in_a_clean_table_is_found(tmp_path, quote_from):
    p = tmp_path / "metrics.csv"
    planted = "Patient Dawn Bailey SSN 512-44-3871 diagnosed with E11.9 type 2 diabetes"
    _metrics(p, 17_500, planted, quote_from)
    r = classify_file(p)
    assert r.classification == "phi"
    assert r.identifiers.get("ssn") == 1 and r.health.get("icd10") == 1
    assert r.first_evidence == f"line {17_500 + 2}"


def test_a_clean_table_stays_clean(tmp_path):
    p = tmp_path / "metrics.csv"
    _metrics(p, None, "")
    r = classify_file(p)
    assert (r.classification, r.identifiers, r.health, r.format) == ("none", {}, {}, "csv")


def test_plain_and_parsed_reads_give_the_same_evidence(tmp_path, engine):
    """The same table through `plain` and through the csv reader alone."""
    p = tmp_path / "m.csv"
    _metrics(p, 9_000, "pt Wei Chen MRN 48213377 admitted for pneumonia", None)
    found = []
    for use_plain in (True, False):
        units = list(extract(p).units)
        table = next(u for u in units if isinstance(u, Table))
        if not use_plain:
            table.plain = None
        ev = Evidence()
        analyze_table(engine, table, ev)
        found.append((ev.label(), dict(ev.identifiers), dict(ev.health), ev.where()))
    assert found[0] == found[1] and found[0][0] == "phi"


@pytest.mark.parametrize("delimiter", [",", "\t", ";", "|"])
def test_plain_cells_are_the_csv_cells(delimiter):
    lines = [f"a{delimiter}b c{delimiter} {delimiter}x\n", f"1{delimiter}{delimiter}3{delimiter}4\n",
             "\n", "only one cell  \n", " \n", "\n", f"é{delimiter}ü{delimiter}ß"]
    text = "".join(lines)
    plain = PlainRows(text, len(lines), delimiter)
    assert plain.cells() == list(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter))


@pytest.mark.parametrize("n", [1, 2, 199, 200, 201, 4096, 4097, 9_000])
def test_typed_tables_of_any_length_read_the_same_plain_or_parsed(tmp_path, hs_engine, n):
    p = tmp_path / "patients.csv"
    with open(p, "w", newline="") as f:
        f.write("patient_name,mrn,dob,icd10,note\n")
        for i in range(n):
            f.write(f"Dawn Bailey,{31759180 + i},1970-03-{1 + i % 28:02d},E11.9,seen on visit {i}\n")
    found = []
    for use_plain in (True, False):
        table = next(u for u in extract(p).units if isinstance(u, Table))
        if not use_plain:
            table.plain = None
        ev = Evidence()
        analyze_table(hs_engine, table, ev)
        found.append((ev.label(), dict(ev.identifiers), dict(ev.health), ev.where()))
    assert found[0] == found[1]
    assert found[0][1].get("mrn", 0) == n


def _reference_rows(data: bytes, encoding: str, delimiter: str, max_line: int) -> list[list[str]]:
    """What a csv reader over capped readlines gives: the rows before plain reading."""
    stream = io.TextIOWrapper(io.BytesIO(data), encoding=encoding, errors="replace", newline="")
    return list(csv.reader(iter(lambda: stream.readline(max_line), ""), delimiter=delimiter))


@pytest.mark.parametrize("seed", range(40))
def test_plain_chunks_and_the_csv_reader_give_the_same_rows(seed, monkeypatch):
    """Random tables (quotes, CRLF, lone CR, blank lines, over-long lines, NUL, accents),
    read as the table reader does: a sample through the csv reader, then plain chunks,
    then the csv reader again once a chunk is not plain. Tiny chunk and line caps put
    every boundary somewhere interesting."""
    import random

    from agent.classifier.formats import delimited
    from agent.classifier.formats.source import Source
    from agent.classifier.limits import Budget

    rng = random.Random(seed)
    monkeypatch.setattr(delimited, "_CHUNK", rng.choice([1, 3, 7, 64]))
    monkeypatch.setattr(delimited, "MAX_LINE", rng.choice([8, 40, 1 << 20]))
    cells = ["a", "bb", "x y", "é", "", "12", '"q,uoted"', '"multi\nline"', "\x00"]
    ends = ["\n"] * 12 + ["\r\n", "\r", "\n\n"]
    lines = ["h1,h2,h3\n"] + [",".join(rng.choice(cells[:6] if rng.random() < 0.97 else cells)
                                       for _ in range(3)) + rng.choice(ends) for _ in range(300)]
    data = "".join(lines).encode()
    src = Source(name="t.csv", size=len(data), data=data)
    expected = _reference_rows(data, src.codec() or "latin-1", ",", delimited.MAX_LINE)
    table = next(u for u in delimited.units(src, Budget(), 0) if isinstance(u, Table))
    rows = iter(table.rows)
    got = [list(r) for r in islice(rows, rng.randint(0, 20))]
    while True:
        chunk = table.plain(rng.randint(1, 30))
        if chunk is None:
            got += [list(r) for r in rows]
            break
        if not chunk.count:
            break
        got += chunk.cells()
    header = [table.header] if table.header is not None else []
    assert header + got == expected


@pytest.mark.parametrize("chunk", range(1, 10))
def test_a_crlf_split_by_a_chunk_is_one_line_break(chunk, monkeypatch):
    from agent.classifier.formats import delimited
    from agent.classifier.formats.source import Source
    from agent.classifier.limits import Budget

    monkeypatch.setattr(delimited, "_CHUNK", chunk)
    data = b"h1,h2\n" + b"a,b\n" * 60 + b"c,d\r\ne,f\r\ng,h\rk,l\r\n" * 3 + b"m,n\n" * 5
    expected = _reference_rows(data, "utf-8", ",", delimited.MAX_LINE)
    for count in range(1, 12):
        table = next(u for u in delimited.units(Source("t.csv", len(data), data=data), Budget(), 0)
                     if isinstance(u, Table))
        rows = iter(table.rows)
        got = ([table.header] if table.header else []) + [list(r) for r in islice(rows, 55)]
        while (c := table.plain(count)) is not None and c.count:
            got += c.cells()
        got += [list(r) for r in rows]
        assert got == expected, (chunk, count)
