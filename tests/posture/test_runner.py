"""The runner on this machine: argument lists, no shell, timeouts, record and replay."""

from __future__ import annotations

import json
import os
import re
import stat
import sys

import pytest

from agent.posture import run_checks
from agent.runner import (
    LiveRunner,
    RecordingRunner,
    ReplayError,
    ReplayRunner,
)


def test_arguments_are_never_parsed_by_a_shell(tmp_path):
    marker = tmp_path / "pwned"
    result = LiveRunner().run(["printf", "%s", f"a; touch {marker}"])
    assert result.ok and result.stdout == f"a; touch {marker}"
    assert not marker.exists()


def test_commands_run_untranslated_and_without_stdin():
    live = LiveRunner()
    env = live.run([sys.executable, "-c", "import os; print(os.environ['LC_ALL'])"])
    assert env.stdout.strip() == "C"
    # a command that would wait for input gets EOF at once instead of prompting
    read = live.run([sys.executable, "-c", "import sys; print(repr(sys.stdin.read()))"])
    assert read.stdout.strip() == "''"


def test_missing_binary_timeout_and_exit_codes_are_results_not_exceptions():
    live = LiveRunner()
    assert live.run(["phiwatch-no-such-tool-xyz"]).error == "not_found"
    slow = live.run([sys.executable, "-c", "import time; time.sleep(30)"], timeout=0.5)
    assert slow.error == "timeout" and not slow.ok
    bad = live.run([sys.executable, "-c", "import sys; sys.exit(3)"])
    assert bad.error is None and bad.rc == 3 and not bad.ok


def test_file_reads(tmp_path):
    live = LiveRunner()
    path = tmp_path / "x.conf"
    path.write_text("A=1\n")
    assert live.read(str(path)).text == "A=1\n"
    assert live.read(str(tmp_path / "missing")).error == "not_found"
    assert live.listdir(str(tmp_path)) == ["x.conf"]
    assert live.listdir(str(tmp_path / "missing")) is None
    if os.geteuid() != 0:
        path.chmod(0)
        assert live.read(str(path)).error == "permission"


def test_record_then_replay_gives_the_same_verdicts(tmp_path):
    recorder = RecordingRunner(LiveRunner())
    live = [r.to_json() for r in run_checks(None, recorder)]
    out = tmp_path / "machine.json"
    recorder.save(out)
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    data = json.loads(out.read_text())
    assert data["format"] == "phiwatch-posture-replay/1" and data["os"] == "linux"
    assert any(key.startswith("lsblk ") for key in data["commands"])
    assert "/etc/os-release" in data["files"]
    replayed = [r.to_json() for r in run_checks(None, ReplayRunner.load(out))]
    assert replayed == live


@pytest.mark.parametrize("content, message", [
    ("not json", "not JSON (line 1"),
    ('{"format": "other"}', "not a phiwatch replay file"),
    ('{"format": "phiwatch-posture-replay/1", "os": "beos"}', "field 'os' must be"),
    ('{"format": "phiwatch-posture-replay/1", "os": "linux", "commands": []}',
     "field 'commands' must be an object"),
    ('{"format": "phiwatch-posture-replay/1", "os": "linux", "commands": {"lsblk": "out"}}',
     "commands['lsblk'] must be an object"),
    ('{"format": "phiwatch-posture-replay/1", "os": "linux", "dirs": {"/etc": "a"}}',
     "dirs['/etc'] must be a list of names or null"),
])
def test_bad_replay_files_say_what_is_wrong(tmp_path, content, message):
    path = tmp_path / "bad.json"
    path.write_text(content)
    with pytest.raises(ReplayError, match=re.escape(message)):
        ReplayRunner.load(path)


def test_missing_replay_file(tmp_path):
    with pytest.raises(ReplayError, match="cannot read"):
        ReplayRunner.load(tmp_path / "nope.json")
