from __future__ import annotations

import pytest
from django.utils import timezone

from tests.server.conftest import check, finding


@pytest.fixture
def device_with_phi(agent):
    """An enrolled device that reported encrypted disk, PHI in one folder, and an
    inventory."""
    r = agent.checkin(
        inventory={"hostname": "lap-7", "hardware_serial": "SER-7", "users": ["alice"],
                   "interfaces": [{"name": "eth0", "mac": "aa", "addresses": ["10.1.2.3"]}]},
        posture=agent.posture(check("disk_encryption", "pass",
                                    details={"volumes": [{"mount": "/", "encrypted": True,
                                                          "system": True}]})),
        findings=[finding(1), finding(2)], findings_complete=True)
    assert r.status_code == 200, r.content
    from server.devices.models import Device
    return agent, Device.objects.get(pk=agent.device_id)


def sanitization(**over) -> dict:
    now = timezone.now()
    data = {"media_type": "SSD (NVMe)", "method": "purge",
            "technique": "NVMe Format, crypto erase", "tool": "nvme-cli", "tool_version": "2.4",
            "verification_method": "quick_sampling", "verification_result": "pass",
            "performed_by": "Sam Tech", "performed_at": now, "verified_by": "Vera Lead",
            "verified_at": now, "destination": "recycling",
            "destination_details": "GreenCycle ITAD, manifest 88"}
    data.update(over)
    return data
