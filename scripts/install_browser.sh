#!/usr/bin/env bash
# Install Debian's headless-capable Chromium and its chromedriver for the dashboard browser test
# (tests/test_dashboard.py). Idempotent: does nothing when both binaries are already there.
set -euo pipefail

CHROMIUM=/usr/bin/chromium
CHROMEDRIVER=/usr/bin/chromedriver

if [ -x "$CHROMIUM" ] && [ -x "$CHROMEDRIVER" ]; then
  exit 0
fi

if [ "$(id -u)" -eq 0 ]; then
  as_root=""
elif command -v sudo >/dev/null 2>&1; then
  as_root="sudo"
else
  echo "error: installing chromium and chromium-driver needs root or sudo; run as root:" \
    "apt-get install chromium chromium-driver" >&2
  exit 1
fi

if ! command -v apt-get >/dev/null 2>&1; then
  echo "error: apt-get not found; install chromium and its chromedriver at $CHROMIUM and" \
    "$CHROMEDRIVER by hand" >&2
  exit 1
fi

echo "installing chromium and chromium-driver with apt-get"
$as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq
$as_root env DEBIAN_FRONTEND=noninteractive \
  apt-get install -y -qq --no-install-recommends chromium chromium-driver >/dev/null

for binary in "$CHROMIUM" "$CHROMEDRIVER"; do
  if [ ! -x "$binary" ]; then
    echo "error: apt-get finished but $binary is missing" >&2
    exit 1
  fi
done
