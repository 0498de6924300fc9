#!/usr/bin/env bash
# Regenerates entity/src from the migrations, through a scratch PostgreSQL database.
#
#   scripts/generate-entities.sh           # rewrite entity/src
#   scripts/generate-entities.sh --check   # generate into a temp dir, diff against entity/src,
#                                          # exit 1 (printing the diff) on drift
#
# Environment: HJ_ENTITY_PG_URL — server URL without a database
# (default postgres://postgres@127.0.0.1:5432); SEA_ORM_CLI (default sea-orm-cli).
# Entities are generated from PostgreSQL only (see DESIGN.md, "Portability rules"), in the
# public schema of a fresh database (never with -s), and are never edited by hand.
set -euo pipefail

check=0
case "${1:-}" in
  --check) check=1 ;;
  "") ;;
  *) echo "usage: $0 [--check]" >&2; exit 2 ;;
esac

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
server="${HJ_ENTITY_PG_URL:-postgres://postgres@127.0.0.1:5432}"
server="${server%/}"
cli="${SEA_ORM_CLI:-sea-orm-cli}"
db="hj_entities_$$_$(date +%s)"
maint="$server/postgres"
url="$server/$db"

command -v "$cli" >/dev/null || { echo "error: $cli not found (cargo install sea-orm-cli@2.0.4 --locked)" >&2; exit 1; }
command -v psql >/dev/null || { echo "error: psql not found" >&2; exit 1; }
if ! psql "$maint" -qAtc 'select 1' >/dev/null 2>&1; then
  echo "error: PostgreSQL is not reachable at $maint" >&2
  echo "start it with: pg_ctlcluster --skip-systemctl-redirect \$(ls /etc/postgresql) main start" >&2
  exit 1
fi

tmp="$(mktemp -d)"
cleanup() {
  psql "$maint" -qAtc "DROP DATABASE IF EXISTS \"$db\"" >/dev/null 2>&1 || true
  rm -rf "$tmp"
}
trap cleanup EXIT

psql "$maint" -qAtc "CREATE DATABASE \"$db\"" >/dev/null
# Apply every migration (the migration crate's own CLI, as `sea-orm-cli migrate` does).
# Both migrators: the data plane (Migrator) and the control plane of the global database
# (GlobalMigrator, HJ_MIGRATOR=global), so entity/ holds the tables of both.
(cd "$root" && cargo run --quiet -p migration -- up -u "$url" &&
  HJ_MIGRATOR=global cargo run --quiet -p migration -- up -u "$url") >"$tmp/migrate.log" 2>&1 || {
  cat "$tmp/migrate.log" >&2
  exit 1
}

out="$tmp/entity"
mkdir -p "$out"
# `seaql_migrations` is skipped by sea-orm-cli's default --ignore-tables; the global
# migrator's history table is skipped explicitly.
env -u DATABASE_SCHEMA -u DATABASE_URL "$cli" generate entity \
  -u "$url" -o "$out" --with-serde both \
  --ignore-tables seaql_migrations,seaql_migrations_global >"$tmp/generate.log" 2>&1 || {
  cat "$tmp/generate.log" >&2
  exit 1
}

# Format with the repository's rustfmt.toml so that `cargo fmt --all` never fights the check.
rustfmt --edition 2024 --config-path "$root/rustfmt.toml" "$out"/*.rs

if [ "$check" = 1 ]; then
  if diff -ru "$root/entity/src" "$out"; then
    echo "entity/src is up to date with the migrations"
  else
    echo "error: entity/src drifted from the migrations; run scripts/generate-entities.sh (make entities)" >&2
    exit 1
  fi
else
  rm -rf "$root/entity/src"
  mkdir -p "$root/entity/src"
  cp -R "$out/." "$root/entity/src/"
  echo "entity/src regenerated from $(ls "$root/migration/src" | grep -c '^m[0-9]') migrations"
fi
