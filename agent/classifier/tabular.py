"""Tables are classified record by record (phi-detection.md 4.3, 5.6).

1. Type each column from a sample of rows: by its header ("Pt Name", "MRN#", "D.O.B.",
   "Dx") when the values agree with it, else by its values (>= 60% of the sampled cells
   are the same kind of valid identifier or code). A column whose values are mostly
   *shaped* like an identifier but mostly fail its validator, or whose header says it
   is a part number, counter or hash, is a look-alike column and is not read further.
2. Read every row: typed columns count by kind; the remaining free-text columns of a
   batch of rows are scanned by the text engine as one block, each row a line.
3. A row with a patient identifier and health information is a PHI record.

A column is stronger evidence than a cell, and a header names what a regex cannot
(names, MRNs, account numbers).
"""

from __future__ import annotations

import bisect
import ipaddress
import operator
import re
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from functools import lru_cache
from itertools import chain, compress, islice, repeat

from agent.classifier import validators
from agent.classifier.engine import Engine
from agent.classifier.evidence import WEAK_KINDS, Evidence, analyze_bytes
from agent.classifier.names import find_names, looks_like_name
from agent.classifier.rules import header_kinds, header_words
from agent.classifier.units import PlainRows, Table

SAMPLE_ROWS = 200
# Headers that name people only sometimes ("name" of a schema element, "last" of a series):
# their values must look like people's names too.
_AMBIGUOUS_NAME_HEADERS = frozenset({"name", "first", "last", "given", "family", "displayname",
                                     "contact", "recipient", "author", "employee"})
BATCH_ROWS = 4096
_PLACEHOLDER_WORDS = frozenset({"null", "none", "nan", "n/a", "na", "unknown", "redacted", "masked",
                                "removed", "tbd", "pending", "nil", "undefined", "0", "-"})
# the same words as they are usually cased, for a plain set lookup per cell
_PLACEHOLDERS = frozenset(w2 for w in _PLACEHOLDER_WORDS for w2 in (w, w.upper(), w.title()))
_PH_CHARS = "_-X*#/.() x"
_ZIP = re.compile(r"\d{5}(?:-\d{4})?")
_NEWLINE = re.compile(rb"\n")


def is_placeholder(v: str) -> bool:
    """Empty, masked (XXX-XX-XXXX, ___), or a null word."""
    if not v:
        return True
    t = v.strip()
    return not t.strip(_PH_CHARS) or t.lower() in _PLACEHOLDER_WORDS


def _values(col: tuple[str, ...]) -> list[str]:
    """The cells of a column that are not placeholders (``is_placeholder``), in passes
    that run in C: a call per cell was a visible share of typing a table's columns."""
    stripped = list(map(str.strip, col))
    masked = map(bool, map(str.strip, stripped, repeat(_PH_CHARS)))  # False: only mask characters
    null = map(_PLACEHOLDER_WORDS.__contains__, map(str.lower, stripped))
    return list(compress(col, map(operator.gt, masked, null)))  # (True, False) only


def _norm(header: str) -> str:
    return "".join(c for c in header.lower() if c.isalnum())


def _first_token(v: str) -> str:
    t = v.strip()
    return t.split("T")[0].split(" ")[0] if len(t) > 10 else t


def _ip(v: str) -> bool:
    try:
        ipaddress.ip_address(v.strip())
        return True
    except ValueError:
        return False


def _intl_phone(v: str) -> bool:
    """E.164-style "+33 1 23 45 67 89": a plus sign and 8 to 15 digits (ITU-T E.164)."""
    t = v.strip()
    return t.startswith("+") and 8 <= sum(map(str.isdigit, t)) <= 15


def _idlike(v: str) -> bool:
    return len(v.strip()) >= 4 and any(map(str.isdigit, v))


def _person_like(v: str) -> bool:
    # a listed name, written as people write names: not a snake_case key or all lowercase
    # ("age", "n_prior_admissions" under a "name" key of a feature list)
    return "_" not in v and not v.islower() and looks_like_name(v)


def _namelike(v: str) -> bool:
    return any(map(str.isalpha, v)) and not any(map(str.isdigit, v))


