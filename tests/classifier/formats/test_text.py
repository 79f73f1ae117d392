"""Plain text is streamed in big overlapping blocks with correct line numbers."""

from __future__ import annotations

from agent.classifier.limits import Limits
from tests.classifier.formats.conftest import MRN, NAME, SSN, drain

LOG_LINE = b"2026-01-02T03:04:05Z INFO request_id=9f1c2b7e worker=17 handled GET /health 200\n"
ROW = f"2026-01-02T03:04:06Z WARN patient {NAME} SSN {SSN} admitted, dx E11.9".encode()


def test_row_at_byte_40_000_000_is_in_one_block(tmp_path):
    p = tmp_path / "app.log"
    before = 40_000_000 // len(LOG_LINE)
    with open(p, "wb") as f:
        f.write(LOG_LINE * before)
        f.write(b"x" * (40_000_000 - f.tell()) + b"\n")  # pad so the row starts at 40,000,001
        row_offset = f.tell()
        f.write(ROW + b"\n")
        f.write(LOG_LINE * 1000)
    assert row_offset > 40_000_000
    d = drain(p)
    assert d.format == "text" and d.error is None
    hits = [b for b in d.texts if ROW.decode() in b.text]
    assert hits, "the row was not handed to the engine whole"
    block = hits[0]
    row_line = int(block.line) + block.text[: block.text.index(ROW.decode())].count("\n")
    assert row_line == before + 2  # the padded line, then the row
    # Blocks are big (no per-line units) and every byte is covered once plus overlaps.
    assert len(d.texts) < 40
    covered = sum(len(b.text) - b.overlap for b in d.texts)
    assert covered == p.stat().st_size


def test_match_straddling_a_block_cut_is_whole_in_the_next_block(tmp_path):
    limits = Limits(block_bytes=4096, overlap_chars=256)
    p = tmp_path / "one-line.txt"
    # No line breaks at all: blocks are hard cuts; the SSN sits across the first cut.
    body = "a" * (4096 - 5) + f" {SSN} " + "b" * 5000
    p.write_text(body)
    d = drain(p, limits)
    assert len(d.texts) >= 2
    assert SSN not in d.texts[0].text
    assert SSN in d.texts[1].text[: d.texts[1].overlap + 10]
    assert d.texts[1].overlap == 256


def test_overlap_starts_at_a_line_and_line_numbers_count(tmp_path):
    limits = Limits(block_bytes=1024, overlap_chars=200)
    lines = [f"line {i:05d} {'-' * 40}" for i in range(1, 201)]
    p = tmp_path / "n.txt"
    p.write_text("\n".join(lines) + "\n")
    d = drain(p, limits)
    assert len(d.texts) > 5
    for b in d.texts:
        first = b.text.split("\n", 1)[0]
        assert first == lines[int(b.line) - 1]  # a block starts on a whole line, numbered right
        assert b.text.endswith("\n")  # and ends on one


def test_nul_hole_is_skipped_and_text_after_it_found(tmp_path):
    p = tmp_path / "prealloc.log"
    with open(p, "wb") as f:
        f.write(b"service started\n")
        f.seek(8 << 20)
        f.write(f"patient {NAME} MRN {MRN}\n".encode())
    d = drain(p)
    assert d.format == "text"
    text = "".join(b.text[b.overlap :] for b in d.texts)
    assert f"patient {NAME} MRN {MRN}" in text
    assert "\x00" * 1024 not in text  # whole NUL blocks never reach the engine


def test_small_file_read_whole_gives_the_blocks_of_the_stream(tmp_path):
    """A small file ending in a line break is handed on as one block without the
    streaming decoder; it must be exactly what the stream would give, whatever the
    encoding or ending."""
    import io

    from agent.classifier.formats import text
    from agent.classifier.formats.source import Source
    from agent.classifier.limits import Budget

    cases = {
        "ascii.txt": b"one\ntwo\n",
        "no-newline.txt": b"one\ntwo",
        "bom.txt": "\ufeffPatient café\nline two\n".encode("utf-8"),
        "latin1.txt": "Señora Peña\nsegunda línea\n".encode("latin-1"),
        "bad-utf8.txt": b"ok line\nbroken \xe9\xff here\n" + b"x" * 9000 + b"\n",
        "crlf.txt": b"a\r\nb\r\n",
        "nul.txt": b"text\x00\x00\nmore\n",
        "cut-char.txt": "ends in é".encode()[:-1] + b"\n",
    }
    for name, data in cases.items():
        p = tmp_path / name
        p.write_bytes(data)
        src = Source(name=name, size=len(data), path=p)
        src.head()
        got = list(text.units(src, Budget(Limits())))
        want = list(text.blocks(io.BytesIO(data), src.codec() or "latin-1", Budget(Limits()),
                                ascii_bytes=True))
        assert got == want, name
    assert isinstance(got[0].text, str)  # cut-char.txt: not ASCII, decoded


