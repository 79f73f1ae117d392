"""JSON and JSON Lines: arrays of objects become Tables, everything else `key: value` text.

A list of objects is a table whatever its depth ({"data": {"patients": [...]}}), so the
engine can judge record by record; nested values inside a row are flattened to dotted
columns. Scalars outside tables become lines `parent.key: value`, which keeps the key as
context for the value. JSON is parsed whole up to `Limits.max_parse_bytes` (scanned as
text above that); JSON Lines is streamed line by line.
"""

from __future__ import annotations

import io
import json
import re
from collections.abc import Callable, Generator, Iterator
from typing import Any

from agent.classifier.formats import textcodec
from agent.classifier.formats.source import Source
from agent.classifier.limits import Budget
from agent.classifier.units import ExtractionError, Table, TextBlock, Unit

TEXT_BLOCK_CHARS = 1 << 20
HEADER_SAMPLE = 200  # JSON Lines: the header is the keys of the first objects
MAX_LINE = 4 << 20  # JSON Lines: a longer line is cut, and its pieces read as text


def load(src: Source, budget: Budget, kind: str = "json") -> Any:
    """Parse a whole JSON document; None when it is over `max_parse_bytes`."""
    limits = budget.limits
    if src.size is not None and src.size > limits.max_parse_bytes:
        return None
    with src.open() as f:
        raw = f.read(limits.max_parse_bytes + 1)
    if len(raw) > limits.max_parse_bytes:
        return None
    encoding = textcodec.detect(raw[:8192]) or "latin-1"
    try:
        return json.loads(raw.decode(encoding, errors="replace"))
    except RecursionError:
        raise ExtractionError(f"{kind} nesting deeper than {limits.max_nesting}") from None
    except ValueError as e:
        # JSONDecodeError's message says where, not what: line and column only.
        pos = getattr(e, "lineno", None)
        raise Malformed(f"corrupt {kind}: invalid JSON at line {pos}") from None


class Malformed(ExtractionError):
    """A syntax error (cut or hand-edited file): its content is still scanned as text."""


def text_then_raise(src: Source, budget: Budget, err: ExtractionError) -> Iterator[Unit]:
    """Scan a malformed file as plain text, then report why (as a partial read), so a
    truncated export is still checked for PHI instead of only failing."""
    yield from _as_text(src, budget)
    raise ExtractionError(f"{err.reason}; scanned as text", partial=True) from None


def parsed_or_text(src: Source, budget: Budget,
                   parse: Callable[[], Any]) -> Generator[Unit, None, Any]:
    """The parsed document, or None after the file was read as plain text instead: when it
    is over `max_parse_bytes` (parse gave None), or malformed (then the reason is raised as
    a partial read). Use as ``doc = yield from parsed_or_text(...)``."""
    try:
        doc = parse()
    except Malformed as e:
        yield from text_then_raise(src, budget, e)
    if doc is None:
        yield from _as_text(src, budget)
    return doc


def units(src: Source, budget: Budget, depth: int = 0) -> Iterator[Unit]:
    obj = yield from parsed_or_text(src, budget, lambda: load(src, budget))
    if obj is None:
        return
    if (
        isinstance(obj, list)
        and obj
        and all(isinstance(x, dict) and "resourceType" in x for x in obj[:50])
    ):
        # A JSON array of FHIR resources (some exports write them so): read as FHIR.
        from agent.classifier.formats import fhir

        acc = fhir.Accumulator("fhir-json", budget)
        for res in obj:
            acc.add(res)
        yield from acc.flush()
        return
    yield from walk(obj, budget)


def _as_text(src: Source, budget: Budget) -> Iterator[Unit]:
    from agent.classifier.formats import text

    yield from text.units(src, budget)


def walk(obj: Any, budget: Budget, path: str = "", kind: str = "json") -> Iterator[Unit]:
    """Tables for arrays of objects, TextBlocks of `key: value` lines for the rest."""
    buf = TextBuffer(budget)
    yield from _walk(obj, budget, path, buf, 0, kind)
    yield from buf.flush()


def _walk(
    obj: Any, budget: Budget, path: str, buf: TextBuffer, depth: int, kind: str
) -> Iterator[Unit]:
    if depth > budget.limits.max_nesting:
        raise ExtractionError(f"{kind} nesting deeper than {budget.limits.max_nesting}")
    if isinstance(obj, dict):
        for k, v in obj.items():
            p = _join(path, str(k))
            if isinstance(v, dict | list):
                yield from _walk(v, budget, p, buf, depth + 1, kind)
            else:
                yield from buf.add(f"{p}: {scalar(v)}")
    elif isinstance(obj, list):
        if is_records(obj):
            budget.check_time()
            yield table(obj, _location(path), budget, depth, kind)
        else:
            for x in obj:
                yield from _walk(x, budget, path, buf, depth + 1, kind)
    else:
        yield from buf.add(f"{path}: {scalar(obj)}" if path else scalar(obj))


# A key that names a field ("patients", "dx_code"). Keys can also be data (an object
# keyed by MRN or by patient name): those never go into a location, which is shown to
# users and sent to the server.
_FIELD_KEY = re.compile(r"[A-Za-z_][A-Za-z0-9_.-]{0,39}")


def _location(path: str) -> str:
    if not path:
        return "top level"
    parts = [
        k if _FIELD_KEY.fullmatch(k) and not any(c.isdigit() for c in k[-4:]) else "*"
        for k in path.split(".")
    ]
    return ".".join(parts)


