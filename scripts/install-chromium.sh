#!/usr/bin/env bash
# Chromium for the browser tests (test/support/browser.ts): Debian's `chromium` package, or the
# browser CHROMIUM_PATH names. Installs it with apt-get when root and it is missing; otherwise
# says exactly what to run, and fails, so `npm test` does not fail later in every browser test.
set -euo pipefail
executable="${CHROMIUM_PATH:-/usr/bin/chromium}"

[ -x "$executable" ] && exit 0
if [ -n "${CHROMIUM_PATH:-}" ]; then
  echo "CHROMIUM_PATH names $CHROMIUM_PATH, which is not an executable: point it at a Chromium or Chrome binary, or unset it to use Debian's chromium" >&2
  exit 1
fi
if [ "$(id -u)" != 0 ]; then
  echo "the browser tests need Chromium at /usr/bin/chromium; install it with" >&2
  echo "    sudo apt-get update && sudo apt-get install -y chromium" >&2
  echo "or set CHROMIUM_PATH to a Chromium or Chrome binary you have" >&2
  exit 1
fi
if ! command -v apt-get >/dev/null 2>&1; then
  echo "the browser tests need Chromium and this machine has no apt-get: install Chromium and set CHROMIUM_PATH to its binary" >&2
  exit 1
fi
echo "installing Chromium for the browser tests (Debian's chromium package) ..."
apt-get update -qq
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
