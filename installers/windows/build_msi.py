"""Build the Windows MSI from phiwatch.wxs, on Linux, with msitools (wixl + msibuild).

    python installers/windows/build_msi.py --bin-dir dist --out dist

--bin-dir holds phiwatch.exe and phiwatchw.exe, built on Windows by scripts/build-binary
(PyInstaller is not a cross-compiler). On Windows with the WiX 3 toolset the same source
builds with `candle -dVersion=... -dBinDir=... phiwatch.wxs && light phiwatch.wixobj`.

wixl implements most of WiX 3 but not everything this source uses, so this script fills the
gaps in the finished MSI with msibuild SQL rather than weakening the source:
- component conditions (write a policy value only when its msiexec property is given):
  wixl has no Component/Condition, so the Component table's Condition column is set after;
- Property/@Secure: added to SecureCustomProperties, which is what WiX compiles it into
  (public properties must be listed there to reach the elevated install sequence);
- Package/@Platform: passed as wixl's -a.
"""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ET
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
NS = "http://schemas.microsoft.com/wix/2006/wi"
W = f"{{{NS}}}"


class BuildError(Exception):
    """The MSI cannot be built; the message says why."""


def agent_version() -> str:
    match = re.search(
        r'^__version__ = "([^"]+)"', (ROOT / "agent" / "__init__.py").read_text(), re.M
    )
    if not match:
        raise BuildError("agent/__init__.py has no __version__")
    return match.group(1)


def split_source(wxs: Path) -> tuple[str, dict[str, str], list[str], str]:
    """(source wixl accepts, {component: condition}, secure properties, platform)."""
    ET.register_namespace("", NS)
    tree = ET.parse(wxs)
    conditions: dict[str, str] = {}
    for comp in tree.iter(f"{W}Component"):
        for cond in comp.findall(f"{W}Condition"):
            conditions[comp.get("Id")] = (cond.text or "").strip()
            comp.remove(cond)
    secure = []
    for prop in tree.iter(f"{W}Property"):
        if prop.attrib.pop("Secure", "no") == "yes":
            secure.append(prop.get("Id"))
    package = tree.find(f"{W}Product/{W}Package")
    platform = package.attrib.pop("Platform", "x64") if package is not None else "x64"
    return ET.tostring(tree.getroot(), encoding="unicode"), conditions, secure, platform


def sql_string(value: str) -> str:
    if "'" in value:
        raise BuildError(f"a quote in {value!r} cannot go through msibuild SQL")
    return f"'{value}'"


def build_msi(bin_dir: Path, out: Path, wxs: Path = HERE / "phiwatch.wxs") -> Path:
    for tool in ("wixl", "msibuild", "msiinfo"):
        if not shutil.which(tool):
            raise BuildError(f"{tool} not found: apt-get install wixl msitools")
    for exe in ("phiwatch.exe", "phiwatchw.exe"):
        if not (bin_dir / exe).is_file():
            raise BuildError(f"{bin_dir / exe} missing (build it on Windows: scripts/build-binary)")
    version = agent_version()
    source, conditions, secure, platform = split_source(wxs)
    out.mkdir(parents=True, exist_ok=True)
    msi = (out / f"phiwatch-{version}-{platform}.msi").resolve()
    with tempfile.TemporaryDirectory(prefix="phiwatch-msi-") as tmp:
        stripped = Path(tmp) / "phiwatch.wxs"
        stripped.write_text(source)
        # wixl resolves File/@Source relative to its working directory only.
        cmd = [
            "wixl",
            "-a",
            platform,
            "-D",
            f"Version={version}",
            "-D",
            "BinDir=.",
            "-o",
            str(msi),
            str(stripped),
        ]
        result = subprocess.run(cmd, cwd=bin_dir, capture_output=True, text=True, timeout=600)
        if result.returncode != 0:
            raise BuildError(f"wixl failed: {result.stderr.strip()[-2000:]}")
    queries = [
        f"UPDATE `Component` SET `Condition` = {sql_string(cond)} "
        f"WHERE `Component` = {sql_string(comp)}"
        for comp, cond in conditions.items()
    ]
    current = subprocess.run(
        ["msiinfo", "export", str(msi), "Property"], capture_output=True, text=True, check=True
    ).stdout
    existing = re.search(r"^SecureCustomProperties\t(.*)$", current, re.M)
    listed = [p for p in (existing.group(1).split(";") if existing else []) if p]
    value = ";".join(listed + [p for p in secure if p not in listed])
    if existing:
        queries.append(
            f"UPDATE `Property` SET `Value` = {sql_string(value)} "
            "WHERE `Property` = 'SecureCustomProperties'"
        )
    else:
        queries.append(
            "INSERT INTO `Property` (`Property`, `Value`) "
            f"VALUES ('SecureCustomProperties', {sql_string(value)})"
        )
    for query in queries:
        result = subprocess.run(
            ["msibuild", str(msi), "-q", query], capture_output=True, text=True, timeout=120
        )
        if result.returncode != 0:
            raise BuildError(f"msibuild failed on {query!r}: {result.stderr.strip()}")
    return msi


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--bin-dir", type=Path, required=True, help="folder with phiwatch.exe and phiwatchw.exe"
    )
    parser.add_argument("--out", type=Path, default=ROOT / "dist")
    args = parser.parse_args(argv)
    try:
        print(build_msi(args.bin_dir.resolve(), args.out))
    except BuildError as e:
        print(f"build_msi: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
