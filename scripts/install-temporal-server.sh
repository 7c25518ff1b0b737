#!/usr/bin/env bash
# Builds the real Temporal server (Postgres persistence, several history shards: what production
# runs) once from its Go module into ~/.cache/assetflow/temporal-server-<version>, and reuses it:
#   server   the server binary (`server --root DIR --config config --env development start`)
#   sql      temporal-sql-tool (create-database, setup-schema, update-schema)
#   schema/  the Postgres schemas it applies (schema/postgresql/v12/{temporal,visibility}/versioned)
#   config/  the Postgres config template and its dynamic config, which test/support/temporal-server.ts fills in
# test/scale-out.test.ts needs it; set TEMPORAL_SERVER_DIR to use another folder.
set -euo pipefail
version="${TEMPORAL_SERVER_VERSION:-1.29.2}"
target="${TEMPORAL_SERVER_DIR:-$HOME/.cache/assetflow/temporal-server-$version}"

if [ -x "$target/server" ] && [ -x "$target/sql" ] && [ -f "$target/config/development-postgres12.yaml" ] && [ -d "$target/schema/postgresql/v12/visibility/versioned" ]; then
  exit 0
fi
if ! command -v go >/dev/null 2>&1; then
  echo "go is needed to build the Temporal server $version into $target (https://go.dev/dl/)" >&2
  exit 1
fi

echo "building the Temporal server $version into $target (a few minutes, once) ..."
mkdir -p "$target"
GOBIN="$target" go install "go.temporal.io/server/cmd/server@v$version"
GOBIN="$target" go install "go.temporal.io/server/cmd/tools/sql@v$version"

module="$(go env GOMODCACHE)/go.temporal.io/server@v$version"
rm -rf "$target/schema" "$target/config"
mkdir -p "$target/schema/postgresql" "$target/config"
cp -R "$module/schema/postgresql/v12" "$target/schema/postgresql/"
cp "$module/config/development-postgres12.yaml" "$target/config/"
cp -R "$module/config/dynamicconfig" "$target/config/"
# The module cache is read-only; the copies must be removable and writable like any cache.
chmod -R u+w "$target/schema" "$target/config"
echo "Temporal server $version ready in $target"
