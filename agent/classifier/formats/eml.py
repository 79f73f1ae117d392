"""E-mail messages (RFC 5322 / MIME): address and subject headers, text parts, and
attachments as Members scanned like files of their own."""

from __future__ import annotations

from collections.abc import Iterator
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser

from agent.classifier.formats import archive, htmltext
from agent.classifier.formats.source import Source
from agent.classifier.limits import Budget
from agent.classifier.units import TextBlock, Unit

HEADERS = ("From", "To", "Cc", "Bcc", "Reply-To", "Sender", "Subject", "Date")


def units(src: Source, budget: Budget, depth: int = 0) -> Iterator[Unit]:
    if src.size is not None and src.size > budget.limits.max_parse_bytes:
        from agent.classifier.formats import text

        yield from text.units(src, budget)
        return
    with src.open() as f:
        msg = BytesParser(policy=policy.default).parse(f)
    lines = []
    for name in HEADERS:
        for value in msg.get_all(name) or ():
            lines.append(f"{name}: {value}")
    if lines:
        text = "\n".join(lines) + "\n"
        budget.add_text(len(text))
        yield TextBlock(text, where="headers")
    parts = msg.walk() if msg.is_multipart() else iter([msg])
    for n, part in enumerate(parts, 1):
        budget.check_time()
        if part.is_multipart():
            continue
        yield from _part(part, n, budget, depth)  # type: ignore[arg-type]


def _part(part: EmailMessage, n: int, budget: Budget, depth: int) -> Iterator[Unit]:
    filename = part.get_filename()
    ctype = part.get_content_type()
    if filename or part.get_content_disposition() == "attachment" or not ctype.startswith("text/"):
        payload = part.get_payload(decode=True) or b""
        if not payload:
            return
        budget.add_member()
        budget.add_expanded(len(payload))
        name = filename or f"part {n}"
        msrc = Source(name=name, size=len(payload), data=payload)
        yield archive.member(name, msrc, budget, depth + 1)
        return
    try:
        body = part.get_content()
    except (LookupError, UnicodeError):  # unknown charset: decode bytes leniently
        body = (part.get_payload(decode=True) or b"").decode("latin-1")
    if not isinstance(body, str) or not body.strip():
        return
    budget.add_text(len(body))
    if ctype == "text/html":
        yield from htmltext.units(body, f"body part {n}")
    else:
        yield TextBlock(body, where=f"body part {n}")
