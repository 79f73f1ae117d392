"""Windows installer sources (Windows is not here): the WiX source, built into a real MSI
with msitools' wixl and read back table by table, and the ADMX/ADML template."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import uuid
import xml.etree.ElementTree as ET

import pytest

from agent import __version__
from agent.config import SETTINGS, parse_registry_values
from tests.installers.helpers import ROOT

WINDOWS = ROOT / "installers" / "windows"
WIX = "{http://schemas.microsoft.com/wix/2006/wi}"
ADMX_NS = "{http://schemas.microsoft.com/GroupPolicy/2006/07/PolicyDefinitions}"
POLICY_KEY = r"SOFTWARE\Policies\phiwatch\Agent"
RUN_KEY = r"SOFTWARE\Microsoft\Windows\CurrentVersion\Run"
# Changing it breaks upgrades of every installed agent (MSI major upgrade matches on it).
UPGRADE_CODE = "6F4C2B1E-9A3D-4E7F-8B25-C1D0E3F4A5B6"
# The managed keys of docs/protocol.md, "Managed configuration".
MANAGED_KEYS = {
    "server_url",
    "enrollment_secret",
    "fingerprint",
    "ca_cert",
    "roots",
    "exclude",
    "log_level",
}
# msiexec property -> registry value it fills
PROPERTIES = {
    "SERVER_URL": "server_url",
    "ENROLLMENT_SECRET": "enrollment_secret",
    "FINGERPRINT": "fingerprint",
    "CA_CERT": "ca_cert",
}


def wxs() -> ET.Element:
    return ET.parse(WINDOWS / "phiwatch.wxs").getroot()


def test_wix_source_structure():
    root = wxs()
    assert root.tag == f"{WIX}Wix"
    product = root.find(f"{WIX}Product")
    assert product.get("UpgradeCode") == UPGRADE_CODE
    assert product.get("Version") == "$(var.Version)"
    assert root.find(f".//{WIX}Package").get("InstallScope") == "perMachine"
    assert root.find(f".//{WIX}MajorUpgrade") is not None
    components = list(root.iter(f"{WIX}Component"))
    guids = [c.get("Guid") for c in components]
    assert len(set(guids)) == len(guids)
    for g in guids:
        uuid.UUID(g)
    refs = {r.get("Id") for r in root.iter(f"{WIX}ComponentRef")}
    assert refs == {c.get("Id") for c in components}  # every component is installed

    props = {p.get("Id"): p for p in root.iter(f"{WIX}Property")}
    for name in PROPERTIES:
        assert props[name].get("Secure") == "yes", name
    assert "ENROLLMENT_SECRET" in props["MsiHiddenProperties"].get("Value").split(";")
    assert props["ARPNOREMOVE"].get("Value") == "1"

    files = {f.get("Name") for f in root.iter(f"{WIX}File")}
    assert files == {"phiwatch.exe", "phiwatchw.exe"}
    # Each policy value is written only when its property was given on the command line.
    for comp in components:
        values = comp.findall(f"{WIX}RegistryValue")
        for value in values:
            if value.get("Key") == POLICY_KEY:
                prop = re.fullmatch(r"\[(\w+)\]", value.get("Value")).group(1)
                assert PROPERTIES[prop] == value.get("Name")
                assert comp.find(f"{WIX}Condition").text.strip() == prop
                assert value.get("Root") == "HKLM" and value.get("Type") == "string"


def msi_table(msi, table: str) -> list[dict[str, str]]:
    out = subprocess.run(
        ["msiinfo", "export", str(msi), table], capture_output=True, text=True, check=True
    ).stdout.splitlines()
    header = out[0].split("\t")
    return [dict(zip(header, line.split("\t"), strict=False)) for line in out[3:]]


@pytest.fixture(scope="module")
def msi(tmp_path_factory):
    if not (shutil.which("wixl") and shutil.which("msiinfo")):
        pytest.skip("msitools (wixl, msiinfo) not installed: scripts/setup installs them")
    tmp = tmp_path_factory.mktemp("msi")
    bins = tmp / "bin"
    bins.mkdir()
    # Stand-ins: the real .exe files are built on Windows; the MSI tables do not depend on them.
    (bins / "phiwatch.exe").write_bytes(b"MZ console stand-in")
    (bins / "phiwatchw.exe").write_bytes(b"MZ windowless stand-in")
    result = subprocess.run(
        [
            sys.executable,
            str(WINDOWS / "build_msi.py"),
            "--bin-dir",
            str(bins),
            "--out",
            str(tmp / "out"),
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    path = tmp / "out" / f"phiwatch-{__version__}-x64.msi"
    assert result.stdout.strip() == str(path)
    return path


def test_msi_installs_both_binaries_per_machine(msi):
    files = {r["FileName"] for r in msi_table(msi, "File")}
    assert files == {"phiwatch.exe", "phiwatchw.exe"}
    props = {r["Property"]: r["Value"] for r in msi_table(msi, "Property")}
    assert props["ProductVersion"] == __version__
    assert props["UpgradeCode"] == "{" + UPGRADE_CODE + "}"
    assert props["ALLUSERS"] == "1"
    assert props["ARPNOREMOVE"] == "1"
    assert props["MsiHiddenProperties"] == "ENROLLMENT_SECRET"
    assert set(PROPERTIES) <= set(props["SecureCustomProperties"].split(";"))
    # Major upgrade: older versions are removed, newer ones block a downgrade.
    upgrades = msi_table(msi, "Upgrade")
    assert {u["ActionProperty"] for u in upgrades} == {
        "WIX_UPGRADE_DETECTED",
        "WIX_DOWNGRADE_DETECTED",
    }
    dirs = {r["Directory"]: r for r in msi_table(msi, "Directory")}
    assert dirs["INSTALLDIR"]["Directory_Parent"] == "ProgramFiles64Folder"
    for comp in msi_table(msi, "Component"):
        assert int(comp["Attributes"]) & 256  # msidbComponentAttributes64bit


def test_msi_starts_the_agent_at_every_logon(msi):
    rows = [r for r in msi_table(msi, "Registry") if r["Key"] == RUN_KEY]
    assert len(rows) == 1
    assert rows[0]["Root"] == "2"  # HKLM: every user, not only the installing admin
    assert rows[0]["Value"] == '"[INSTALLDIR]phiwatchw.exe" run'


def test_msi_writes_policy_values_the_agent_reads(msi):
    registry = [r for r in msi_table(msi, "Registry") if r["Key"] == POLICY_KEY]
    conditions = {c["Component"]: c["Condition"] for c in msi_table(msi, "Component")}
    given = {
        "SERVER_URL": "https://pw.test:8443",
        "ENROLLMENT_SECRET": "s3cret",
        "FINGERPRINT": "AB" * 32,
        "CA_CERT": "",
    }
    written = []
    for row in registry:
        assert row["Root"] == "2"
        prop = conditions[row["Component_"]]
        assert row["Value"] == f"[{prop}]"
        if given[prop]:  # the component condition: only properties given on msiexec
            written.append((row["Name"], given[prop], 1))  # REG_SZ
    settings = parse_registry_values(written)
    assert settings == {
        "server_url": "https://pw.test:8443",
        "enrollment_secret": "s3cret",
        "fingerprint": "AB" * 32,
    }
    assert {r["Name"] for r in registry} <= set(SETTINGS)


def test_msi_build_reports_missing_binaries(tmp_path):
    if not shutil.which("wixl"):
        pytest.skip("wixl not installed")
    result = subprocess.run(
        [
            sys.executable,
            str(WINDOWS / "build_msi.py"),
            "--bin-dir",
            str(tmp_path),
            "--out",
            str(tmp_path / "out"),
        ],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 1 and "phiwatch.exe" in result.stderr
    assert not (tmp_path / "out").exists() or not list((tmp_path / "out").iterdir())


def test_admx_covers_every_managed_setting_under_the_policy_key():
    admx = ET.parse(WINDOWS / "phiwatch.admx").getroot()
    assert admx.tag == f"{ADMX_NS}policyDefinitions"
    names = {}
    for policy in admx.iter(f"{ADMX_NS}policy"):
        assert policy.get("class") == "Machine"
        assert policy.get("key") == POLICY_KEY
        assert policy.find(f"{ADMX_NS}parentCategory").get("ref") == "phiwatch"
        for element in policy.find(f"{ADMX_NS}elements"):
            names[element.get("valueName")] = element.tag.removeprefix(ADMX_NS)
    assert set(names) == MANAGED_KEYS
    assert set(names) <= set(SETTINGS)
    # Lists are REG_MULTI_SZ (multiText), which the agent reads as lists.
    assert {k for k, kind in names.items() if kind == "multiText"} == {"roots", "exclude"}
    assert all(SETTINGS[k][1] is list for k in ("roots", "exclude"))
    assert parse_registry_values([("roots", ["C:\\data", "D:\\x"], 7)]) == {
        "roots": ["C:\\data", "D:\\x"]
    }
    levels = {s.text for s in admx.iter(f"{ADMX_NS}string")}
    assert levels == {"debug", "info", "warning", "error"}


def test_adml_defines_every_string_and_presentation_the_admx_uses():
    admx_text = (WINDOWS / "phiwatch.admx").read_text()
    adml = ET.parse(WINDOWS / "en-US" / "phiwatch.adml").getroot()
    strings = {s.get("id") for s in adml.iter(f"{ADMX_NS}string")}
    presentations = {p.get("id"): p for p in adml.iter(f"{ADMX_NS}presentation")}
    used_strings = set(re.findall(r"\$\(string\.(\w+)\)", admx_text))
    used_presentations = set(re.findall(r"\$\(presentation\.(\w+)\)", admx_text))
    assert used_strings and used_strings <= strings
    assert used_presentations == set(presentations)
    admx = ET.parse(WINDOWS / "phiwatch.admx").getroot()
    element_ids = {
        e.get("id") for p in admx.iter(f"{ADMX_NS}policy") for e in p.find(f"{ADMX_NS}elements")
    }
    ref_ids = {c.get("refId") for p in presentations.values() for c in p}
    assert ref_ids == element_ids
