"""Notification wording and delivery: a real org.freedesktop.Notifications server on a
private session bus receives what the agent sends."""

from __future__ import annotations

import os
import time

import pytest

from agent.notify import LogOnlyBackend, Notifier
from agent.notify.dbus import DBusBackend
from agent.notify.errors import NotifyError
from agent.notify.macos import command as osascript_command
from agent.notify.message import Alert, compose
from agent.notify.windows import command as toast_command
from tests.run.conftest import wait_for

HOME = os.path.expanduser("~")


def test_single_file_names_file_kinds_counts_and_what_to_do():
    n = compose([Alert(f"{HOME}/Downloads/labs.csv", "phi", {"ssn": 3, "name": 12}, {"icd10": 14})])
    assert n.title == "PHI found: labs.csv"
    assert n.body == (
        "~/Downloads/labs.csv holds protected health information "
        "(14 icd10, 12 name, 3 ssn). Move it to the approved secure storage "
        "and delete this copy."
    )
    assert n.urgent is False


@pytest.mark.parametrize(
    "alert, title, line",
    [
        (
            Alert("/media/u/STICK/x.csv", "phi", {"mrn": 1}, {"icd10": 1}, removable=True),
            "PHI found on removable media: x.csv",
            "Removable media leaves the building",
        ),
        (
            Alert(f"{HOME}/Dropbox/x.csv", "phi", {"mrn": 1}, {"icd10": 1}, cloud="dropbox"),
            "PHI found in Dropbox: x.csv",
            "Dropbox is copying it off this laptop",
        ),
        (
            Alert(f"{HOME}/x.csv", "phi", {"mrn": 1}, {"icd10": 1}, encrypted=False),
            "PHI found on an unencrypted disk: x.csv",
            "This disk is not encrypted",
        ),
    ],
)
def test_wording_is_more_urgent_off_the_safe_path(alert, title, line):
    n = compose([alert])
    assert n.title == title
    assert line in n.body
    assert n.urgent is True


def test_many_files_give_one_summary_with_totals():
    alerts = [
        Alert(f"/data/export/p{i}.hl7", "phi", {"mrn": 1}, {"icd10": 2}) for i in range(1000)
    ] + [Alert("/data/export/staff.csv", "pii", {"email": 5})]
    n = compose(alerts)
    assert n.title == "PHI found in 1,001 files"
    assert n.body.startswith(
        "In /data/export: 1,000 with PHI, 1 with personal data (2,000 icd10, 1,000 mrn, 5 email)."
    )


def test_pii_only_is_worded_as_personal_data():
    n = compose([Alert("/x/staff.csv", "pii", {"ssn": 40, "name": 40})])
    assert n.title == "Personal data found: staff.csv"
    assert "personal identifiers" in n.body and "protected health" not in n.body


def test_dbus_notification_reaches_the_server(notifications):
    n = compose([Alert("/x/labs.csv", "phi", {"ssn": 3}, {"icd10": 1}, removable=True)])
    backend = DBusBackend(notifications.address)
    first = backend.show(n)
    again = backend.show(n, replaces=first)
    got = notifications.received()
    assert first == again and isinstance(first, int) and first > 0
    assert [(g["app"], g["summary"], g["body"], g["urgency"], g["replaces"]) for g in got] == [
        ("phiwatch", n.title, n.body, 2, 0),
        ("phiwatch", n.title, n.body, 2, first),
    ]


def test_dbus_without_a_server_is_a_clear_error(tmp_path):
    with pytest.raises(NotifyError, match="no session bus"):
        DBusBackend(f"unix:path={tmp_path}/nobus").show(compose([Alert("/x", "phi")]))


def test_notifier_folds_a_burst_into_one_notification(notifications, no_leaked_threads):
    shown = []
    notifier = Notifier(
        DBusBackend(notifications.address),
        gather=0.3,
        hold=30,
        on_shown=lambda n, count, delivered: shown.append((count, delivered)),
    )
    notifier.start()
    try:
        for i in range(50):
            notifier.alert(Alert(f"/data/x{i}.csv", "phi", {"mrn": 1}, {"icd10": 1}))
        assert wait_for(lambda: shown)
        for i in range(50, 60):  # a straggler after the first was shown
            notifier.alert(Alert(f"/data/x{i}.csv", "phi", {"mrn": 1}, {"icd10": 1}))
        assert wait_for(lambda: len(shown) == 2)
    finally:
        notifier.stop()
    got = notifications.received()
    assert [g["summary"] for g in got] == ["PHI found in 50 files", "PHI found in 60 files"]
    assert got[1]["replaces"] == got[0]["id"]
    assert shown == [(50, True), (60, True)]


def test_log_only_backend_still_records_the_warning(no_leaked_threads):
    shown = []
    notifier = Notifier(
        LogOnlyBackend(),
        gather=0.05,
        on_shown=lambda n, count, delivered: shown.append((n.title, delivered)),
    )
    notifier.start()
    notifier.alert(Alert("/x/labs.csv", "phi", {"ssn": 1}, {"icd10": 1}))
    wait_for(lambda: shown)
    notifier.stop()
    assert shown == [("PHI found: labs.csv", False)]


def test_osascript_and_toast_commands_carry_text_as_data():
    n = compose([Alert("/x/a\"b'c.csv", "phi", {"ssn": 1}, {"icd10": 1})])
    argv = osascript_command(n)
    assert argv[:2] == ["osascript", "-e"] and argv[-2:] == [n.title, n.body]
    assert n.title not in " ".join(argv[:-2])  # never spliced into the script
    argv, env = toast_command(n)
    assert argv[0] == "powershell.exe" and "-EncodedCommand" in argv
    assert env["PHIWATCH_TITLE"] == n.title and env["PHIWATCH_BODY"] == n.body


def test_stop_shows_what_was_gathered(notifications, no_leaked_threads):
    notifier = Notifier(DBusBackend(notifications.address), gather=60)
    notifier.start()
    notifier.alert(Alert("/x/late.csv", "phi", {"ssn": 1}, {"icd10": 1}))
    time.sleep(0.1)
    notifier.stop()
    assert [g["summary"] for g in notifications.received()] == ["PHI found: late.csv"]
