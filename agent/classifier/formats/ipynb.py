"""Jupyter notebooks (nbformat 4): cell sources and outputs, where PHI often hides in a
`df.head()` result. HTML outputs with tables become Tables; text outputs, tracebacks and
JSON outputs become text. Images are skipped."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from agent.classifier.formats import htmltext, jsonfmt
from agent.classifier.formats.source import Source
from agent.classifier.limits import Budget
from agent.classifier.units import ExtractionError, TextBlock, Unit


def units(src: Source, budget: Budget, depth: int = 0) -> Iterator[Unit]:
    nb = yield from jsonfmt.parsed_or_text(src, budget,
                                           lambda: jsonfmt.load(src, budget, "ipynb"))
    if nb is None:
        return
    if not isinstance(nb, dict) or not isinstance(nb.get("cells"), list):
        raise ExtractionError("corrupt ipynb: no cell list")
    for i, cell in enumerate(nb["cells"], 1):
        budget.check_time()
        if not isinstance(cell, dict):
            continue
        where = f"cell {i}"
        source = _join(cell.get("source"))
        if source.strip():
            budget.add_text(len(source))
            yield TextBlock(source, where=where)
        for out in cell.get("outputs") or ():
            if isinstance(out, dict):
                yield from _output(out, where, budget)


def _output(out: dict, where: str, budget: Budget) -> Iterator[Unit]:
    where = f"{where} output"
    data = out.get("data") if isinstance(out.get("data"), dict) else {}
    html = _join(data.get("text/html"))
    if "<table" in html:
        budget.add_text(len(html))
        yield from htmltext.units(html, where)
        return
    parts = [
        _join(out.get("text")),
        _join(data.get("text/plain")),
        _join(data.get("text/markdown")),
    ]
    if out.get("traceback"):
        parts.append(_join(out["traceback"]))
    if "application/json" in data:
        parts.append(json.dumps(data["application/json"]))
    text = "\n".join(p for p in parts if p.strip())
    if not text and html:
        yield from htmltext.units(html, where)
        return
    if text:
        budget.add_text(len(text))
        yield TextBlock(text, where=where)


def _join(v: Any) -> str:
    if isinstance(v, list):
        return "".join(x for x in v if isinstance(x, str))
    return v if isinstance(v, str) else ""
