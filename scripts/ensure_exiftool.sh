#!/usr/bin/env bash
# The XMP export tests read every sidecar back with exiftool, the reader Lightroom's and
# darktable's users rely on (Debian's libimage-exiftool-perl). Idempotent: does nothing when it
# is already installed.
set -euo pipefail
if command -v exiftool >/dev/null 2>&1; then
    exit 0
fi
SUDO=""
if [ "$(id -u)" != "0" ]; then SUDO="sudo"; fi
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq libimage-exiftool-perl
