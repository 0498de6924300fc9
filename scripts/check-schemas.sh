#!/usr/bin/env bash
# Fails when schemas/*.schema.json drift from the Rust types: exports the schemas into a
# temporary folder with the project's own CLI and diffs them against the committed ones.
# Fix a drift with: cargo run -- schema export schemas
set -euo pipefail
cd "$(dirname "$0")/.."
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
cargo run --quiet --bin hellojohn-store -- schema export "$tmp" >/dev/null
if ! diff -ru schemas "$tmp"; then
  echo "schemas/ drifted from the Rust types: run 'cargo run -- schema export schemas' and commit" >&2
  exit 1
fi
echo "schemas/ match the Rust types"
