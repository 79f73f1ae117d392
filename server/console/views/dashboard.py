"""Fleet dashboard: shares passing each control, violations, PHI now, 90-day trends."""

from __future__ import annotations

from datetime import timedelta

from django.http import HttpRequest, HttpResponse
from django.utils import timezone

from server.accounts.guard import console_view
from server.console import fleet, svg
from server.console.controls import BY_ID, SEVERITIES
from server.console.render import page

TREND_DAYS = 90
TREND_CONTROLS = ["disk_encryption", "screen_lock", "auto_logoff", "no_phi", "checked_in"]


@console_view("view_fleet")
def dashboard(request: HttpRequest) -> HttpResponse:
    now = timezone.now()
    counts = fleet.control_counts(now)
    severities = fleet.violations_by_severity()
    if fleet.today_is_stale(now):
        fleet.record_day(counts, severities, now)
    stats = {s.day: s for s in fleet.trend(TREND_DAYS, now.date())}
    days = [now.date() - timedelta(days=TREND_DAYS - 1 - i) for i in range(TREND_DAYS)]
    share_series = [
        (BY_ID[cid]["label"], f"s{i}", [stats[d].share(cid) if d in stats else None for d in days])
        for i, cid in enumerate(TREND_CONTROLS)
    ]
    count_series = [
        ("Devices holding PHI", "s3", [stats[d].phi_devices if d in stats else None for d in days]),
        ("Open violations", "s0",
         [sum(stats[d].violations.values()) if d in stats else None for d in days]),
    ]
    rows = fleet.control_rows(counts)
    for r in rows:
        r["meter"] = svg.meter(r["share"])
    phi_devices = (
        fleet.active_devices()
        .filter(phi_present=True)
        .order_by("-last_seen")
        .only("id", "hostname", "os", "phi_files", "last_seen", "worst_severity")[:10]
    )
    return page(request, "console/dashboard.html", {
        "counts": counts,
        "rows": rows,
        "severities": [(s, severities.get(s, 0)) for s in SEVERITIES],
        "violations_total": sum(severities.values()),
        "phi_devices": phi_devices,
        "share_chart": svg.line_chart(days, share_series, y_max=1, percent=True,
                                      title="Share of devices passing, last 90 days"),
        "count_chart": svg.line_chart(days, count_series,
                                      title="Devices holding PHI and open violations"),
        "trend_series": [(label, css) for label, css, _ in share_series],
        "count_legend": [(label, css) for label, css, _ in count_series],
        "trend_days": len(stats),
        "now": now,
    })
