#!/usr/bin/env bash
# Installs the Debian/Ubuntu packages the build needs, when they are missing:
# cmake + nasm (libjpeg-turbo, vendored by turbojpeg-sys), g++ + libde265-dev (libheif,
# embedded by libheif-sys), pkg-config; python3-venv for the Python checks of `make test`;
# libtiff-tools (tiffcp) so that the tests check our TIFF outputs with libtiff.
# As root with apt-get, otherwise with sudo.
set -euo pipefail
packages=(cmake nasm g++ pkg-config libde265-dev python3-venv libtiff-tools)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi
echo "installing missing system packages: ${missing[*]}" >&2
if [ "$(id -u)" -eq 0 ]; then
  sudo=()
elif command -v sudo >/dev/null; then
  sudo=(sudo)
else
  echo "error: need root or sudo to install: ${missing[*]}" >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
"${sudo[@]}" apt-get update -qq
"${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
