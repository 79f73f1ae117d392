"""Hostile input ends in units or an ExtractionError with a reason, within its budget,
with memory flat and nothing of the content in the reason."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import textwrap
import zipfile
from pathlib import Path

import pytest

from agent.classifier.formats import extract
from agent.classifier.limits import Limits
from agent.classifier.units import ExtractionError
from tests.classifier.formats.conftest import (
    HEADER,
    MRN,
    NAME,
    PATIENT_ROW,
    SSN,
    csv_bytes,
    drain,
    write_dicom,
    write_docx,
    write_pdf,
    write_xlsx,
    zip_bytes,
)

PLANTED = (NAME, MRN, SSN)
LOG_LINE = b"2026-01-02T03:04:05Z INFO request_id=9f1c2b7e handled GET /health 200\n"


def assert_clean_reason(err: ExtractionError | None) -> str:
    assert err is not None
    reason = str(err)
    assert reason and reason == err.reason
    for v in PLANTED:
        assert v not in reason
    # No library exception (which may quote content) rides along in a traceback.
    assert err.__cause__ is None and (err.__context__ is None or err.__suppress_context__)
    return reason


def test_zip_bomb_is_refused_from_its_directory(tmp_path):
    p = tmp_path / "bomb.zip"
    with zipfile.ZipFile(p, "w", zipfile.ZIP_DEFLATED) as zf, zf.open("zeros.csv", "w") as f:
        chunk = b"\0" * (1 << 20)
        for _ in range(200):  # 200 MiB that deflate to ~200 KB
            f.write(chunk)
    assert p.stat().st_size < 1 << 20
    d = drain(p)
    assert d.format == "zip"
    assert assert_clean_reason(d.error) == "archive expansion ratio over 100"
    assert d.members == []  # refused from the declared sizes, before inflating anything


def test_gzip_bomb_stops_while_streaming(tmp_path):
    import zlib

    p = tmp_path / "bomb.log.gz"
    comp = zlib.compressobj(9, zlib.DEFLATED, 31)  # gzip wrapper
    with open(p, "wb") as f:
        f.write(comp.compress(b"patient admitted\n"))
        for _ in range(300):
            f.write(comp.compress(b"\0" * (1 << 20)))
        f.write(comp.flush())
    d = drain(p)
    assert d.format == "gzip"
    ((name, member),) = d.members
    assert name == "bomb.log"
    assert assert_clean_reason(member.error) == "archive expansion ratio over 100"


def test_total_expanded_bytes_limit(tmp_path):
    import os

    p = tmp_path / "big.zip"
    p.write_bytes(zip_bytes({f"r{i}.bin": os.urandom(300_000) for i in range(5)}))
    d = drain(p, Limits(max_expanded_bytes=1_000_000))
    reason = assert_clean_reason(d.error)
    assert reason.startswith("archive expands past")


def test_member_count_limit_counts_across_nested_archives(tmp_path):
    # Each archive declares few entries; together they pass the limit while streaming.
    inner = zip_bytes({f"f{i}.txt": b"x" for i in range(8)})
    p = tmp_path / "many.zip"
    p.write_bytes(zip_bytes({f"part{i}.zip": inner for i in range(4)}))
    d = drain(p, Limits(max_members=20))
    assert assert_clean_reason(d.error) == "archive has over 20 members"
    assert d.error.partial
    seen = len(d.members) + sum(len(m.members) for _, m in d.members)
    assert seen == 20


def _nested_zip(depth: int) -> bytes:
    data = zip_bytes({"patients.csv": csv_bytes()})
    for i in range(depth - 1):
        data = zip_bytes({f"level{depth - 1 - i}.zip": data})
    return data


def _deepest(d, level=0):
    for _name, m in d.members:
        return _deepest(m, level + 1)
    return d, level


def test_zip_in_zip_10_deep_stops_at_the_depth_limit(tmp_path):
    p = tmp_path / "deep.zip"
    p.write_bytes(_nested_zip(10))
    d = drain(p)
    assert d.error is None
    inner, level = _deepest(d)
    # Members down to depth 5 were opened; the one at depth 6 is an error member.
    assert level == Limits().max_depth + 1
    assert assert_clean_reason(inner.error) == "archive nesting deeper than 5"
    assert PATIENT_ROW not in [r for _, rows in inner.tables for r in rows]


def test_zip_in_zip_10_deep_is_read_when_allowed(tmp_path):
    p = tmp_path / "deep.zip"
    p.write_bytes(_nested_zip(10))
    d = drain(p, Limits(max_depth=10))
    inner, level = _deepest(d)
    assert level == 10 and inner.format == "csv"
    assert inner.tables[0][1] == [PATIENT_ROW]


SPARSE_SCRIPT = textwrap.dedent(
    """
    import json, resource, sys
    from pathlib import Path
    from agent.classifier.formats import extract
    from agent.classifier.units import TextBlock
    base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    ex = extract(Path(sys.argv[1]))
    found, blocks = 0, 0
    for u in ex.units:
        blocks += 1
        if isinstance(u, TextBlock) and sys.argv[2].encode() in (
                u.text if isinstance(u.text, bytes) else u.text.encode()):
            found += 1
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(json.dumps({"format": ex.format, "found": found, "blocks": blocks,
                      "growth_kib": peak - base}))
    """
)


def _run_rss(path, row):
    out = subprocess.run(
        [sys.executable, "-c", SPARSE_SCRIPT, str(path), row],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    return json.loads(out.stdout)


def test_2gb_sparse_file_keeps_memory_flat(tmp_path):
    p = tmp_path / "sparse.log"
    row = f"patient {NAME} MRN {MRN} dx E11.9"
    with open(p, "wb") as f:
        f.write(b"log opened\n")
        f.seek(40_000_000)
        f.write(f"{row}\n".encode())
        f.seek(2_000_000_000 - 100)
        f.write(f"{row}\n".encode())
    assert p.stat().st_size > 1_999_999_000
    result = _run_rss(p, row)
    assert result["format"] == "text"
    assert result["found"] == 2  # both rows, in separate blocks
    # ru_maxrss is KiB on Linux. Blocks are 2 MiB; the whole file is 2 GB.
    assert result["growth_kib"] < 64 * 1024, result


def test_256mb_dense_log_keeps_memory_flat(tmp_path):
    # No holes to skip here: every byte is read, decoded and handed over in blocks.
    p = tmp_path / "dense.log"
    row = f"patient {NAME} MRN {MRN} dx E11.9"
    chunk = LOG_LINE * ((4 << 20) // len(LOG_LINE))
    with open(p, "wb") as f:
        while f.tell() < 256 << 20:
            f.write(chunk)
        f.write(f"{row}\n".encode())
    result = _run_rss(p, row)
    assert result["found"] == 1
    assert result["blocks"] >= 128
    assert result["growth_kib"] < 64 * 1024, result


@pytest.mark.parametrize("kind", ["xlsx", "docx", "pdf", "dcm"])
def test_truncated_documents_fail_with_a_reason(tmp_path, kind):
    p = tmp_path / f"doc.{kind}"
    if kind == "xlsx":
        write_xlsx(p, {"Patients": [HEADER, PATIENT_ROW] * 200})
    elif kind == "docx":
        write_docx(p)
    elif kind == "pdf":
        write_pdf(p, [f"{NAME} page {i}" for i in range(20)])
    else:
        write_dicom(p)
    data = p.read_bytes()
    # DICOM: cut inside the header (the pixels come last and are never read).
    cut = 300 if kind == "dcm" else len(data) // 2
    p.write_bytes(data[:cut])
    d = drain(p)
    reason = assert_clean_reason(d.error)
    name = {"dcm": "dicom"}.get(kind, kind)
    assert reason.startswith(f"corrupt {name}"), reason


def test_deeply_nested_json(tmp_path):
    p = tmp_path / "deep.json"
    p.write_text("[" * 100_000 + "]" * 100_000)
    d = drain(p)
    assert d.format == "json"
    assert assert_clean_reason(d.error) == "json nesting deeper than 200"


def test_nested_json_under_the_limit_still_reads(tmp_path):
    p = tmp_path / "deep.json"
    p.write_text('{"a":' * 150 + f'"{MRN}"' + "}" * 150)
    d = drain(p)
    assert d.error is None and MRN in d.all_text()


def test_deeply_nested_xml(tmp_path):
    p = tmp_path / "deep.xml"
    p.write_text('<?xml version="1.0"?>' + "<a>" * 100_000 + "</a>" * 100_000)
    d = drain(p)
    assert d.format == "xml"
    assert assert_clean_reason(d.error) == "xml nesting deeper than 200"


BILLION_LAUGHS = """<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
 <!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
 <!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
 <!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
 <!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
 <!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">
]>
<lolz>&lol9;</lolz>
"""


def test_billion_laughs_is_refused(tmp_path):
    p = tmp_path / "lol.xml"
    p.write_text(BILLION_LAUGHS)
    d = drain(p)
    assert d.format == "xml"
    reason = assert_clean_reason(d.error)
    assert reason.startswith("xml refused: EntitiesForbidden")
    assert reason.endswith("; scanned as text") and d.error.partial
    assert "lol" * 100 not in d.all_text()  # the raw text only: nothing expanded


def test_xxe_is_refused_and_the_file_not_read(tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text(f"{SSN}\n")
    p = tmp_path / "xxe.xml"
    p.write_text(
        f'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY x SYSTEM "{secret.as_uri()}">]><r>&x;</r>'
    )
    d = drain(p)
    assert assert_clean_reason(d.error).startswith("xml refused")
    assert SSN not in d.all_text()


def test_utf16_without_bom_is_text(tmp_path):
    p = tmp_path / "note.txt"
    p.write_bytes(f"Patient {NAME} was seen.\nSSN {SSN}.\n".encode("utf-16-le"))
    d = drain(p)
    assert d.format == "text" and SSN in d.all_text()


def test_time_budget_is_checked_inside_loops(tmp_path):
    p = tmp_path / "many.csv"
    p.write_bytes(csv_bytes() + (",".join(PATIENT_ROW) + "\n").encode() * 50_000)
    d = drain(p, Limits(time_budget_s=0.0))
    reason = assert_clean_reason(d.error)
    assert reason == "time budget 0 s exceeded"
    assert d.error.partial


def test_text_cap_is_a_partial_read(tmp_path):
    p = tmp_path / "big.log"
    p.write_bytes(b"hello world\n" * 200_000)
    d = drain(p, Limits(max_text_bytes=1_000_000, block_bytes=1 << 16))
    assert assert_clean_reason(d.error).startswith("text over 1000000 bytes per file")
    assert d.error.partial and d.texts


def test_missing_file(tmp_path):
    with pytest.raises(ExtractionError, match="^file not found$"):
        extract(tmp_path / "nope.csv")


UNREADABLE_SCRIPT = textwrap.dedent(
    """
    import sys
    from agent.classifier.formats import extract
    from agent.classifier.units import ExtractionError
    try:
        extract(sys.argv[1])
    except ExtractionError as e:
        print(e.reason)
    """
)


def test_unreadable_file_is_permission_denied(tmp_path):
    p = tmp_path / "locked.csv"
    p.write_bytes(csv_bytes())
    p.chmod(0o600)
    if os.geteuid() == 0:
        # Root reads anything: ask the OS as an unprivileged user instead.
        try:
            out = subprocess.run(
                [sys.executable, "-c", UNREADABLE_SCRIPT, str(p)],
                capture_output=True,
                text=True,
                timeout=60,
                user=65534,
                group=65534,
                cwd=Path(__file__).resolve().parents[3],
            )
        except PermissionError:
            pytest.skip("the venv is not executable by an unprivileged user here")
        assert out.returncode == 0, out.stderr[-500:]
        assert out.stdout.strip() == "permission denied"
    else:
        p.chmod(0)
        with pytest.raises(ExtractionError, match="^permission denied$"):
            extract(p)


def test_library_error_messages_do_not_leak(tmp_path):
    # A JSON syntax error right after a value: json's message would locate, not quote,
    # but our reason must carry neither the value nor the library text.
    p = tmp_path / "bad.json"
    p.write_text(json.dumps({"ssn": SSN})[:-1] + f', "{NAME}" }}')
    d = drain(p)
    reason = assert_clean_reason(d.error)
    assert reason.startswith("corrupt json: invalid JSON at line")
    assert d.error.partial and SSN in d.all_text()  # still scanned, as text


def test_corrupt_member_does_not_end_the_archive(tmp_path):
    good = csv_bytes()
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("bad.xlsx", write_xlsx(tmp_path / "x.xlsx", {"S": [HEADER]}).read_bytes()[:300])
        zf.writestr("good.csv", good)
    p = tmp_path / "mixed.zip"
    p.write_bytes(buf.getvalue())
    d = drain(p)
    assert d.error is None
    members = dict(d.members)
    assert members["bad.xlsx"].error is not None
    assert members["good.csv"].tables[0][1] == [PATIENT_ROW]


def test_fifo_is_refused_without_blocking(tmp_path):
    p = tmp_path / "pipe.csv"
    os.mkfifo(p)
    with pytest.raises(ExtractionError, match="^not a regular file$"):
        extract(p)


def test_endless_csv_line_is_read_in_bounded_pieces(tmp_path):
    p = tmp_path / "wide.csv"
    with open(p, "wb") as f:
        f.write(b"a,b,c\n1,2,3\n")
        f.write(b"x," * 3_000_000 + f"{SSN}\n".encode())
    d = drain(p)
    assert d.error is None
    rows = d.tables[0][1]
    assert max(len(r) for r in rows) <= (1 << 20) // 2 + 1  # no row wider than one piece
    assert SSN in rows[-1]


def test_zip_entry_count_is_checked_before_the_directory_is_parsed(tmp_path):
    p = tmp_path / "wide.zip"
    p.write_bytes(zip_bytes({f"e{i}": b"" for i in range(300)}))
    d = drain(p, Limits(max_members=100))
    assert assert_clean_reason(d.error) == "archive has over 100 members"
    assert d.members == []  # refused up front, from the end record


def test_xlsx_with_a_bogus_dimension_is_not_padded(tmp_path):
    src = write_xlsx(tmp_path / "a.xlsx", {"S": [HEADER, PATIENT_ROW]})
    p = tmp_path / "wide.xlsx"
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(p, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            data = zin.read(info)
            if info.filename == "xl/worksheets/sheet1.xml":
                text = data.decode()
                assert "<dimension ref=" in text
                start = text.index("<dimension ref=")
                end = text.index("/>", start) + 2
                data = (text[:start] + '<dimension ref="A1:XFD1048576"/>' + text[end:]).encode()
            zout.writestr(info, data)
    d = drain(p)
    assert d.error is None
    ((t, rows),) = d.tables
    assert t.header == HEADER and rows == [PATIENT_ROW]


LEAK_SCRIPT = textwrap.dedent(
    """
    import logging, sys
    logging.basicConfig(level=logging.DEBUG)  # as verbose as an agent could be set up
    from agent.classifier.formats import extract
    from agent.classifier.units import ExtractionError, Table
    for path in sys.argv[1:]:
        try:
            for u in extract(path).units:
                if isinstance(u, Table):
                    list(u.rows)
        except ExtractionError as e:
            print(e.reason)
    """
)


def test_library_warnings_and_logs_never_quote_content(tmp_path):
    # A damaged transfer syntax UID (same length): pydicom then warns and logs
    # "Invalid value for VR UI: '1.2.840.MRN4417023.'", quoting the bytes it read.
    p = write_dicom(tmp_path / "bad-uid.dcm")
    data = p.read_bytes()
    assert b"1.2.840.10008.1.2.1" in data
    p.write_bytes(data.replace(b"1.2.840.10008.1.2.1", f"1.2.840.{MRN}.".encode(), 1))
    out = subprocess.run(
        [sys.executable, "-W", "default", "-c", LEAK_SCRIPT, str(p)],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=Path(__file__).resolve().parents[3],
    )
    assert out.returncode == 0, out.stderr[-300:]
    for v in PLANTED:
        assert v not in out.stdout and v not in out.stderr
