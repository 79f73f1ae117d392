"""Legacy Office files (.doc, .xls, .ppt, Outlook .msg): printable strings, like strings(1).

These are OLE2 compound files ([MS-CFB]); their text sits in streams as runs of
8-bit or UTF-16LE characters (Word's piece table, Excel's shared string table
[MS-XLS] 2.4.265 SST, Outlook's property streams). Parsing each application's binary
format is out of scope; pulling the printable runs out of the raw bytes, block by block,
recovers names, numbers and notes well enough for detection. An encrypted file yields
only noise and so nothing is found, which is what encryption is for.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from agent.classifier.formats.source import Source
from agent.classifier.limits import Budget
from agent.classifier.units import TextBlock, Unit

# Runs of 4+ printable ASCII characters: single bytes, and UTF-16LE (a NUL after each).
# (Allowing \xa0-\xff too would pick up the 0xFF fill of unused sectors.)
_ASCII = re.compile(rb"[\x20-\x7e\t]{4,}")
_UTF16 = re.compile(rb"(?:[\x20-\x7e\t][\x00]){4,}")
BLOCK = 1 << 20
OVERLAP = 512  # bytes re-read across a block boundary so a run cut in two is whole


def units(src: Source, budget: Budget, depth: int = 0) -> Iterator[Unit]:
    with src.open() as f:
        offset = 0
        prev = b""
        while True:
            budget.check_time()
            raw = f.read(BLOCK)
            if not raw:
                return
            data = prev + raw
            runs = [m.group().decode("latin-1") for m in _ASCII.finditer(data)]
            runs += [m.group().decode("utf-16-le") for m in _UTF16.finditer(data)]
            if runs:
                text = "\n".join(runs) + "\n"
                budget.add_text(len(text))
                yield TextBlock(text, where=f"byte {max(0, offset - len(prev))}")
            offset += len(raw)
            prev = raw[-OVERLAP:]