# Does a cell fit the kind its header announces? Kinds without a shape take any id-like value.
CELL_CHECKS: dict[str, Callable[[str], bool]] = {
    "name": _namelike,
    "ssn": lambda v: validators.ssn(v.strip()),
    "phone": lambda v: validators.phone_nanp(v) or _intl_phone(v),
    "fax": lambda v: validators.phone_nanp(v) or _intl_phone(v),
    "email": lambda v: "@" in v and validators.email(v.strip()),
    "dob": lambda v: validators.date(_first_token(v)),
    "date": lambda v: validators.date(_first_token(v)),
    "zip": lambda v: bool(_ZIP.fullmatch(v.strip())),
    "npi": validators.npi,
    "dea": validators.dea,
    "mbi": validators.mbi,
    "ip": _ip,
    "url": lambda v: v.strip().lower().startswith(("http://", "https://")),
    "address": lambda v: any(map(str.isdigit, v)) and any(map(str.isalpha, v)),
}


@dataclass
class Column:
    index: int
    id_kind: str | None = None
    subject: str = "patient"
    health_kind: str | None = None
    text: bool = False  # scanned as free text
    # a column typed "name" by its values whose cells are more than names (a note that
    # names the patient): its cells are also scanned for everything but names
    notes: bool = False


def _frac(values: list[str], check: Callable[[str], bool]) -> float:
    if not values:
        return 0.0
    return len(list(filter(check, values))) / len(values)  # the cells that pass, counted in C


def _plan_column(engine: Engine, c: int, name: str | None, values: list[str]) -> Column:
    col = Column(c)
    negative = False
    if name:
        entries, negative = header_kinds(engine.rules.headers, name)
        for category, subject, kind in entries:
            if category == "identifier" and not negative and col.id_kind is None:
                if values and _frac(values, CELL_CHECKS.get(kind, _idlike)) >= 0.5:
                    if kind == "name" and _norm(name) in _AMBIGUOUS_NAME_HEADERS and \
                            _frac(values, _person_like) < 0.3:
                        continue  # a "name" column of things, not people (schemas, configs)
                    col.id_kind, col.subject = kind, subject
            elif category == "health" and col.health_kind is None and values:
                col.health_kind = kind
        if not entries and not negative and values:
            col.health_kind = _named_condition(engine, name)
        if col.id_kind or col.health_kind:
            return col
    if negative or not values:
        # Part numbers, counters, hashes: not about a person whatever they look like.
        col.text = not negative
        return col
    # Type by values: the sampled cells as one block, a cell per line, scanned once.
    block = "\n".join(v.replace("\n", " ").replace("\r", " ") for v in values).encode("utf-8", "replace")
    starts = [0] + [m.end() for m in _NEWLINE.finditer(block)]
    shape_cells: dict[str, set[int]] = {}
    valid_cells: dict[str, set[int]] = {}
    meta: dict[str, tuple[str, str]] = {}
    for h in engine.scan(block):
        if h.category == "trigger":
            continue
        cell = bisect.bisect_right(starts, h.start) - 1
        shape_cells.setdefault(h.kind, set()).add(cell)
        meta[h.kind] = (h.category, h.subject)
        if h.counted:
            valid_cells.setdefault(h.kind, set()).add(cell)
    shape = Counter({k: len(v) for k, v in shape_cells.items()})
    valid = Counter({k: len(v) for k, v in valid_cells.items()})
    names = len({bisect.bisect_right(starts, nh.start) - 1 for nh in find_names(block)})
    n = len(values)
    if names >= 0.6 * n:
        col.id_kind = "name"
        col.notes = _frac(values, looks_like_name) < 0.5
        return col
    for kind, k in valid.most_common():
        if k >= 0.6 * n:
            category, subject = meta[kind]
            if category == "identifier":
                col.id_kind, col.subject = kind, subject
            else:
                col.health_kind = kind
            return col
    for kind, k in shape.items():
        if k >= 0.5 * n and valid[kind] < 0.8 * k:
            return col  # a look-alike column (SKUs shaped like SSNs, counters like phones)
    col.text = True
    return col


