"""RTF documents (many EHRs export notes and letters as RTF): the text, without markup.

A small reader of the RTF 1.9.1 specification's token grammar: control words
(`\\par`, `\\u8217?`), hex escapes (`\\'e9`, in the document's ANSI code page,
cp1252 by default), groups `{...}`, and destinations that hold no document text
(font and colour tables, pictures, embedded objects, `{\\* ...}` extensions), which are
skipped. Files over `Limits.max_parse_bytes` are scanned as plain text.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from agent.classifier.formats.jsonfmt import TextBuffer, _as_text
from agent.classifier.formats.source import Source
from agent.classifier.limits import Budget
from agent.classifier.units import Unit

_TOKEN = re.compile(
    r"\\([a-zA-Z]{1,32})(-?\d{1,10})? ?"  # control word with optional parameter
    r"|\\'([0-9a-fA-F]{2})"  # hex escape
    r"|\\([^a-zA-Z])"  # control symbol (\\, \{, \}, \*, \~ ...)
    r"|([{}])"
    r"|[\r\n]+"  # line breaks in the source are not text
    r"|([^\\{}\r\n]+)"
)
# Destinations without document text (RTF 1.9.1 "destination" control words).
SKIP = {
    "fonttbl",
    "colortbl",
    "stylesheet",
    "info",
    "pict",
    "object",
    "themedata",
    "colorschememapping",
    "datastore",
    "latentstyles",
    "listtable",
    "listoverridetable",
    "rsidtbl",
    "generator",
    "xmlnstbl",
    "fldinst",
    "bkmkstart",
    "bkmkend",
    "filetbl",
    "revtbl",
    "pgdsctbl",
    "objdata",
    "blipuid",
    "shppict",
    "nonshppict",
}
BREAKS = {
    "par": "\n",
    "line": "\n",
    "row": "\n",
    "sect": "\n",
    "page": "\n",
    "tab": "\t",
    "cell": "\t",
    "emdash": "-",
    "endash": "-",
    "lquote": "'",
    "rquote": "'",
    "ldblquote": '"',
    "rdblquote": '"',
    "bullet": "*",
}


def units(src: Source, budget: Budget, depth: int = 0) -> Iterator[Unit]:
    limits = budget.limits
    with src.open() as f:
        raw = f.read(limits.max_parse_bytes + 1)
    if len(raw) > limits.max_parse_bytes:
        yield from _as_text(src, budget)
        return
    text = raw.decode("latin-1")  # RTF is 7-bit; 8-bit bytes pass through one to one
    buf = TextBuffer(budget)
    out: list[str] = []
    stack: list[tuple[bool, int]] = []
    skip, uc, pending_skip_chars = False, 1, 0
    group_start = False  # just after "{": a destination word may follow
    for n, m in enumerate(_TOKEN.finditer(text)):
        if not n & 0xFFFF:
            budget.check_time()
        word, param, hexa, symbol, brace, plain = m.groups()
        if brace == "{":
            if len(stack) > limits.max_nesting:
                continue  # absurd nesting: keep reading the text, stop tracking groups
            stack.append((skip, uc))
            group_start = True
            continue
        if brace == "}":
            if stack:
                skip, uc = stack.pop()
            group_start = False
            continue
        if word is not None:
            if group_start and word in SKIP:
                skip = True
            elif word == "uc" and param:
                uc = int(param)
            elif word == "u" and param and not skip:
                out.append(chr(int(param) % 0x10000))
                pending_skip_chars = uc  # the ANSI fallback characters that follow
            elif word in BREAKS and not skip:
                out.append(BREAKS[word])
            group_start = False
            continue
        group_start = symbol == "*" and group_start
        if symbol == "*":
            skip = True  # {\* ...}: an optional destination this reader does not know
            continue
        if skip:
            continue
        if hexa is not None:
            if pending_skip_chars:
                pending_skip_chars -= 1
                continue
            out.append(bytes([int(hexa, 16)]).decode("cp1252", errors="replace"))
        elif symbol is not None:
            out.append({"~": " ", "_": "-", "\\": "\\", "{": "{", "}": "}"}.get(symbol, ""))
        elif plain:
            if pending_skip_chars:
                drop = min(pending_skip_chars, len(plain))
                plain = plain[drop:]
                pending_skip_chars -= drop
            out.append(plain)
        if len(out) > 4096:
            *lines, rest = "".join(out).split("\n")
            for line in lines:
                if line.strip():
                    yield from buf.add(line)
            out = [rest]  # an unfinished line waits for the rest of it
    for line in "".join(out).split("\n"):
        if line.strip():
            yield from buf.add(line)
    yield from buf.flush()
