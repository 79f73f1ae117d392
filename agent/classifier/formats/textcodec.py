"""Text encodings: BOMs, UTF-16 without a BOM, UTF-8, Latin-1 fallback; or `None` = binary."""

from __future__ import annotations

import codecs

# Longest first: the UTF-32 LE BOM starts with the UTF-16 LE one.
_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)
# Control bytes that do not occur in text. Allowed: TAB LF VT FF CR, ESC (ANSI colours in
# logs), and HL7 MLLP framing (VT 0x0b start, FS 0x1c end; HL7 v2.5.1 Appendix C).
_CONTROL = bytes(b for b in range(32) if b not in (9, 10, 11, 12, 13, 27, 28)) + b"\x7f"
_CONTROL_TABLE = bytes.maketrans(_CONTROL, b"\x00" * len(_CONTROL))


def detect(head: bytes) -> str | None:
    """The codec to decode a file starting with `head`, or None when it is not text."""
    for bom, codec in _BOMS:
        if head.startswith(bom):
            return codec
    if not head:
        return "utf-8"
    sample = head[:8192]
    if b"\x00" in sample:
        # Text followed by a run of NULs is a preallocated or sparse log (the tail not yet
        # written); the NULs are skipped when read. Scattered NULs are UTF-16 or binary.
        text = sample.rstrip(b"\x00")
        if len(text) < len(sample) and text and b"\x00" not in text:
            sample = text
        else:
            return _utf16_without_bom(sample)
    # Control characters other than whitespace mean a binary format we do not know.
    controls = len(sample) - len(sample.translate(None, _CONTROL))
    if controls > len(sample) // 100 + 1:
        return None
    if _is_utf8(sample):
        return "utf-8"
    return "latin-1"


def _utf16_without_bom(sample: bytes) -> str | None:
    # Mostly-ASCII UTF-16 has a NUL in every other byte: odd offsets for little endian,
    # even offsets for big endian. Binary files have NULs scattered on both.
    half = len(sample) // 2 or 1
    even = sample[0::2].count(0)
    odd = sample[1::2].count(0)
    if odd > 0.3 * half and even < 0.02 * half:
        return "utf-16-le"
    if even > 0.3 * half and odd < 0.02 * half:
        return "utf-16-be"
    return None


def _is_utf8(sample: bytes) -> bool:
    if sample.isascii():
        return True  # most files, and checked in C without a decoder
    decoder = codecs.getincrementaldecoder("utf-8")()
    try:
        decoder.decode(sample, final=False)  # a sequence cut at the end is not an error
    except UnicodeDecodeError:
        return False
    return True


def decode_head(head: bytes, encoding: str) -> str:
    """Decode a head sample, ignoring a character cut at its end."""
    if encoding == "utf-8" and head.isascii():
        return head.decode("ascii")  # the same text, without an incremental decoder
    return codecs.getincrementaldecoder(encoding)(errors="replace").decode(head, final=False)
