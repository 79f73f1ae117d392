"""Generic XML, and the one safe XML parser every XML-based format here uses.

`parse` goes through defusedxml, which refuses entity declarations (billion laughs,
quadratic blowup) and external entities or DTDs (XXE) before they expand; depth is
counted as elements open, so a 100,000-deep document fails at `Limits.max_nesting`
instead of in a recursive walk. Documents over `Limits.max_parse_bytes` are scanned as
text.

Generic XML becomes units like JSON does: repeated flat elements (<patient><name/><mrn/>
</patient> x N) are a Table with the child tags as header; everything else is lines
`parent/tag: text` and `tag@attr: value`.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from xml.etree.ElementTree import Element, ParseError

from defusedxml import DefusedXmlException

from agent.classifier.formats import textcodec
from agent.classifier.formats.jsonfmt import Malformed, TextBuffer, parsed_or_text
from agent.classifier.formats.safexml import iterparse
from agent.classifier.formats.source import Source
from agent.classifier.limits import Budget
from agent.classifier.units import ExtractionError, Table, TextBlock, Unit


def parse(src: Source, budget: Budget, kind: str = "xml") -> Element | None:
    """The document's root element, or None when it is over `max_parse_bytes`."""
    limits = budget.limits
    if src.size is not None and src.size > limits.max_parse_bytes:
        return None
    depth = 0
    root: Element | None = None
    with src.open() as f:
        try:
            for n, (event, el) in enumerate(iterparse(f, events=("start", "end"))):
                if event == "start":
                    depth += 1
                    if root is None:
                        root = el
                    if depth > limits.max_nesting:
                        raise ExtractionError(f"{kind} nesting deeper than {limits.max_nesting}")
                else:
                    depth -= 1
                if n % 4096 == 0:
                    budget.check_time()
                    if f.tell() > limits.max_parse_bytes:
                        return None
        except DefusedXmlException as e:
            # EntitiesForbidden, DTDForbidden, ExternalReferenceForbidden: the document
            # declares entities or points outside itself; we refuse rather than expand.
            # Its text is still scanned, as plain text, where nothing gets expanded.
            raise Malformed(
                f"{kind} refused: {type(e).__name__} (entity expansion / external entity guard)"
            ) from None
        except ParseError as e:
            line = e.position[0] if getattr(e, "position", None) else "?"
            raise Malformed(f"corrupt {kind}: malformed XML at line {line}") from None
    if root is None:
        raise Malformed(f"corrupt {kind}: no root element")
    return root


_TAG = re.compile(r"<[^>]{0,4096}>")


def stripped_blocks(src: Source, budget: Budget, where: str = "") -> Iterator[TextBlock]:
    """An XML part too big to parse, as text blocks with the tags blanked out."""
    from agent.classifier.formats import text

    encoding = textcodec.detect(src.head()) or "utf-8"
    with src.open() as f:
        for block in text.blocks(f, encoding, budget, where):
            block.text = _TAG.sub(" ", block.text)
            block.overlap = 0  # blanking changed lengths; the overlap is no longer exact
            yield block


def local(tag: str) -> str:
    """`{namespace}name` -> `name`."""
    return tag.rsplit("}", 1)[-1] if isinstance(tag, str) else ""


def units(src: Source, budget: Budget, depth: int = 0) -> Iterator[Unit]:
    root = yield from parsed_or_text(src, budget, lambda: parse(src, budget))
    if root is None:
        return
    yield from walk(root, budget)


def walk(root: Element, budget: Budget) -> Iterator[Unit]:
    buf = TextBuffer(budget)
    stack: list[tuple[Element, str]] = [(root, "")]
    while stack:  # explicit stack: depth is already bounded by parse(), but stay flat
        el, parent = stack.pop()
        name = local(el.tag)
        for k, v in el.attrib.items():
            if v.strip():
                yield from buf.add(f"{name}@{local(k)}: {v.strip()}")
        txt = (el.text or "").strip()
        if txt:
            yield from buf.add(f"{parent}/{name}: {txt}" if parent else f"{name}: {txt}")
        children = list(el)
        rows = _record_children(children)
        if rows is not None:
            budget.check_time()
            yield _table(rows, name)
            in_table = {id(r) for r in rows}
            children = [c for c in children if id(c) not in in_table]
        for c in reversed(children):
            stack.append((c, name))
        for c in children:
            tail = (c.tail or "").strip()
            if tail:
                yield from buf.add(f"{name}: {tail}")
    yield from buf.flush()


def _record_children(children: list[Element]) -> list[Element] | None:
    """Children that repeat one tag and are flat (only leaf children): a table's rows."""
    if len(children) < 2:
        return None
    tags: dict[str, list[Element]] = {}
    for c in children:
        tags.setdefault(c.tag, []).append(c)
    tag, rows = max(tags.items(), key=lambda kv: len(kv[1]))
    # A row has leaf children (<name>..</name>) or attributes (<patient name=".."/>).
    if len(rows) < 2 or not all((len(r) or r.attrib) and all(len(x) == 0 for x in r) for r in rows):
        return None
    return rows


def _table(rows: list[Element], where: str) -> Table:
    header: dict[str, None] = {}
    flat = []
    for r in rows:
        # Attribute and child names alike are column names ("mrn", not "@mrn").
        cells: dict[str, str] = {local(k): v for k, v in r.attrib.items()}
        for x in r:
            key = local(x.tag)
            val = (x.text or "").strip()
            for ak, av in x.attrib.items():
                cells[f"{key}@{local(ak)}"] = av
            cells[key] = f"{cells[key]}; {val}" if key in cells and val else val
        header.update(dict.fromkeys(cells))
        flat.append(cells)
    cols = list(header)
    return Table(header=cols, rows=[[c.get(k, "") for k in cols] for c in flat], where=where)