def _join(path: str, key: str) -> str:
    # Keep the last two levels: enough context ("patient.ssn"), short lines.
    parent = path.rsplit(".", 1)[-1] if path else ""
    return f"{parent}.{key}" if parent else key


def is_records(items: list) -> bool:
    return bool(items) and sum(isinstance(x, dict) for x in items) >= 0.8 * len(items)


def table(items: list, where: str, budget: Budget, depth: int, kind: str = "json") -> Table:
    rows = [
        flatten(x, budget, depth, kind) if isinstance(x, dict) else {"value": scalar(x)}
        for x in items
    ]
    header: dict[str, None] = {}
    for r in rows:
        header.update(dict.fromkeys(r))
    cols = list(header)
    return Table(header=cols, rows=[[r.get(c, "") for c in cols] for r in rows], where=where)


def flatten(obj: dict, budget: Budget, depth: int = 0, kind: str = "json") -> dict[str, str]:
    """One level of columns from a nested object: {"name": {"family": "X"}} -> name.family.
    Repeated values (lists) are joined with "; "."""
    for v in obj.values():
        if isinstance(v, dict | list):
            break
    else:  # flat already (most JSON Lines records): no recursion, no joining
        return {
            str(k): v if isinstance(v, str) else scalar(v) for k, v in obj.items() if v is not None
        }
    out: dict[str, list[str]] = {}

    def visit(v: Any, key: str, d: int) -> None:
        if d > budget.limits.max_nesting:
            raise ExtractionError(f"{kind} nesting deeper than {budget.limits.max_nesting}")
        if isinstance(v, dict):
            for k, x in v.items():
                visit(x, f"{key}.{k}" if key else str(k), d + 1)
        elif isinstance(v, list):
            for x in v:
                visit(x, key, d + 1)
        elif v is not None:
            out.setdefault(key or "value", []).append(scalar(v))

    visit(obj, "", depth)
    return {k: "; ".join(v) for k, v in out.items()}


def scalar(v: Any) -> str:
    if v is None:
        return ""
    if v is True:
        return "true"
    if v is False:
        return "false"
    return str(v)


class TextBuffer:
    """Collects lines and hands them out as TextBlocks of about 1 MiB."""

    def __init__(self, budget: Budget, where: str = "") -> None:
        self.budget = budget
        self.where = where
        self.lines: list[str] = []
        self.size = 0

    def add(self, line: str) -> Iterator[TextBlock]:
        self.lines.append(line)
        self.size += len(line) + 1
        if self.size >= TEXT_BLOCK_CHARS:
            yield from self.flush()

    def flush(self) -> Iterator[TextBlock]:
        if self.lines:
            text = "\n".join(self.lines) + "\n"
            self.lines, self.size = [], 0
            self.budget.check_time()
            self.budget.add_text(len(text))
            yield TextBlock(text, where=self.where)


# ---- JSON Lines --------------------------------------------------------------------------


def lines(src: Source, budget: Budget) -> Iterator[tuple[int, Any]]:
    """(line number, parsed value or the raw line when it is not JSON) for each line."""
    encoding = textcodec.detect(src.head()) or "latin-1"
    with io.TextIOWrapper(src.open(), encoding=encoding, errors="replace") as stream:
        for n, line in enumerate(budget.lines(stream.readline, MAX_LINE), 1):
            s = line.strip()
            if not s:
                continue
            try:
                yield n, json.loads(s)
            except RecursionError:
                raise ExtractionError(
                    f"jsonl nesting deeper than {budget.limits.max_nesting}"
                ) from None
            except ValueError:
                yield n, s  # not JSON (or a cut line): the engine reads it as text


def jsonl_units(src: Source, budget: Budget, depth: int = 0) -> Iterator[Unit]:
    it = lines(src, budget)
    sample: list[tuple[int, Any]] = []
    for item in it:
        sample.append(item)
        if len(sample) >= HEADER_SAMPLE:
            break
    header: dict[str, None] = {}
    for _, v in sample:
        if isinstance(v, dict):
            header.update(dict.fromkeys(flatten(v, budget, 0, "jsonl")))
    cols = list(header)
    if not cols:  # no objects: lines of arrays, strings or junk are text
        buf = TextBuffer(budget)
        for _, v in _chain(sample, it):
            yield from buf.add(v if isinstance(v, str) else json.dumps(v))
        yield from buf.flush()
        return

    def rows() -> Iterator[list[str]]:
        for _, v in _chain(sample, it):
            if type(v) is dict and list(v) == cols:
                # Fast path, the common case: the same flat keys in the same order.
                try:
                    yield [x if type(x) is str else _flat_scalar(x) for x in v.values()]
                    continue
                except _Nested:
                    pass
            if isinstance(v, dict):
                flat = flatten(v, budget, 0, "jsonl")
                row = [flat.pop(c, "") for c in cols]
                # Keys the header sample did not see ride along as "key: value" cells.
                row.extend(f"{k}: {x}" for k, x in flat.items())
                yield row
            else:  # a line that is not an object: one cell holding its text
                yield [v if isinstance(v, str) else json.dumps(v)]

    yield Table(header=cols, rows=rows(), first_row_line=sample[0][0] if sample else 1)


class _Nested(Exception):
    """A value is an object or array: the row needs flatten()."""


def _flat_scalar(v: Any) -> str:
    if isinstance(v, dict | list):
        raise _Nested
    return scalar(v)


def _chain(first: list, rest: Iterator) -> Iterator:
    yield from first
    yield from rest
