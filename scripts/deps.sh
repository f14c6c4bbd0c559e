#!/usr/bin/env bash
# Installs what building and testing ROCmForge needs on Debian 12 (idempotent).
set -euo pipefail
pkgs="build-essential cmake pkg-config python3 python3-pip unzip clang libclang-rt-14-dev
      libpcre2-dev libutf8proc-dev libjansson-dev libmicrohttpd-dev
      gcc-aarch64-linux-gnu qemu-user-static"
missing=""
for p in $pkgs; do dpkg -s "$p" >/dev/null 2>&1 || missing="$missing $p"; done
if [ -n "$missing" ]; then
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq $missing
fi
# Independent references used by the tests (pinned).
python3 -m pip install -q --disable-pip-version-check -r "$(dirname "$0")/requirements-test.txt"
