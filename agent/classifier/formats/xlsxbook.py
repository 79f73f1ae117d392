"""The workbook around the sheets of an XLSX package: which sheets, in which order, their
shared strings, which cell styles are dates, and the date epoch.

Read straight from the package parts (ECMA-376 Part 1, 18.2 workbook, 18.4 shared
strings, 18.8 styles; OPC content types and relationships) the way openpyxl 3.1 reads
them in read-only mode, so the cells come out exactly as they did through openpyxl,
without importing it (its import alone cost more than most workbooks). openpyxl is
still imported, lazily, for the rare workbook with number formats or date cells.
"""

from __future__ import annotations

import posixpath
import zipfile
from dataclasses import dataclass, field
from typing import Any
from xml.etree.ElementTree import Element

from agent.classifier.formats import safexml
from agent.classifier.formats.source import needs
from agent.classifier.units import ExtractionError

MAIN_NS = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
REL_ID = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}id"
_SPREADSHEET = "application/vnd.openxmlformats-officedocument.spreadsheetml."
_MACRO = "application/vnd.ms-excel."
# openpyxl's order of preference among workbook part types.
WORKBOOK_TYPES = (
    _MACRO + "template.macroEnabled.main+xml",
    _SPREADSHEET + "template.main+xml",
    _MACRO + "sheet.macroEnabled.main+xml",
    _SPREADSHEET + "sheet.main+xml",
)
SHARED_STRINGS = _SPREADSHEET + "sharedStrings+xml"


@dataclass
class Book:
    sheets: list[tuple[str, str]]  # (title, part name), chartsheets left out
    strings: list[str]
    date_styles: set[int] = field(default_factory=set)
    timedelta_styles: set[int] = field(default_factory=set)
    date1904: bool = False


def read(zf: zipfile.ZipFile) -> Book:
    """Raise KeyError when a part the workbook names is missing, like openpyxl."""
    overrides, defaults = _content_types(zf)
    strings_part = overrides.get(SHARED_STRINGS)
    strings = _shared_strings(zf, strings_part[1:]) if strings_part else []
    workbook = _workbook_part(overrides, defaults)
    root = safexml.fromstring(zf.read(workbook))
    props = _child(root, "workbookPr")
    date1904 = props is not None and _true(props.get("date1904"))
    rels = _relationships(zf, workbook)
    dates, timedeltas = _date_styles(zf)
    names = set(zf.namelist())
    sheets = []
    for sheet in _children(_child(root, "sheets")):
        rid = sheet.get(REL_ID)
        if not rid:
            continue  # openpyxl drops a sheet without a relationship id
        rel_type, target = rels[rid]
        if target in names and "chartsheet" not in rel_type:
            sheets.append((sheet.get("name"), target))
    return Book(sheets, strings, dates, timedeltas, date1904)


def text(el: Element) -> str:
    """A string item (<si>, <is>): its <t>, then each rich-text run's <t> (openpyxl's
    Text.content; phonetic runs left out)."""
    plain = None
    runs = []
    for child in el:
        name = _local(child.tag)
        if name == "t":
            plain = child.text
        elif name == "r":
            run = _child(child, "t")
            if run is not None and run.text is not None:
                runs.append(run.text)
    return (plain or "") + "".join(runs)


def _content_types(zf: zipfile.ZipFile) -> tuple[dict[str, str], set[str]]:
    """[Content_Types].xml: content type -> first part name overriding it, and the
    content types given by default (per extension)."""
    root = safexml.fromstring(zf.read("[Content_Types].xml"))
    overrides: dict[str, str] = {}
    defaults = set()
    for el in root:
        name = _local(el.tag)
        if name == "Override":
            overrides.setdefault(el.get("ContentType"), el.get("PartName"))
        elif name == "Default":
            defaults.add(el.get("ContentType"))
    return overrides, defaults


def _workbook_part(overrides: dict[str, str], defaults: set[str]) -> str:
    for content_type in WORKBOOK_TYPES:
        if overrides.get(content_type):
            return overrides[content_type][1:]
    if defaults & set(WORKBOOK_TYPES):  # some writers reassign the default instead
        return "xl/workbook.xml"
    raise ExtractionError("corrupt xlsx: no workbook part")


def _relationships(zf: zipfile.ZipFile, part: str) -> dict[str, tuple[str, str]]:
    """Relationship id -> (type, target part name) for `part`."""
    folder, name = posixpath.split(part)
    root = safexml.fromstring(zf.read(posixpath.join(folder, "_rels", name + ".rels")))
    rels = {}
    for el in root:
        if _local(el.tag) != "Relationship":
            continue
        target = el.get("Target") or ""
        if el.get("TargetMode") != "External":
            # Targets are relative to the part's folder, or absolute within the package.
            target = (
                target[1:]
                if target.startswith("/")
                else posixpath.normpath(posixpath.join(folder, target))
            )
        rels[el.get("Id")] = (el.get("Type") or "", target)
    return rels


def _shared_strings(zf: zipfile.ZipFile, part: str) -> list[str]:
    strings = []
    with zf.open(part) as f:
        for _, el in safexml.iterparse(f):
            if el.tag == MAIN_NS + "si":
                # openpyxl drops the escape of the escape character ("_x005F_x000D_").
                strings.append(text(el).replace("x005F_", ""))
                el.clear()
    return strings


def _date_styles(zf: zipfile.ZipFile) -> tuple[set[int], set[int]]:
    """Indexes of the cell formats (cellXfs) whose number format shows a date or a
    duration: a number stored in such a cell is a date serial."""
    try:
        root = safexml.fromstring(zf.read("xl/styles.xml"))
    except KeyError:
        return set(), set()
    formats = [int(xf.get("numFmtId", 0)) for xf in _children(_child(root, "cellXfs"))]
    custom = {
        int(f.get("numFmtId")): f.get("formatCode") for f in _children(_child(root, "numFmts"))
    }
    if not any(formats) and 0 not in custom:
        return set(), set()  # every cell "General": no dates, no need for openpyxl
    with needs("xlsx"):
        from openpyxl.styles.numbers import (
            builtin_format_code,
            is_date_format,
            is_timedelta_format,
        )
    codes = [custom[n] if n in custom else builtin_format_code(n) for n in formats]
    dates = {i for i, code in enumerate(codes) if is_date_format(code)}
    timedeltas = {i for i, code in enumerate(codes) if is_timedelta_format(code)}
    return dates, timedeltas


def _child(el: Element | None, name: str) -> Element | None:
    """The last child called `name` (namespace aside), as openpyxl keeps the last."""
    found = None
    for child in _children(el):
        if _local(child.tag) == name:
            found = child
    return found


def _children(el: Element | None) -> list[Element]:
    return list(el) if el is not None else []


def _local(tag: Any) -> str:
    return tag.rsplit("}", 1)[-1] if isinstance(tag, str) else ""


def _true(value: str | None) -> bool:
    # openpyxl's Bool: "false", "f", "0" (and nothing) are false, any other text true.
    return bool(value) and value not in ("false", "f", "0")
