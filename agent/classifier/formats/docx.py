"""DOCX (and PPTX) text straight from the package XML: body, tables, headers, footers,
footnotes, endnotes, comments, text boxes; slides and notes for PPTX.

Reading the WordprocessingML parts ourselves (ECMA-376 Part 1, 17.3: w:p paragraphs,
w:t text runs, w:tbl/w:tr/w:tc tables) rather than through python-docx also reaches text
boxes, footnotes and comments, which python-docx skips. Parts are parsed with the same
defused, depth-bounded parser as any XML.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from xml.etree.ElementTree import Element

from agent.classifier.formats import archive, xmlfmt
from agent.classifier.formats.delimited import is_header
from agent.classifier.formats.jsonfmt import Malformed
from agent.classifier.formats.source import Source
from agent.classifier.limits import Budget
from agent.classifier.units import ExtractionError, Table, TextBlock, Unit

_DOCX_PARTS = re.compile(r"word/(document|header\d*|footer\d*|footnotes|endnotes|comments)\.xml$")
_PPTX_PARTS = re.compile(r"ppt/(slides/slide|notesSlides/notesSlide)(\d+)\.xml$")


def units(src: Source, budget: Budget, depth: int = 0) -> Iterator[Unit]:
    with archive.open_zip(src, budget, "docx") as zf:
        names = sorted(n for n in zf.namelist() if _DOCX_PARTS.match(n))
        if "word/document.xml" not in names:
            raise ExtractionError("corrupt docx: word/document.xml is missing")
        names.remove("word/document.xml")
        bad = ""
        for name in ["word/document.xml", *names]:
            budget.check_time()
            where = _DOCX_PARTS.match(name).group(1)
            where = "body" if where == "document" else re.sub(r"\d+$", "", where)
            part = Source(name=name, size=zf.getinfo(name).file_size, opener=_opener(zf, name))
            try:
                root = xmlfmt.parse(part, budget, "docx")
            except Malformed as e:
                bad = bad or e.reason
                root = None
            if root is None:  # too big to parse, or malformed: text with tags blanked
                yield from xmlfmt.stripped_blocks(part, budget, where)
            else:
                yield from _word(root, where, budget)
        if bad:
            raise ExtractionError(f"{bad}; read as text", partial=True)


def pptx_units(src: Source, budget: Budget, depth: int = 0) -> Iterator[Unit]:
    with archive.open_zip(src, budget, "pptx") as zf:
        parts = [
            (m.group(1), int(m.group(2)), n) for n in zf.namelist() if (m := _PPTX_PARTS.match(n))
        ]
        bad = ""
        for kind, number, name in sorted(parts, key=lambda p: (p[1], p[0])):
            budget.check_time()
            part = Source(name=name, size=zf.getinfo(name).file_size, opener=_opener(zf, name))
            label = "slide" if kind.startswith("slides") else "notes of slide"
            try:
                root = xmlfmt.parse(part, budget, "pptx")
            except Malformed as e:
                bad = bad or e.reason
                root = None
            if root is None:
                yield from xmlfmt.stripped_blocks(part, budget, f"{label} {number}")
                continue
            paras = [_text(p) for p in root.iter() if xmlfmt.local(p.tag) == "p"]
            text = "\n".join(t for t in paras if t)
            if text:
                budget.add_text(len(text))
                yield TextBlock(text + "\n", where=f"{label} {number}")
        if bad:
            raise ExtractionError(f"{bad}; read as text", partial=True)


def _opener(zf, name):  # type: ignore[no-untyped-def]
    return lambda: zf.open(name)


def _word(root: Element, where: str, budget: Budget) -> Iterator[Unit]:
    paras: list[str] = []
    for kind, payload in _walk(root):
        if kind == "p":
            paras.append(payload)  # type: ignore[arg-type]
        else:
            rows: list[list[str]] = payload  # type: ignore[assignment]
            if rows:
                header = rows[0] if is_header(rows[0]) else None
                yield Table(
                    header=header, rows=rows[1:] if header else rows, where=f"{where} table"
                )
    text = "\n".join(p for p in paras if p)
    if text:
        budget.add_text(len(text))
        yield TextBlock(text + "\n", where=where)


def _walk(el: Element) -> Iterator[tuple[str, object]]:
    """('p', text) for paragraphs outside tables, ('tbl', rows) for top-level tables."""
    for child in el:
        name = xmlfmt.local(child.tag)
        if name == "p":
            yield "p", _text(child)
            # Text boxes sit inside a run of the paragraph (w:txbxContent); their own
            # paragraphs are already part of _text(child).
        elif name == "tbl":
            rows = []
            for tr in child.iter():
                if xmlfmt.local(tr.tag) == "tr":
                    cells = [_text(tc) for tc in tr if xmlfmt.local(tc.tag) == "tc"]
                    if any(cells):
                        rows.append(cells)
            yield "tbl", rows
        else:
            yield from _walk(child)


def _text(el: Element) -> str:
    out: list[str] = []
    for node in el.iter():
        name = xmlfmt.local(node.tag)
        if name == "t" and node.text:
            out.append(node.text)
        elif name == "tab":
            out.append("\t")
        elif name in ("br", "cr"):
            out.append("\n")
        elif name == "p" and out and out[-1] != "\n":
            out.append("\n")
    return "".join(out).strip()
