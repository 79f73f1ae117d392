"""Dashboard figures against the seeded fleet (tests/server/console/seed.py).

Active devices: ok, phi, silent, never (lost is not active) = 4.
"""

from __future__ import annotations

import re
from datetime import timedelta

from django.utils import timezone

from server.console import fleet as fleet_mod
from server.console.models import DailyFleetStat


def row(content: bytes, control: str) -> bytes:
    m = re.search(rb'<tr data-control="%s">(.*?)</tr>' % control.encode(), content, re.S)
    assert m, control
    return m.group(1)


def cells(content: bytes, control: str) -> list[str]:
    return [re.sub(r"<[^>]+>", "", c.decode()).strip()
            for c in re.findall(rb"<td[^>]*>(.*?)</td>", row(content, control), re.S)]


def test_control_shares_with_hipaa_sections(fleet, officer):
    r = officer.get("/console/")
    assert r.status_code == 200
    assert b"4 active devices" in r.content
    # disk encryption: pass ok+silent, fail phi, never reported: never -> 2/4
    c = cells(r.content, "disk_encryption")
    assert c[0] == "Disk encryption" and "164.312(a)(2)(iv)" in c[1]
    assert c[2] == "50%" and c[4:] == ["2", "1", "1"]
    # screen lock fails on silent; auto logoff unknown on silent
    assert cells(r.content, "screen_lock")[4:] == ["2", "1", "1"]
    assert "164.310(c)" in cells(r.content, "screen_lock")[1]
    assert cells(r.content, "auto_logoff")[4:] == ["2", "0", "2"]
    assert "164.312(a)(2)(iii)" in cells(r.content, "auto_logoff")[1]
    # no PHI: only phi holds PHI -> 3/4
    assert cells(r.content, "no_phi")[2] == "75%"
    # checked in within 3 days (policy silent_after_seconds): ok and phi -> 2/4
    assert cells(r.content, "checked_in")[4:6] == ["2", "2"]
    assert "164.312(b)" in cells(r.content, "checked_in")[1]


def test_violations_by_severity_and_phi_devices(fleet, officer):
    r = officer.get("/console/")
    text = re.sub(rb">\s+<", b"><", r.content)
    assert b'id="card-phi"><span class="big">1</span>' in text
    assert b'<span class="big">3</span><span>open violations</span>' in text
    for sev, n in (("critical", 1), ("high", 1), ("medium", 1), ("low", 0)):
        assert f'?severity={sev}"><span class="big">{n}</span>'.encode() in text
    phi_table = r.content.split(b'id="phi-devices"')[1].split(b"</table>")[0]
    assert b"lap-phi-02" in phi_table and b"lap-ok-01" not in phi_table


def test_trend_charts_are_svg_from_daily_rows(fleet, officer):
    today = timezone.now().date()
    for back, share in ((30, 0.25), (10, 0.5)):
        DailyFleetStat.objects.create(
            day=today - timedelta(days=back), recorded_at=timezone.now(), devices=4,
            controls={"disk_encryption": {"pass": int(4 * share), "fail": 1, "applicable": 4}},
            phi_devices=2, violations={"high": 5})
    r = officer.get("/console/")
    # Today's row is written by the first view of the day.
    assert DailyFleetStat.objects.filter(day=today).exists()
    assert r.content.count(b'<svg class="chart"') == 2
    assert b"<polyline" in r.content or b"<circle" in r.content
    assert b"3 days recorded in the last 90" in r.content


def test_dashboard_query_count_does_not_grow_with_the_fleet(fleet, officer,
                                                          django_assert_max_num_queries):
    from tests.server.console.seed import make_device

    officer.get("/console/")
    for i in range(20):
        make_device(f"extra-{i:02d}", phi_files=1)
    with django_assert_max_num_queries(16):
        assert officer.get("/console/").status_code == 200


def test_record_day_is_an_upsert(fleet):
    counts = fleet_mod.control_counts()
    fleet_mod.record_day(counts, {"high": 1})
    fleet_mod.record_day(counts, {"high": 2})
    assert DailyFleetStat.objects.get().violations == {"high": 2}
