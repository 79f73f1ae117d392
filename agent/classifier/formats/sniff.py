"""Decide a file's format from its first bytes, never from its name.

Order matters: magic numbers of binary formats first (cheap and exact), then text
formats from the decoded head (HL7, JSON family, XML family, e-mail, delimited), and
plain text last. Anything else with NUL bytes or control characters is `binary`.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable

from agent.classifier.formats import delimited, fixedwidth, sqldump, textcodec, vertical

# Magic numbers: Gary Kessler's file signature table and each format's spec.
# DICOM PS3.10 7.1: 128-byte preamble then "DICM". PDF 32000-1 7.5.2: "%PDF-" header,
# which readers accept within the first 1024 bytes. SQLite file format 1.3: the 16-byte
# header string. Parquet: "PAR1" at both ends. RFC 1952: gzip 1f 8b.
_ZIP = (b"PK\x03\x04", b"PK\x05\x06")  # local file header; empty archive
_BINARY_MAGIC = (
    b"\x89PNG",
    b"\xff\xd8\xff",
    b"GIF8",
    b"\x7fELF",
    b"MZ",
    b"\xca\xfe\xba\xbe",
    b"\xcf\xfa\xed\xfe",
    b"\xce\xfa\xed\xfe",
    b"\xfe\xed\xfa",
    b"7z\xbc\xaf",
    b"Rar!",
    b"\x28\xb5\x2f\xfd",
    b"\x00asm",
    b"\xd0\xcf\x11\xe0",
    b"RIFF",
    b"OggS",
    b"fLaC",
    b"ID3",
    b"\x1a\x45\xdf\xa3",
    b"wOFF",
    b"wOF2",
)

# HL7 v2.5.1 2.5.4: MSH, the field separator, 4 encoding characters (5 from v2.7), the
# field separator again. Usually "MSH|^~\&|", but any punctuation is legal.
_HL7 = re.compile(r"\A[\x0b\s]*(MSH|FHS|BHS)([^\w\s])[^\w\s]{4,5}\2")
# Segments without their MSH (copied out of an interface engine's log or a ticket): a
# patient or clinical segment id and "|", and a second segment on the next line. The
# default separators apply (hl7.Message.from_header).
_HL7_SEGMENTS = re.compile(
    r"\A[\x0b\s]*(?:PID|PD1|PV1|NK1|EVN|ORC|OBR|OBX|DG1|PR1|AL1|IN1|GT1|NTE|RXE|RXO|RXA|SCH|TXA|MRG|SPM)"
    r"\|[^\r\n]*[\r\n]+[A-Z][A-Z0-9]{2}\|")
# ASC X12 ISA: "ISA", the element separator, then ISA01 "00" or another 2-digit qualifier.
_X12 = re.compile(r"\A\s*ISA([^\w\s])\d\d\1")
_EML_FIRST = re.compile(r"[A-Za-z][\w-]*:[ \t]")
_EML_HEADER = re.compile(
    r"^(From|To|Cc|Subject|Date|Received|Return-Path|Message-ID|MIME-Version|"
    r"Content-Type|Delivered-To|Reply-To|X-[A-Za-z-]+|DKIM-Signature|Sender):[ \t]",
    re.I | re.M,
)
# The first token after { or [ as RFC 8259 allows it, so "[2026-01-02 10:00] INFO ..."
# log lines and "[section]" INI files stay text.
_JSON_START = re.compile(
    r'\{\s*["}]|\[\s*(?:[\[{\]"]|-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?\s*[,\]]|true\b|false\b|null\b)'
)
_XML_ROOT = re.compile(r"<([A-Za-z_][\w.-]*:)?([A-Za-z_][\w.-]*)[\s>/]")
_XML_SKIP = re.compile(r"\A(\s|<\?.*?\?>|<!--.*?-->|<!DOCTYPE[^>\[]*(\[.*?\])?\s*>)*", re.S)


def sniff(head: bytes, codec: Callable[[bytes], str | None] = textcodec.detect) -> str:
    """The format name for a file whose first bytes are `head` (see formats.FORMATS).
    ``codec`` says how the head decodes as text (a source's memo of textcodec.detect)."""
    if not head:
        return "text"
    if len(head) >= 132 and head[128:132] == b"DICM":
        return "dicom"
    if head[:2] in _DICOM_RAW_GROUPS and _raw_dicom(head):
        return "dicom"
    if head.startswith(_ZIP):
        return _zip_kind(head)
    if head.startswith(b"\x1f\x8b"):
        return "gzip"
    if head.startswith(b"BZh") and head[3:4].isdigit():
        return "bzip2"
    if head.startswith(b"\xfd7zXZ\x00"):
        return "xz"
    if head.startswith(b"SQLite format 3\x00"):
        return "sqlite"
    if head.startswith(b"PAR1"):
        return "parquet"
    pdf_at = head.find(b"%PDF-", 0, 1024)
    if pdf_at == 0 or (pdf_at > 0 and textcodec.detect(head[:pdf_at]) is None):
        return "pdf"  # a header after some binary junk; not a text file quoting "%PDF-"
    if len(head) >= 262 and head[257:262] == b"ustar":
        return "tar"
    if head.startswith(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"):  # [MS-CFB] 2.2 header signature
        return "ole2"
    if head.startswith(_BINARY_MAGIC):
        return "binary"
    encoding = codec(head)
    if encoding is None:
        return "binary"
    return sniff_text(textcodec.decode_head(head, encoding))


# A DICOM data set without the Part 10 preamble and "DICM" (ACR-NEMA files, some PACS and
# modality exports; pydicom reads them with force=True): it starts with an element of the
# file meta group or the identifying group (0002 or 0008, little endian).
_DICOM_RAW_GROUPS = (b"\x02\x00", b"\x08\x00")
_DICOM_VRS = frozenset(b"AE AS AT CS DA DS DT FL FD IS LO LT OB OD OF OL OV OW PN SH SL SQ SS ST SV TM "
                       b"UC UI UL UN UR US UT UV".split())
_DICOM_LONG_VRS = frozenset(b"OB OD OF OL OV OW SQ SV UC UN UR UT UV".split())


def _raw_dicom(head: bytes) -> bool:
    """Do the first bytes parse as DICOM elements: at least three, in ascending tag order,
    each with a valid VR (explicit VR) or a short length (implicit VR), the first ones in
    group 0002 or 0008? (PS3.5 7.1: tag, VR, length, value.) Binary files that start with
    08 00 or 02 00 fail within the first element or two."""
    pos, last, n = 0, -1, 0
    explicit = head[4:6] in _DICOM_VRS
    while n < 3:
        if pos + 8 > len(head):
            return False
        group = int.from_bytes(head[pos:pos + 2], "little")
        tag = (group << 16) | int.from_bytes(head[pos + 2:pos + 4], "little")
        if tag <= last or group not in (0x0002, 0x0008) and n < 2:
            return False
        if explicit:
            vr = head[pos + 4:pos + 6]
            if vr not in _DICOM_VRS:
                return False
            if vr in _DICOM_LONG_VRS:
                length, pos = int.from_bytes(head[pos + 8:pos + 12], "little"), pos + 12
            else:
                length, pos = int.from_bytes(head[pos + 6:pos + 8], "little"), pos + 8
        else:
            length, pos = int.from_bytes(head[pos + 4:pos + 8], "little"), pos + 8
        if length == 0xFFFFFFFF or length > 4096:  # a sequence or a long value this early: give up
            return length == 0xFFFFFFFF and n >= 2
        pos += length
        last = tag
        n += 1
    return True


def sniff_text(text: str) -> str:
    """The format of a text file from its decoded head."""
    stripped = text.lstrip("\ufeff \t\r\n")
    if _HL7.match(text) or _HL7_SEGMENTS.match(text):
        return "hl7"
    if _X12.match(text):
        return "x12"
    if stripped.startswith("{\\rtf"):
        return "rtf"
    if stripped.startswith(("{", "[")) and _JSON_START.match(stripped):
        return _json_kind(stripped)
    if stripped.startswith("<"):
        kind = _xml_kind(stripped)
        if kind:
            return kind
    if _looks_like_eml(stripped):
        return "eml"
    if sqldump.looks_like_dump(stripped):
        return "sql"
    if stripped[:1] in "-*" and vertical.looks_vertical(stripped):
        return "vertical"
    lines = delimited.sample_lines(text)
    dialect = delimited.detect(text, lines)
    if dialect is not None:
        return "tsv" if dialect.delimiter == "\t" else "csv"
    if fixedwidth.detect(lines):
        return "fixed-width"
    return "text"


def _zip_kind(head: bytes) -> str:
    """An OpenDocument spreadsheet, an OOXML package (xlsx, docx, pptx), or another zip."""
    # OOXML (ECMA-376 Part 2) is a zip whose part names sit uncompressed in every local
    # header (APPNOTE 4.3.7: name at offset 30, length at 26) and central directory entry (4.3.12:
    # at 46, length at 28). Reading them from the head works on a truncated file too, so a cut xlsx
    # is reported as a corrupt xlsx rather than a corrupt zip.
    # OpenDocument (ODF 1.2 part 3, 3.3): the first member is "mimetype", stored, its
    # content the media type
    if head[30:38] == b"mimetype" and b"opendocument.spreadsheet" in head[38:160]:
        return "ods"
    names = _zip_names(head)
    package = any(
        n in (b"[Content_Types].xml", b"_rels/.rels") or n.startswith(b"docProps/") for n in names
    )
    for prefix, kind, main in (
        (b"xl/", "xlsx", b"xl/workbook.xml"),
        (b"word/", "docx", b"word/document.xml"),
        (b"ppt/", "pptx", b"ppt/presentation.xml"),
    ):
        if main in names or (package and any(n.startswith(prefix) for n in names)):
            return kind
    return "zip"


def _zip_names(head: bytes) -> set[bytes]:
    names: set[bytes] = set()
    # The local headers are followed one to the next (compressed size at 18, extra field
    # length at 28): a zip that stores another zip or an xlsx uncompressed holds their
    # headers too, and only the outer archive's own names say what it is.
    pos = 0
    while head.startswith(b"PK\x03\x04", pos) and len(names) < 64:
        n = int.from_bytes(head[pos + 26 : pos + 28], "little")
        names.add(head[pos + 30 : pos + 30 + n])
        flags = int.from_bytes(head[pos + 6 : pos + 8], "little")
        size = int.from_bytes(head[pos + 18 : pos + 22], "little")
        if (flags & 8 and size == 0) or size == 0xFFFFFFFF:
            # The size is not in the header (a data descriptor follows the data, bit 3; or
            # Zip64): the rest of the head is searched for headers instead.
            for sig, size_at, at in ((b"PK\x03\x04", 26, 30), (b"PK\x01\x02", 28, 46)):
                start = head.find(sig, pos + 30 + n)
                while start >= 0 and len(names) < 64:
                    k = int.from_bytes(head[start + size_at : start + size_at + 2], "little")
                    names.add(head[start + at : start + at + k])
                    start = head.find(sig, start + 4)
            break
        pos += 30 + n + int.from_bytes(head[pos + 28 : pos + 30], "little") + size
    return names


def _json_kind(text: str) -> str:
    first, _, rest = text.partition("\n")
    first = first.strip()
    if first.startswith("{") and rest.lstrip().startswith("{"):
        try:
            obj = json.loads(first)
        except ValueError:
            obj = None
        if isinstance(obj, dict):
            return "fhir-ndjson" if "resourceType" in obj else "jsonl"
    if text.startswith("{"):
        if re.match(r'\{\s*"resourceType"\s*:', text) or _top_level_key(text, "resourceType"):
            return "fhir-json"
        if '"cells"' in text and ('"cell_type"' in text or '"nbformat"' in text):
            return "ipynb"
    return "json"


def _top_level_key(text: str, key: str) -> bool:
    # Cheap check that `key` appears as a string at depth 1 in the head's first 8 KiB
    # (FHIR puts resourceType first by convention, but not every writer does). Strings
    # and brackets are found by a regex; a string cut at the 8 KiB mark ends the search.
    depth = 0
    for m in _JSON_TOKEN.finditer(text, 0, 8192):
        tok = m.group()
        if tok[0] == '"':
            if len(tok) == 1:
                return False  # a string that does not end within the head
            if depth == 1 and m.group(1) == key:
                return True
        elif tok in "{[":
            depth += 1
        else:
            depth -= 1
    return False


# A whole JSON string (escapes kept), a lone quote (a string not closed), or a bracket.
# The string is written as runs of plain characters between escapes: one alternation per
# character made the search ~190 us per 8 KiB head.
_JSON_TOKEN = re.compile(r'"([^"\\]*(?:\\[\s\S][^"\\]*)*)"|"|[{}\[\]]')


def _xml_kind(text: str) -> str | None:
    if text[:15].lower().startswith("<!doctype html"):
        return "html"
    body = text[_XML_SKIP.match(text).end() :]
    m = _XML_ROOT.match(body)
    if not m:
        return None
    root = m.group(2)
    if root.lower() == "html" and not m.group(1):
        return "html"
    if not text.startswith("<?xml") and "</" not in body and "/>" not in body:
        return None  # "<NAME>_SUFFIX" in prose or docs: not a document element
    opening = body[: body.find(">") + 1 if ">" in body else 2048]
    if root == "ClinicalDocument" and "urn:hl7-org:v3" in opening:
        return "ccda-xml"
    if "http://hl7.org/fhir" in opening:
        return "fhir-xml"
    return "xml"


def _looks_like_eml(text: str) -> bool:
    # The first line decides most texts; it is looked at before the header block is cut
    # out (a copy of the whole head). Neither test reaches a line break.
    if not (text.startswith("From ") or _EML_FIRST.match(text)):
        return False
    end = text.find("\n\n")
    head = text if end < 0 else text[:end]
    if "\r\n\r\n" in head:
        head = head.split("\r\n\r\n", 1)[0]
    names = {m.group(1).lower() for m in _EML_HEADER.finditer(head)}
    return (
        len(
            names
            & {
                "from",
                "to",
                "subject",
                "date",
                "received",
                "message-id",
                "mime-version",
                "return-path",
            }
        )
        >= 3
    )