_HEADER_CELL = re.compile(r"[A-Za-z][\w .#/%&'-]{0,63}")
# Vocabulary kinds that name a condition or a drug
_NAMED_KINDS = frozenset({"diagnosis", "medication"})
# Words around a condition in a column name that keep it about the condition: "has",
# "flag", "hx", "dx date"... ("cancer_research_donor" is about a donor, not a cancer).
_CONDITION_FILLER = frozenset(
    "has had have is was on takes taking took uses use user using current currently ever prior "
    "history hx of dx diagnosed diagnosis with flag flags ind indicator yn y n status any self "
    "reported family fam date onset age at since type".split())


@lru_cache(maxsize=4096)
def _named_condition(engine: Engine, header: str) -> str | None:
    """The health kind of a column named after a condition or a drug ("has_diabetes",
    "HypertensionFlag", "on insulin"): its cells say who has it (yes/no, 0/1, dates), as
    a Dx column would. Not a look at the cells: "no" says as much about a person. The
    name's other words must be filler ("has", "flag", "use"): "pain_points" is not."""
    if len(header) > 64:
        return None
    words = " ".join(header_words(header)).lower()
    data = words.encode("utf-8", "replace")
    for h in engine.scan(data):
        if h.category == "health" and h.kind in _NAMED_KINDS and h.counted:
            rest = (data[:h.start] + b" " + data[h.end:]).decode("utf-8", "replace").split()
            if all(w in _CONDITION_FILLER for w in rest):
                return h.kind
    return None


def _looks_like_header(engine: Engine, row: list[str]) -> bool:
    """Column names, not code or data: every non-empty cell is a short label ("Pt Name",
    "MRN#", "D.O.B."), and at least half of them are known headers."""
    cells = [str(c).strip() for c in row if str(c).strip()]
    if len(cells) < 2 or not all(_HEADER_CELL.fullmatch(c) for c in cells):
        return False
    known = sum(1 for c in cells if header_kinds(engine.rules.headers, c)[0])
    return known * 2 >= len(cells)


def analyze_table(engine: Engine, table: Table, ev: Evidence) -> None:
    """Score one table into ``ev``, record by record."""
    rows: Iterator[list[str]] = iter(table.rows)
    sample = list(islice(rows, SAMPLE_ROWS))
    header = list(table.header or [])
    if not sample and not header:
        return
    if not header and sample and _looks_like_header(engine, sample[0]):
        # The extractor could not tell; a first row whose cells are known column names
        # ("Patient Last Name", "Dx") is a header.
        header = [str(c) for c in sample.pop(0)]
    width = max([len(header)] + [len(r) for r in sample])
    sampled = _columns(sample, width) if sample else []
    columns = []
    for c in range(width):
        values = _values(sampled[c]) if sampled else []
        columns.append(_plan_column(engine, c, header[c] if c < len(header) else None, values))
    typed_id = [(col.index, col.id_kind, col.subject == "patient" and col.id_kind not in WEAK_KINDS)
                for col in columns if col.id_kind]
    patient_cols = [c for c, _, strong in typed_id
                    if strong and c < len(header) and _names_patient(header[c])]
    typed_h = [(col.index, col.health_kind) for col in columns if col.health_kind]
    text_cols = [col.index for col in columns if col.text]
    note_cols = [col.index for col in columns if col.notes]
    where = table.where or ""
    base_line = table.first_row_line
    if table.plain is not None:
        batches = _plain_batches(engine, table.plain, sample, rows, skip_clean=not typed_id and not typed_h)
    else:
        batches = _batches(chain(sample, rows), BATCH_ROWS)
    for start, batch in batches:
        if patient_cols and ev.table_patient is None:
            _patient_row(batch, start, patient_cols, ev, where, base_line)
        _batch(engine, batch, start, typed_id, typed_h, text_cols, ev, where, base_line, width,
               note_cols)


