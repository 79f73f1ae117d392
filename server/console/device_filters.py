"""The device list's filters and sorts: query string in, validated queryset out."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from django.db.models import F, Q, QuerySet
from django.utils import timezone

from server.console import policy
from server.console.controls import BY_ID, CONTROLS
from server.console.errors import BadInput
from server.devices.models import LIFECYCLE_STATES, Device

OSES = [("linux", "Linux"), ("darwin", "macOS"), ("windows", "Windows")]
SEEN = [("1d", "in the last day"), ("7d", "in the last 7 days"), ("30d", "in the last 30 days"),
        ("silent", "silent (past the policy's limit)"), ("never", "never")]
# sort key -> ORDER BY; id breaks ties so pages never repeat or skip a row. Never-seen
# devices come first on both databases (they are the first to chase), which is also
# PostgreSQL's own DESC order, so the device_seen_desc index serves the default page.
_SEEN_DESC = F("last_seen").desc(nulls_first=True)
SORTS = {
    "last_seen": [_SEEN_DESC, "-id"],
    "hostname": ["hostname", "id"],
    "violations": ["-open_violations", _SEEN_DESC, "-id"],
    "phi": ["-phi_files", _SEEN_DESC, "-id"],
    "failing": ["-posture_failing", _SEEN_DESC, "-id"],
}
LIST_FIELDS = ["id", "hostname", "hardware_serial", "os", "os_version", "last_seen", "posture",
               "posture_failing", "phi_files", "phi_present", "open_violations",
               "worst_severity", "lifecycle_state"]


@dataclass
class DeviceQuery:
    q: str = ""
    os: str = ""
    failing: str = ""
    phi: str = ""
    state: str = ""
    seen: str = ""
    sort: str = "last_seen"
    params: dict[str, str] = field(default_factory=dict)

    @classmethod
    def parse(cls, get: Any) -> DeviceQuery:
        dq = cls(
            q=get.get("q", "").strip()[:200],
            os=get.get("os", ""), failing=get.get("failing", ""), phi=get.get("phi", ""),
            state=get.get("state", ""), seen=get.get("seen", ""),
            sort=get.get("sort", "") or "last_seen",
        )
        checks = {
            "os": (dq.os, {k for k, _ in OSES}),
            "failing": (dq.failing, set(BY_ID)),
            "phi": (dq.phi, {"yes", "no"}),
            "state": (dq.state, {k for k, _ in LIFECYCLE_STATES}),
            "seen": (dq.seen, {k for k, _ in SEEN}),
            "sort": (dq.sort, set(SORTS)),
        }
        for name, (value, allowed) in checks.items():
            if value and value not in allowed:
                raise BadInput(name, f"unknown value; use one of {', '.join(sorted(allowed))}")
        dq.params = {k: v for k, v in {"q": dq.q, "os": dq.os, "failing": dq.failing,
                     "phi": dq.phi, "state": dq.state, "seen": dq.seen}.items() if v}
        if dq.sort != "last_seen":
            dq.params["sort"] = dq.sort
        return dq

    def queryset(self) -> QuerySet[Device]:
        qs = Device.objects.all()
        if self.q:
            qs = qs.filter(Q(hostname__icontains=self.q) | Q(hardware_serial__iexact=self.q)
                           | Q(machine_id=self.q))
        if self.os:
            qs = qs.filter(os=self.os)
        if self.state:
            qs = qs.filter(lifecycle_state=self.state)
        if self.phi:
            qs = qs.filter(phi_present=self.phi == "yes")
        now = timezone.now()
        silent = now - timedelta(seconds=policy.silent_after_seconds())
        if self.failing:
            kind = BY_ID[self.failing]["kind"]
            if kind == "posture":
                qs = qs.filter(**{f"ps_{self.failing}": "fail"})
            elif kind == "phi":
                qs = qs.filter(phi_present=True)
            else:
                qs = qs.filter(Q(last_seen__lt=silent) | Q(last_seen__isnull=True))
        if self.seen == "silent":
            qs = qs.filter(Q(last_seen__lt=silent) | Q(last_seen__isnull=True))
        elif self.seen == "never":
            qs = qs.filter(last_seen__isnull=True)
        elif self.seen:
            qs = qs.filter(last_seen__gte=now - timedelta(days=int(self.seen[:-1])))
        return qs.order_by(*SORTS[self.sort]).only(*LIST_FIELDS)


def control_choices() -> list[tuple[str, str]]:
    return [(c["id"], c["label"]) for c in CONTROLS]