def test_ascii_blocks_are_bytes_with_the_decoded_text_and_offsets(tmp_path):
    """ASCII is handed on as bytes, not decoded; the first other byte switches a stream
    to decoded text from its block on. Bytes or not, the blocks say the same text with
    the same overlaps and lines."""
    import io

    from agent.classifier.formats import text
    from agent.classifier.limits import Budget

    limits = Limits(block_bytes=4096, overlap_chars=300)
    ascii_part = "".join(f"line {i} of plain ascii text\n" for i in range(600)).encode()
    for name, data in {
        "ascii": ascii_part,
        "turns utf-8": ascii_part + "Señora Peña, café\n".encode() + ascii_part,
        "no final newline": ascii_part + b"tail without a break",
    }.items():
        raw = list(text.blocks(io.BytesIO(data), "utf-8", Budget(limits), ascii_bytes=True))
        decoded = list(text.blocks(io.BytesIO(data), "utf-8", Budget(limits)))
        assert len(raw) > 3
        assert [_str(b.text) for b in raw] == [b.text for b in decoded], name
        assert [(b.overlap, b.line, b.where) for b in raw] == \
            [(b.overlap, b.line, b.where) for b in decoded], name
        kinds = [type(b.text) for b in raw]
        if name == "turns utf-8":  # bytes up to the first non-ASCII block, then str
            assert kinds[0] is bytes and kinds[-1] is str
            assert kinds == sorted(kinds, key=lambda k: k is str)
        else:
            assert set(kinds) == {bytes}, name


def _str(t: str | bytes) -> str:
    return t.decode("ascii") if isinstance(t, bytes) else t


def _lines_both_ways(path, limits):
    """(lazy blocks as text.units gives them, blocks counted as they go)."""
    import io

    from agent.classifier.formats import text
    from agent.classifier.formats.source import Source
    from agent.classifier.limits import Budget

    src = Source(name=path.name, size=path.stat().st_size, path=path)
    src.head()
    lazy = list(text.units(src, Budget(limits)))
    counted = list(text.blocks(io.BytesIO(path.read_bytes()), src.codec(), Budget(limits)))
    return lazy, counted


def test_lazy_line_numbers_are_the_counted_ones(tmp_path):
    """Big files' blocks are not line-counted as they go by; asked for, each block's line
    is what counting would have given, in any order, with or without a hole of NULs."""
    import random

    rng = random.Random(4)
    limits = Limits(block_bytes=4096, overlap_chars=300)
    body = "".join("x" * rng.choice((0, 1, 5, 40, 90, 300)) + "\n" for _ in range(3000))
    plain = tmp_path / "plain.log"
    plain.write_bytes(b"\xef\xbb\xbf" + body.encode() + b"no newline at the end")
    holed = tmp_path / "holed.log"
    holed.write_bytes(body[:20000].encode() + b"\x00" * 70000 + body[20000:].encode())
    for p in (plain, holed):
        lazy, counted = _lines_both_ways(p, limits)
        assert len(lazy) > 20 and [_str(b.text) for b in lazy] == [b.text for b in counted]
        order = list(range(len(lazy)))
        rng.shuffle(order)
        for i in order:
            assert int(lazy[i].line) == counted[i].line, (p.name, i)


def test_finding_deep_in_a_log_is_located_on_its_line(tmp_path):
    from agent.classifier import classify_file

    p = tmp_path / "service.log"
    n = 6 * 1024 * 1024 // len(LOG_LINE)  # three 2 MiB blocks before the row
    row = b'2026-01-02T03:04:06Z INFO patient lookup mrn=31759180 name="Dawn Bailey" dx=E11.9\n'
    p.write_bytes(LOG_LINE * n + row + LOG_LINE * 100)
    r = classify_file(p)
    assert r.classification == "phi"
    assert r.first_evidence == f"line {n + 1}"