# Header words that say a column is about patients ("Patient", "Pt Name", "Paciente")
_PATIENT_HEADER = re.compile(r"(?i)(?<![a-z])(?:patients?|pt|pat|paciente|patiente?n?)(?![a-z])")
# ...unless they name a staff role ("Patient Coordinator", "Patient Care Tech")
_STAFF_ROLE = re.compile(r"(?i)(?<![a-z])(?:coordinator|navigator|advocate|liaison|services|relations|"
                         r"experience|care|access|representative|rep|manager|educator|transport)(?![a-z])")


def _names_patient(header: str) -> bool:
    h = header.replace("_", " ")
    return bool(_PATIENT_HEADER.search(h)) and not _STAFF_ROLE.search(h)


def _patient_row(batch: list[list[str]], start: int, cols: list[int], ev: Evidence, where: str,
                 base_line: int | None) -> None:
    """Note where a column headed "Patient" first holds a value (Evidence.table_patient)."""
    for i, row in enumerate(batch):
        if any(c < len(row) and not is_placeholder(row[c]) for c in cols):
            ev.table_patient = _row_where(where, base_line, start + i)
            return


def _batches(rows: Iterable[list[str]], size: int) -> Iterator[tuple[int, list[list[str]]]]:
    it = iter(rows)
    start = 0
    while True:
        batch = list(islice(it, size))
        if not batch:
            return
        yield start, batch
        start += len(batch)


def _plain_batches(engine: Engine, plain: Callable[[int], PlainRows | None], sample: list[list[str]],
                   rows: Iterator[list[str]], skip_clean: bool) -> Iterator[tuple[int, list[list[str]]]]:
    """The batches of ``_batches`` for delimited text, read a batch of plain lines at a time
    (``BATCH_ROWS`` or more) and split at the delimiter in C rather than parsed row by row.
    With ``skip_clean`` (no typed column: rows add evidence through their text cells
    alone), a batch in which the engine has no candidate at all is passed over unsplit:
    nothing can be found in its cells (a metrics export, a log as CSV: most tables on a
    laptop)."""
    want = BATCH_ROWS - len(sample)
    chunk = plain(want)
    if chunk is None:  # quoting or the like: row by row
        yield from _batches(chain(sample, rows), BATCH_ROWS)
        return
    first = sample + chunk.cells() if _wanted(engine, chunk, skip_clean) else sample
    if first:
        yield 0, first
    start = len(sample) + chunk.count
    while not chunk.last:
        chunk = plain(BATCH_ROWS)
        if chunk is None:
            for s, batch in _batches(rows, BATCH_ROWS):
                yield start + s, batch
            return
        if _wanted(engine, chunk, skip_clean):
            yield start, chunk.cells()
        start += chunk.count


def _wanted(engine: Engine, chunk: PlainRows, skip_clean: bool) -> bool:
    return bool(chunk.count) and (not skip_clean or engine.any_candidate(chunk.text.encode("utf-8", "replace")))


def _row_where(where: str, base_line: int | None, i: int) -> str:
    if base_line is not None:
        return f"{where} line {base_line + i}".strip()
    return f"{where} row {i + 1}".strip()


def _present(col) -> list[bool]:
    """Which cells of a column hold a value (not empty, not masked, not a null word).
    One comprehension per column: this loop runs for every cell of every table."""
    flags = list(map(bool, map(str.strip, col, repeat(_PH_CHARS, len(col)))))
    if not _PLACEHOLDERS.isdisjoint(col):  # rare: "NULL", "n/a" cells
        flags = [f and v not in _PLACEHOLDERS for f, v in zip(flags, col, strict=True)]
    return flags


def _columns(batch: list[list[str]], width: int) -> list[tuple]:
    """The batch transposed (zip runs in C); ragged rows are padded first."""
    if any(len(r) != width for r in batch):
        batch = [(list(r) + [""] * width)[:width] for r in batch]
    cols = list(zip(*batch, strict=True)) if batch else []
    for i, col in enumerate(cols):
        if set(map(type, col)) != {str}:  # JSON/SQLite/Parquet cells: numbers, None
            cols[i] = tuple("" if v is None else str(v) for v in col)
    return cols


