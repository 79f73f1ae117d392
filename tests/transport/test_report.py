"""What a report may say about a finding: the path policy, keyed hashes, allow-listed
fields only."""

from __future__ import annotations

import hashlib
import hmac
import json
import stat

import pytest

from agent.report import build_finding, build_report, device_key, path_fields

KEY = b"k" * 32


def _h(value: str, key: bytes = KEY) -> str:
    return hmac.new(key, value.encode(), hashlib.sha256).hexdigest()


@pytest.mark.parametrize(
    ("policy", "path", "folder"),
    [
        ("hashed", None, "/home/a/data"),
        ("folder", None, "/home/a/data"),
        ("full", "/home/a/data/jsmith.csv", "/home/a/data"),
        ("bogus", None, "/home/a/data"),
    ],  # unknown policy fails safe (hashed)
)
def test_path_policy(policy, path, folder):
    f = path_fields(KEY, "/home/a/data/jsmith.csv", policy)
    assert f == {
        "finding_id": _h("/home/a/data/jsmith.csv"),
        "path": path,
        "folder": folder,
        "name_hash": _h("jsmith.csv"),
    }


def test_windows_paths_and_archive_members():
    f = path_fields(KEY, "C:\\Users\\a\\jsmith.csv")
    assert f["folder"] == "C:\\Users\\a" and f["name_hash"] == _h("jsmith.csv")
    z = path_fields(KEY, "/d/export.zip!inner/jsmith.csv")
    assert z["folder"] == "/d" and z["name_hash"] == _h("export.zip!inner/jsmith.csv")


def test_report_carries_counts_never_values_or_extra_fields():
    local = {
        "path": "/home/a/Mary_Major_labs.csv",
        "classification": "phi",
        "identifiers": {"ssn": 2, "name": "Mary Major"},
        "health": {"icd10": 1},
        "matches": ["123-45-6789"],
        "snippet": "Mary Major 123-45-6789",
        "bytes": 10,
    }
    body = build_report(
        key=KEY,
        findings=[local],
        findings_complete=True,
        events=[
            {
                "type": "finding_opened",
                "data": {"path": "/home/a/Mary_Major_labs.csv", "values": ["123-45-6789"]},
            }
        ],
    )
    text = json.dumps(body)
    for leaked in ("Mary", "Major", "123-45-6789", "snippet", "matches"):
        assert leaked not in text
    (f,) = body["findings"]
    assert f["identifiers"] == {"ssn": 2} and f["health"] == {"icd10": 1}
    assert body["events"][0]["data"]["finding_id"] == f["finding_id"]
    assert body["findings_complete"] is True and body["report_id"]


def test_items_outside_the_protocol_are_left_out_not_fatal(caplog):
    with pytest.raises(ValueError, match="phi or pii"):
        build_finding(KEY, {"path": "/x", "classification": "none"})
    body = build_report(
        key=KEY,
        findings=[
            {"path": "/x/a.csv", "classification": "error"},
            {"path": "/x/b.csv", "classification": "pii"},
            {"classification": "phi"},
        ],
        events=[{"type": "nonsense"}, {"type": "agent_started"}],
    )
    assert [f["name_hash"] for f in body["findings"]] == [path_fields(KEY, "/x/b.csv")["name_hash"]]
    assert [e["type"] for e in body["events"]] == ["agent_started"]
    assert "left 2 finding(s) out" in caplog.text and "left 1 event(s) out" in caplog.text
    assert "/x/" not in caplog.text


def test_device_key_is_private_and_stable(tmp_path):
    k = device_key(tmp_path)
    assert len(k) == 32 and device_key(tmp_path) == k
    assert stat.S_IMODE((tmp_path / "device.key").stat().st_mode) == 0o600
    other = tmp_path / "other"
    other.mkdir()
    assert device_key(other) != k  # another device, another key
