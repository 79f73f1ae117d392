"""PDF text layer, page by page (pypdf). Scanned pages without text give nothing (no OCR)."""

from __future__ import annotations

from collections.abc import Iterator

from agent.classifier.formats.source import Source, needs
from agent.classifier.limits import Budget
from agent.classifier.units import ExtractionError, TextBlock, Unit


def units(src: Source, budget: Budget, depth: int = 0) -> Iterator[Unit]:
    with needs("pdf"):
        from pypdf import PdfReader
        from pypdf.errors import FileNotDecryptedError, PdfReadError

    try:
        reader = PdfReader(src.seekable(budget), strict=False)
        if reader.is_encrypted:
            # Many PDFs are "encrypted" with an empty user password (permissions only).
            if not reader.decrypt(""):
                raise ExtractionError("encrypted pdf: needs a password")
        pages = reader.pages
        count = len(pages)
    except (PdfReadError, FileNotDecryptedError):
        raise ExtractionError("corrupt pdf: unreadable structure") from None
    for i in range(count):
        budget.check_time()
        try:
            text = pages[i].extract_text() or ""
        except FileNotDecryptedError:
            raise ExtractionError("encrypted pdf: needs a password") from None
        if text.strip():
            budget.add_text(len(text))
            yield TextBlock(text, where=f"page {i + 1}")