def _batch(engine: Engine, batch: list[list[str]], start: int, typed_id, typed_h, text_cols,
           ev: Evidence, where: str, base_line: int | None, width: int,
           note_cols: list[int] | None = None) -> None:
    n = len(batch)
    cols = _columns(batch, width)
    id_rows: list[list[bool]] = []
    h_rows: list[list[bool]] = []
    for c, kind, strong in typed_id:
        flags = _present(cols[c])
        k = flags.count(True)
        if not k:
            continue
        if kind not in WEAK_KINDS and ev.first_where is None:
            ev.identifier(kind, _row_where(where, base_line, start + flags.index(True)), 0)
        ev.identifier(kind, None, k)
        if strong:
            id_rows.append(flags)
    for c, kind in typed_h:
        flags = _present(cols[c])
        k = flags.count(True)
        if k:
            ev.health_info(kind, k)
            h_rows.append(flags)
    text_id: set[int] = set()
    text_h: set[int] = set()
    # free-text cells; then notes typed "name", whose names are counted already
    for indexes, names in ((text_cols, True), (note_cols, False)):
        if indexes:
            ids, hs = _scan_cells(engine, [cols[c] for c in indexes], n, names, ev,
                                  lambda i: _row_where(where, base_line, start + i))
            text_id.update(ids)
            text_h.update(hs)
    if ev.phi:
        return
    has_id = list(map(any, zip(*id_rows, strict=True))) if id_rows else [False] * n
    has_h = list(map(any, zip(*h_rows, strict=True))) if h_rows else [False] * n
    for i in text_id:
        has_id[i] = True
    for i in text_h:
        has_h[i] = True
    both = list(map(operator.and_, has_id, has_h))
    if True in both:
        ev.mark_phi(_row_where(where, base_line, start + both.index(True)))


def _scan_cells(engine: Engine, text: list[tuple], n: int, names: bool, ev: Evidence,
                row_where: Callable[[int], str]) -> tuple[list[int], list[int]]:
    """Scan columns of cells as free text, one line per row, into ``ev``; return the rows
    with a patient identifier and those with health information."""
    # one line per row (newlines inside cells flattened so rows stay lines)
    block = "\n".join(map(" ; ".join, zip(*text, strict=True))) if len(text) > 1 else "\n".join(text[0])
    if "\r" in block or block.count("\n") != n - 1:
        block = "\n".join(" ; ".join(cells).replace("\n", " ").replace("\r", " ")
                          for cells in zip(*text, strict=True))
    sub = Evidence()
    ids, hs = _text_rows(engine, block.encode("utf-8", "replace"), sub, names)
    ev.identifiers.update(sub.identifiers)
    ev.health.update(sub.health)
    if sub.strong_identifier:
        ev.strong_identifier = True
        if ev.first_where is None and ids:
            ev.first_where = row_where(ids[0])
    return ids, hs


def _text_rows(engine: Engine, block: bytes, sub: Evidence, names: bool = True) -> tuple[list[int], list[int]]:
    """Scan the free-text cells of a batch (one row per line); return the row indexes
    that hold a patient identifier and those that hold health information."""
    if not block.strip():
        return [], []
    hits = [h for h in engine.scan(block) if h.counted]
    if not hits:
        return [], []  # the common case: no line offsets needed
    line_starts = [0] + [m.end() for m in re.finditer(rb"\n", block)]
    id_rows: set[int] = set()
    h_rows: set[int] = set()
    touched: set[int] = set()
    for h in hits:
        r = bisect.bisect_right(line_starts, h.start) - 1
        touched.add(r)
        if h.category == "identifier":
            sub.identifier(h.kind, None)
            if h.subject == "patient" and h.kind not in WEAK_KINDS:
                id_rows.add(r)
        else:
            sub.health_info(h.kind)
            h_rows.add(r)
    for r in sorted(touched) if names else ():
        s = line_starts[r]
        e = line_starts[r + 1] if r + 1 < len(line_starts) else len(block)
        for nh in find_names(block[s:e], s):
            sub.identifier("name", None)
            if nh.subject == "patient":
                id_rows.add(r)
    return sorted(id_rows), sorted(h_rows)


__all__ = ["analyze_table", "analyze_bytes", "is_placeholder"]
