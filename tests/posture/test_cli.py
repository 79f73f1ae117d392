"""`phiwatch posture` as a user and a script run it: table, JSON, exit codes, errors."""

from __future__ import annotations

import contextlib
import io
import json
import subprocess
import sys
from pathlib import Path

import pytest

from agent.cli import main

from .conftest import FIXTURES

ROOT = Path(__file__).resolve().parents[2]


def phiwatch(*args: str) -> subprocess.CompletedProcess:
    """`phiwatch posture ARGS` in this process (fast); one test below runs a real process."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            code = main(["posture", *args])
        except SystemExit as e:  # argparse usage errors
            code = int(e.code or 0)
    return subprocess.CompletedProcess(args, code, out.getvalue(), err.getvalue())


def phiwatch_process(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "agent", "posture", *args], capture_output=True,
                          text=True, cwd=ROOT, timeout=60)


@pytest.mark.parametrize("fixture, code", [
    ("linux-gnome-wayland-lvm-on-luks", 0),  # all pass
    ("windows-suspended-usb", 1),  # fails
    ("darwin-encrypting-usb", 1),  # in progress and fails: fail wins
    ("linux-missing-commands", 3),  # nothing failed, but not proven either
])
def test_exit_codes(fixture, code, capsys):
    assert main(["posture", "--replay", str(FIXTURES / f"{fixture}.json")]) == code


def test_json_is_the_documented_document():
    out = phiwatch("--replay", str(FIXTURES / "windows-suspended-usb.json"), "--format", "json")
    assert out.returncode == 1, out.stderr
    doc = json.loads(out.stdout)
    assert set(doc) == {"checked_at", "os", "agent_version", "source", "summary", "exit_code",
                        "checks"}
    assert doc["os"] == "windows" and doc["exit_code"] == 1
    assert doc["summary"] == {"pass": 0, "fail": 7, "unknown": 0, "in_progress": 0,
                              "not_applicable": 0}
    assert [c["id"] for c in doc["checks"]] == [
        "disk_encryption", "screen_lock", "auto_logoff", "removable_media", "firewall",
        "os_updates", "os_supported"]
    assert doc["checks"][0]["hipaa"] == "164.312(a)(2)(iv)"


def test_table_says_what_is_wrong_and_how_to_fix_it_one_line_each():
    out = phiwatch("--replay", str(FIXTURES / "linux-kde-plain-usb.json"))
    lines = out.stdout.splitlines()
    assert lines[0].startswith("phiwatch posture (linux, replay of ")
    row = next(li for li in lines if li.startswith("fail") and "disk_encryption" in li)
    assert "/ (/dev/mmcblk0p2): not encrypted" in row and "system volume encrypted" in row
    fixes = lines[lines.index("To fix:") + 1:]
    assert any(li.startswith("  firewall: Turn the firewall on: sudo ufw enable") for li in fixes)
    assert lines[-1] == "7 fail"


def test_unknown_rows_carry_the_reason():
    out = phiwatch("--replay", str(FIXTURES / "linux-missing-commands.json"))
    assert out.returncode == 3
    assert any("disk_encryption" in li and "unknown: command not found: lsblk" in li
               for li in out.stdout.splitlines())


def test_record_and_replay_from_the_command_line(tmp_path):
    rec = tmp_path / "me.json"
    first = phiwatch_process("--record", str(rec), "--format", "json")
    second = phiwatch("--replay", str(rec), "--format", "json")
    assert first.returncode == second.returncode
    assert json.loads(second.stdout)["checks"] == json.loads(first.stdout)["checks"]


def test_bad_replay_file_is_a_usage_error_without_traceback(tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text("{nope")
    out = phiwatch_process("--replay", str(bad))
    assert out.returncode == 2
    assert out.stderr.startswith(f"phiwatch posture: {bad}: not JSON")
    assert "Traceback" not in out.stderr and out.stdout == ""


def test_record_and_replay_are_exclusive():
    out = phiwatch("--record", "a.json", "--replay", "b.json")
    assert out.returncode == 2 and "not allowed with" in out.stderr


def test_policy_override_file_changes_the_verdict(tmp_path):
    fixture = str(FIXTURES / "linux-gnome-wayland-lvm-on-luks.json")
    strict = tmp_path / "server-policy.json"
    strict.write_text('{"screen_lock_max_seconds": 120}')
    out = phiwatch("--replay", fixture, "--policy", str(strict), "--format", "json")
    checks = {c["id"]: c for c in json.loads(out.stdout)["checks"]}
    assert out.returncode == 1
    assert checks["screen_lock"]["status"] == "fail"
    assert checks["screen_lock"]["policy"] == "locks with password within 120 s of idle"
    strict.write_text("screen_lock_max_seconds: soon\n")
    out = phiwatch("--replay", fixture, "--policy", str(strict))
    assert out.returncode == 2
    assert "screen_lock_max_seconds must be a whole number" in out.stderr


def test_unwritable_record_path_still_prints_the_verdicts(tmp_path):
    out = phiwatch("--record", str(tmp_path / "no" / "such" / "dir.json"), "--format", "json")
    assert out.returncode == 2
    assert json.loads(out.stdout)["checks"]
    assert "cannot write" in out.stderr
