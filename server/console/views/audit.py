"""Audit log viewer: filters, newest first, keyset pages by id, chain verification."""

from __future__ import annotations

from datetime import datetime, time
from urllib.parse import urlencode

from django.core.cache import cache
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from django.utils.dateparse import parse_date

from server.accounts.guard import console_view
from server.audit import log
from server.audit.models import AuditEntry, AuditHead
from server.console.errors import BadInput
from server.console.render import bad_input, page

PER_PAGE = 100


# verify() reads the whole chain. Its verdict is re-used for this long even when new
# entries arrive (the page says how many came after), so a busy fleet does not make
# every audit page view re-hash millions of rows; an unchanged head re-uses it for good.
VERIFY_MAX_AGE_SECONDS = 300
_CACHE_KEY = "console:audit-verify"


def chain_status() -> dict:
    head = AuditHead.objects.filter(pk=1).values("last_id", "last_hash").first() or {}
    last_id = head.get("last_id") or 0
    status = cache.get(_CACHE_KEY)
    now = timezone.now()
    fresh = status is not None and (
        status["head"] == (last_id, head.get("last_hash"))
        or (now - status["checked_at"]).total_seconds() < VERIFY_MAX_AGE_SECONDS)
    if not fresh:
        ok, bad_id = log.verify()
        status = {"ok": ok, "bad_id": bad_id, "checked_at": now, "entries": last_id,
                  "head": (last_id, head.get("last_hash"))}
        cache.set(_CACHE_KEY, status, None)
    return {**status, "newer": max(0, last_id - status["entries"])}


def _day(value: str, field: str, end: bool = False):
    if not value:
        return None
    d = parse_date(value)
    if d is None:
        raise BadInput(field, "use YYYY-MM-DD")
    return timezone.make_aware(datetime.combine(d, time.max if end else time.min))


@console_view("view_audit")
def audit_log(request: HttpRequest) -> HttpResponse:
    g = request.GET
    params = {k: g.get(k, "").strip()[:200] for k in ("actor", "action", "target", "since",
                                                      "until")}
    try:
        since = _day(params["since"], "since")
        until = _day(params["until"], "until", end=True)
        before = int(g["before"]) if g.get("before") else None
    except BadInput as e:
        return bad_input(request, e)
    except ValueError:
        return bad_input(request, BadInput("before", "must be an entry id"))
    qs = AuditEntry.objects.all()
    if params["actor"]:
        qs = qs.filter(actor=params["actor"])
    if params["action"]:
        qs = qs.filter(action__startswith=params["action"])
    if params["target"]:
        qs = qs.filter(target=params["target"])
    if since:
        qs = qs.filter(at__gte=since)
    if until:
        qs = qs.filter(at__lte=until)
    if before:
        qs = qs.filter(id__lt=before)
    entries = list(qs.order_by("-id")[: PER_PAGE + 1])
    more = len(entries) > PER_PAGE
    entries = entries[:PER_PAGE]
    filters = {k: v for k, v in params.items() if v}
    next_query = urlencode({**filters, "before": entries[-1].id}) if more else None
    return page(request, "console/audit.html", {
        "entries": entries, "params": params, "next_query": next_query,
        "first_query": urlencode(filters), "chain": chain_status(),
    })
