#!/bin/sh
# phiwatch uninstall for macOS: run by IT only (as root, e.g. a Jamf policy or an Intune
# shell script), never offered to the user. Stops every user's agent, removes the files
# and the package receipt. The configuration profiles are removed from the MDM console.
set -eu
if [ "$(id -u)" != 0 ]; then
  echo "phiwatch uninstall: run as root (IT)" >&2
  exit 1
fi
label=com.phiwatch.agent
for uid in $(ps -axo uid=,comm= | awk '$2 ~ /phiwatch$/ {print $1}' | sort -u); do
  launchctl bootout "gui/$uid/$label" 2>/dev/null || true
done
rm -f "/Library/LaunchAgents/$label.plist"
rm -rf /opt/phiwatch
pkgutil --forget "$label" >/dev/null 2>&1 || true
echo "phiwatch removed; the server will show this device as silent until it is retired." >&2
