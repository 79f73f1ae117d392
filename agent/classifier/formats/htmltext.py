"""HTML fragments (notebook outputs, e-mail bodies): <table>s as Tables, the rest as text.

A pandas `df.head()` output is an HTML table with the column names in <th>: as a Table
the engine sees header and rows, which is the strongest evidence there is. Script and
style contents are skipped.
"""

from __future__ import annotations

from collections.abc import Iterator
from html.parser import HTMLParser

from agent.classifier.formats import textcodec
from agent.classifier.formats.delimited import is_header
from agent.classifier.formats.source import Source
from agent.classifier.limits import Budget
from agent.classifier.units import Table, TextBlock, Unit

_BLOCK = {"p", "div", "br", "li", "tr", "h1", "h2", "h3", "h4", "h5", "h6", "table", "pre"}


class _Parser(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.text: list[str] = []
        self.tables: list[list[list[str]]] = []
        self.depth = 0  # table nesting; nested tables flatten into the outer one
        self.row: list[str] | None = None
        self.cell: list[str] | None = None
        self.skip = 0

    def handle_starttag(self, tag: str, attrs: list) -> None:  # type: ignore[override]
        if tag in ("script", "style"):
            self.skip += 1
        elif tag == "table":
            self.depth += 1
            if self.depth == 1:
                self.tables.append([])
        elif tag == "tr" and self.depth:
            self.row = []
        elif tag in ("td", "th") and self.row is not None:
            self.cell = []
        elif tag in _BLOCK and not self.depth:
            self.text.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style"):
            self.skip = max(0, self.skip - 1)
        elif tag in ("td", "th") and self.cell is not None and self.row is not None:
            self.row.append(" ".join("".join(self.cell).split()))
            self.cell = None
        elif tag == "tr" and self.row is not None:
            if any(self.row):
                self.tables[-1].append(self.row)
            self.row = None
        elif tag == "table" and self.depth:
            self.depth -= 1

    def handle_data(self, data: str) -> None:
        if self.skip:
            return
        if self.cell is not None:
            self.cell.append(data)
        elif not self.depth:
            self.text.append(data)


def units(html: str, where: str) -> Iterator[Unit]:
    p = _Parser()
    p.feed(html)
    p.close()
    for rows in p.tables:
        if not rows:
            continue
        first = rows[0]
        # pandas puts the index column's header cell empty: ignore blanks when judging.
        named = [c for c in first if c]
        header = first if named and is_header(named) and len(rows) > 1 else None
        yield Table(header=header, rows=rows[1:] if header else rows, where=where)
    text = "".join(p.text)
    text = "\n".join(line.strip() for line in text.splitlines() if line.strip())
    if text:
        yield TextBlock(text + "\n", where=where)


def file_units(src: Source, budget: Budget, depth: int = 0) -> Iterator[Unit]:
    """An .html file (a saved report, an exported table); big ones are scanned as text."""
    limits = budget.limits
    with src.open() as f:
        raw = f.read(limits.max_parse_bytes + 1)
    if len(raw) > limits.max_parse_bytes:
        from agent.classifier.formats import text

        yield from text.units(src, budget)
        return
    encoding = textcodec.detect(raw[:8192]) or "latin-1"
    html = raw.decode(encoding, errors="replace")
    budget.add_text(len(html))
    yield from units(html, "")
