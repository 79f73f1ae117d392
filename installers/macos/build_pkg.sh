#!/bin/sh
# Build the macOS installer: phiwatch-<version>.pkg (pkgbuild + productbuild), on a Mac.
#
#   installers/macos/build_pkg.sh --binary dist/phiwatch [--out dist] [--sign "Developer ID Installer: ..."]
#   installers/macos/build_pkg.sh --binary FILE --stage DIR    # lay out root/ and scripts/ only (any OS)
#
# The package installs /opt/phiwatch/bin/phiwatch (the PyInstaller binary built on macOS by
# scripts/build-binary) and /Library/LaunchAgents/com.phiwatch.agent.plist; its postinstall
# starts the agent for the console user. Managed settings are NOT in the package: they come
# from the configuration profile (make_profile.py), so one signed package serves every site.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
root_dir=$(cd "$here/../.." && pwd)
binary=""
out="$root_dir/dist"
sign=""
stage=""
while [ $# -gt 0 ]; do
  case "$1" in
    --binary) binary=$2; shift 2 ;;
    --out) out=$2; shift 2 ;;
    --sign) sign=$2; shift 2 ;;
    --stage) stage=$2; shift 2 ;;
    -h|--help) sed -n '2,10p' "$0"; exit 0 ;;
    *) echo "build_pkg: unknown argument: $1" >&2; exit 2 ;;
  esac
done
if [ -z "$binary" ] || [ ! -f "$binary" ]; then
  echo "build_pkg: --binary FILE is required (run scripts/build-binary on a Mac first)" >&2
  exit 2
fi
version=$(sed -n 's/^__version__ = "\(.*\)"$/\1/p' "$root_dir/agent/__init__.py")
[ -n "$version" ] || { echo "build_pkg: no __version__ in agent/__init__.py" >&2; exit 1; }

work=${stage:-$(mktemp -d)}
mkdir -p "$work/root/opt/phiwatch/bin" "$work/root/Library/LaunchAgents" "$work/scripts"
cp "$binary" "$work/root/opt/phiwatch/bin/phiwatch"
chmod 0755 "$work/root/opt/phiwatch/bin/phiwatch"
cp "$here/com.phiwatch.agent.plist" "$work/root/Library/LaunchAgents/com.phiwatch.agent.plist"
chmod 0644 "$work/root/Library/LaunchAgents/com.phiwatch.agent.plist"
cp "$here/scripts/preinstall" "$here/scripts/postinstall" "$work/scripts/"
chmod 0755 "$work/scripts/preinstall" "$work/scripts/postinstall"
sed "s/@VERSION@/$version/" "$here/Distribution.xml" > "$work/Distribution.xml"
if [ -n "$stage" ]; then
  echo "$stage"
  exit 0
fi

command -v pkgbuild >/dev/null || { echo "build_pkg: pkgbuild not found (macOS only)" >&2; exit 1; }
mkdir -p "$out"
# The binary is not a relocatable bundle: keep it where the LaunchAgent points.
pkgbuild --analyze --root "$work/root" "$work/component.plist"
/usr/libexec/PlistBuddy -c "Set :0:BundleIsRelocatable false" "$work/component.plist" 2>/dev/null || true
set -- --root "$work/root" --scripts "$work/scripts" --identifier com.phiwatch.agent \
       --version "$version" --install-location / --component-plist "$work/component.plist"
pkgbuild "$@" "$work/phiwatch-component.pkg"
if [ -n "$sign" ]; then
  productbuild --distribution "$work/Distribution.xml" --package-path "$work" \
    --sign "$sign" "$out/phiwatch-$version.pkg"
else
  productbuild --distribution "$work/Distribution.xml" --package-path "$work" \
    "$out/phiwatch-$version.pkg"
fi
rm -rf "$work"
echo "$out/phiwatch-$version.pkg"
