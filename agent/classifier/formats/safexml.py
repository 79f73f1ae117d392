"""`iterparse` and `fromstring` with defusedxml's guarantees at the C parser's speed.

defusedxml hooks expat's entity and external-reference handlers, which only the pure
Python XMLParser exposes, so every start and end tag costs Python calls. Entities can
only be declared in a DOCTYPE, and a DOCTYPE can only stand before the root element.
So when the first chunk is ASCII-compatible, holds the root's start tag and no
"<!DOCTYPE", nothing defusedxml guards against can follow, and the C-accelerated
parser builds the same tree with the same errors. Anything else (a DOCTYPE, UTF-16,
an exotic declared encoding, a prolog longer than a chunk) goes through defusedxml.

Reads mirror ElementTree.iterparse (16 KiB chunks, events handed out after each one),
so callers that watch ``f.tell()`` see the same positions either way.
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from typing import BinaryIO
from xml.etree.ElementTree import Element, ParseError, XMLPullParser

from defusedxml.ElementTree import iterparse as defused_iterparse

CHUNK = 16 * 1024  # what ElementTree.iterparse reads at a time

# Encodings whose bytes spell "<!DOCTYPE" in ASCII, so the byte check below is sound.
_ASCII_SAFE = {"utf-8", "utf8", "us-ascii", "ascii", "iso-8859-1", "latin-1", "latin1"}
_DECLARED = re.compile(rb"<\?xml[^>]*?encoding\s*=\s*[\"']([A-Za-z0-9._-]*)")

Event = tuple[str, Element]


def iterparse(f: BinaryIO, events: tuple[str, ...] = ("end",)) -> Iterator[Event]:
    """(event, element) pairs for `events`, like defusedxml.ElementTree.iterparse."""
    head = f.read(CHUNK)
    internal = tuple(dict.fromkeys(("start", *events)))  # the root's start tells us it is safe
    parser = XMLPullParser(events=internal) if _plain_prolog(head) else None
    first: list[Event] = []
    error: ParseError | None = None
    if parser is not None and head:
        parser.feed(head)
        try:
            first.extend(parser.read_events())
        except ParseError as e:
            error = e
    if not any(event == "start" for event, _ in first):
        # No root start tag in the first chunk: its prolog may yet hold a DOCTYPE.
        yield from defused_iterparse(_Replay(head, f), events)
        return
    wanted = set(events)
    yield from (e for e in first if e[0] in wanted)
    if error is not None:
        raise error
    while data := f.read(CHUNK):
        parser.feed(data)
        yield from (e for e in parser.read_events() if e[0] in wanted)
    parser.close()
    yield from (e for e in parser.read_events() if e[0] in wanted)


def fromstring(data: bytes) -> Element:
    """The root element of a document, like defusedxml.ElementTree.fromstring (the same
    tree; errors are ParseError, as there). The root ends last."""
    root = None
    for _, el in iterparse(io.BytesIO(data)):
        root = el
    if root is None:
        raise ParseError("no element found")
    return root


def _plain_prolog(head: bytes) -> bool:
    if b"<!DOCTYPE" in head or b"\x00" in head[:4] or head[:2] in (b"\xfe\xff", b"\xff\xfe"):
        return False
    m = _DECLARED.match(head.removeprefix(b"\xef\xbb\xbf"))
    return m is None or m.group(1).decode().lower() in _ASCII_SAFE


class _Replay:
    """`head`, then the rest of `f`: hands defusedxml the chunk already read."""

    def __init__(self, head: bytes, f: BinaryIO) -> None:
        self.head, self.f = head, f

    def read(self, n: int = -1) -> bytes:
        if self.head:
            head, self.head = self.head, b""
            return head
        return self.f.read(n)
