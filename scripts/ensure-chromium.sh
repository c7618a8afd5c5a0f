#!/usr/bin/env bash
# Makes sure Debian's Chromium is at /usr/bin/chromium for the browser end-to-end tests.
# The tests drive it with playwright-core; no tool ever downloads a browser of its own.
set -euo pipefail

chromium=/usr/bin/chromium
if [ -x "$chromium" ]; then
  exit 0
fi

fail() {
  printf 'ensure-chromium: %s\n' "$*" >&2
  printf 'ensure-chromium: install it yourself with `apt-get install -y chromium` (Debian) and run the tests again.\n' >&2
  exit 1
}

command -v apt-get >/dev/null 2>&1 || fail "$chromium is missing and apt-get is not available on this machine."

sudo=()
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null 2>&1 || fail "$chromium is missing and installing it needs root (no sudo here)."
  sudo=(sudo -n)
fi

echo "ensure-chromium: $chromium is missing; installing Debian's chromium package (about a minute)..."
export DEBIAN_FRONTEND=noninteractive
# The package lists may be missing or stale on a fresh machine: refresh once, then install.
if ! "${sudo[@]}" apt-get install -y chromium >/tmp/ensure-chromium.log 2>&1; then
  "${sudo[@]}" apt-get update >>/tmp/ensure-chromium.log 2>&1 || fail "apt-get update failed (see /tmp/ensure-chromium.log)."
  "${sudo[@]}" apt-get install -y chromium >>/tmp/ensure-chromium.log 2>&1 ||
    fail "apt-get install -y chromium failed (see /tmp/ensure-chromium.log)."
fi
[ -x "$chromium" ] || fail "the chromium package installed, but $chromium is still missing."
echo "ensure-chromium: $("$chromium" --version 2>/dev/null || echo chromium) installed."
