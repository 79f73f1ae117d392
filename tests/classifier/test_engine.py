"""Engine behaviours: both engines agree, blocks overlap without double counting, free
text pairs identifiers and health information by proximity, tables by record."""

from __future__ import annotations

from agent.classifier.evidence import Evidence, analyze_text
from agent.classifier.tabular import analyze_table
from agent.classifier.units import Table

NOTE = ("Patient: Dawn Bailey   MRN: 31759180   DOB: 03/04/1970\n"
        "Assessment: Type 2 diabetes mellitus without complications (E11.9).\n")


def _counted(engine, text):
    return sorted((h.kind, h.start, h.end) for h in engine.scan(text.encode()) if h.counted)


def test_engines_agree_on_corpus_text(corpus, hs_engine, re_engine):
    n = 0
    for m in corpus.manifest:
        if m["format"] in ("txt", "log", "md", "csv", "tsv", "json", "hl7", "py"):
            text = (corpus.files / m["path"]).read_text(errors="replace")
            assert _counted(hs_engine, text) == _counted(re_engine, text), m["path"]
            n += 1
    assert n > 100


def test_findings_carry_no_text(hs_engine):
    for h in hs_engine.scan(NOTE.encode()):
        assert not any(isinstance(v, (str, bytes)) and "3175" in v for v in (h.kind, h.category, h.subject))


def test_overlap_is_not_counted_twice(hs_engine):
    ev = Evidence()
    analyze_text(hs_engine, NOTE, ev, line=1)
    # the next block repeats the whole note as its overlap, then adds a clean line
    analyze_text(hs_engine, NOTE + "all good\n", ev, line=1, overlap=len(NOTE))
    assert ev.identifiers["mrn"] == 1 and ev.identifiers["dob"] == 1
    assert ev.health["icd10"] == 1


def test_proximity_in_large_blocks(hs_engine):
    filler = "".join(f"2024-05-01T10:00:{i % 60:02d}Z INFO worker heartbeat ok\n" for i in range(2000))
    far = "Contact: Dawn Bailey <dawn.bailey12@gmail.com>\n" + filler + "Dx: E11.9 type 2 diabetes mellitus\n"
    ev = Evidence()
    analyze_text(hs_engine, far, ev, line=1)
    assert ev.label() == "pii"  # identifier and diagnosis are 90 KB apart
    near = filler + "pt Dawn Bailey MRN 31759180 dx=E11.9 type 2 diabetes mellitus\n" + filler
    ev = Evidence()
    analyze_text(hs_engine, near, ev, line=1)
    assert ev.label() == "phi" and ev.phi_where == "line 2001"


def test_small_block_is_one_context(hs_engine):
    ev = Evidence()
    analyze_text(hs_engine, "From: dawn.bailey12@gmail.com\n\n" + "x " * 200 + "\nMy metformin makes me dizzy.\n", ev)
    assert ev.label() == "phi"


def test_table_by_record_not_by_file(hs_engine):
    # identifiers in one row, health in another: not a PHI record
    t = Table(["name", "email", "icd10"], [["Dawn Bailey", "d.b@gmail.com", ""], ["", "", "E11.9"]])
    ev = Evidence()
    analyze_table(hs_engine, t, ev)
    assert ev.label() == "pii"
    t = Table(["name", "email", "icd10"], [["Dawn Bailey", "d.b@gmail.com", "E11.9"]], first_row_line=2)
    ev = Evidence()
    analyze_table(hs_engine, t, ev)
    assert ev.label() == "phi" and ev.phi_where == "line 2"


def test_lookalike_column_is_ignored(hs_engine):
    # half the values are valid SSNs, half never issued (area 9xx): a part-number column
    rows = [[f"{(100 if i % 2 else 900) + i}-{10 + i % 80:02d}-{1000 + i}", "gasket", "icd E11.9"]
            for i in range(60)]
    t = Table(["ref", "desc", "note"], rows)
    ev = Evidence()
    analyze_table(hs_engine, t, ev)
    assert "ssn" not in ev.identifiers


def test_masked_values_are_not_identifiers(hs_engine):
    t = Table(["patient_name", "ssn", "dx"], [["XXXXX", "XXX-XX-XXXX", "E11.9"], ["", "N/A", "I10"]])
    ev = Evidence()
    analyze_table(hs_engine, t, ev)
    assert ev.label() == "none" and not ev.identifiers


def test_a_notes_column_that_names_the_patient_is_read_for_health_too(hs_engine):
    """A column typed "name" by its values whose cells are notes ("Seen Dawn Bailey
    today; stable on metformin") still says what the note says about health."""
    first = ["Dawn", "James", "Maria", "Wei", "Aisha"]
    last = ["Bailey", "Smith", "Chen", "Khan", "Rivera"]
    rows = [[str(i), f"Seen {first[i % 5]} {last[i % 3]} today; stable on metformin 500 mg"]
            for i in range(50)]
    ev = Evidence()
    analyze_table(hs_engine, Table(["id", "note"], rows, first_row_line=2), ev)
    assert ev.label() == "phi" and ev.phi_where == "line 2"
    assert ev.identifiers["name"] == 50  # counted once, as the typed column
    assert ev.health.get("medication", 0) >= 50
    # a column of bare names stays a name column without health
    ev = Evidence()
    analyze_table(hs_engine, Table(["id", "who"], [[r[0], r[1].split(" today")[0][5:]] for r in rows]), ev)
    assert ev.label() == "pii" and ev.identifiers["name"] == 50 and not ev.health


def test_column_values_drop_exactly_the_placeholders():
    """tabular._values (C-speed passes) keeps what is_placeholder would keep."""
    import random

    from agent.classifier.tabular import _values, is_placeholder

    rng = random.Random(7)
    pieces = ["", " ", "\t", "\n", "x", "X", "null", "NULL", "NuLl", " none ", "N/A", "n/a", "0", "-",
              "_", "***", "XXX-XX-XXXX", "Dawn", "123", "é", "İ", "\u00a0", "(", ")", "#", "."]
    for _ in range(20_000):
        col = tuple("".join(rng.choice(pieces) for _ in range(rng.randint(0, 3)))
                    for _ in range(rng.randint(0, 6)))
        assert _values(col) == [v for v in col if not is_placeholder(v)], col


def test_windows_merge_as_the_plain_loop_did():
    import random

    from agent.classifier.engine import _windows

    def plain(offs, back, fwd, n):
        spans = []
        for to in offs:
            ws, we = max(0, to - back), min(n, to + fwd)
            if spans and ws <= spans[-1][1]:
                spans[-1] = (spans[-1][0], we)
            else:
                spans.append((ws, we))
        return spans

    rng = random.Random(2)
    for _ in range(20_000):
        n = rng.randint(1, 300)
        offs = sorted(rng.randint(0, n) for _ in range(rng.randint(0, 8)))
        back, fwd = rng.randint(0, 90), rng.randint(0, 30)
        assert _windows(offs, back, fwd, n) == plain(offs, back, fwd, n)
