#!/usr/bin/env bash
# Install Debian packages that are missing.
#   scripts/ensure-apt.sh              -> chromium fonts-wqy-microhei
#   scripts/ensure-apt.sh pkg1 pkg2    -> just those
# Runs `apt-get update` once, and only when something is missing.
# Uses sudo only when not running as root.
set -euo pipefail

if [[ $# -gt 0 ]]; then
    packages=("$@")
else
    packages=(chromium fonts-wqy-microhei)
fi

if ! command -v dpkg >/dev/null 2>&1 || ! command -v apt-get >/dev/null 2>&1; then
    echo "ensure-apt: no dpkg/apt-get here (not Debian?); please install manually: ${packages[*]}" >&2
    exit 0
fi

installed() {
    dpkg -s "$1" 2>/dev/null | grep -q '^Status: install ok installed$'
}

missing=()
for pkg in "${packages[@]}"; do
    installed "$pkg" || missing+=("$pkg")
done

if [[ ${#missing[@]} -eq 0 ]]; then
    exit 0
fi

if [[ $(id -u) -eq 0 ]]; then
    as_root=()
elif command -v sudo >/dev/null 2>&1; then
    as_root=(sudo)
else
    echo "ensure-apt: need root to install ${missing[*]}, and sudo is not available" >&2
    exit 1
fi

echo "ensure-apt: installing ${missing[*]}"
"${as_root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update
"${as_root[@]}" env DEBIAN_FRONTEND=noninteractive \
    apt-get install -y --no-install-recommends "${missing[@]}"
