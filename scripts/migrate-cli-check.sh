#!/usr/bin/env bash
# Runs the README's migration commands for real, against the test servers, into fresh
# namespaces that are dropped afterwards:
#
#   sea-orm-cli migrate status|up|status|down -n 1|status|up|status -d migration -u <url> [-s <schema>]
#
# on PostgreSQL (a new schema through -s, which the migration binary must create), on
# MariaDB/MySQL (a new database) and on SQLite (a temp file); then once through
# `cargo run -q -p migration -- status`, and once the control-plane migrator
# (HJ_MIGRATOR=global) on PostgreSQL. Each `status` must show the expected number of
# migrations Applied and Pending: all Pending on a fresh namespace (that number, N, must be
# above zero), N Applied after `up`, one Pending after `down -n 1`.
#
#   scripts/migrate-cli-check.sh
#
# Environment: HJ_TEST_POSTGRES_URL (default postgres://postgres@127.0.0.1:5432/test),
# HJ_TEST_MYSQL_URL (default mysql://root@127.0.0.1:3306/test; the database is created and
# dropped with the `mariadb` or `mysql` client, so the URL's password must not be
# percent-encoded), SEA_ORM_CLI (default sea-orm-cli). Needs psql and the MariaDB client.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
export PATH="$HOME/.cargo/bin:$PATH"
# -u / -s below must be the only source of the URL and schema.
unset DATABASE_URL DATABASE_SCHEMA MIGRATION_DIR HJ_MIGRATOR

pg_url="${HJ_TEST_POSTGRES_URL:-postgres://postgres@127.0.0.1:5432/test}"
my_url="${HJ_TEST_MYSQL_URL:-mysql://root@127.0.0.1:3306/test}"
cli="${SEA_ORM_CLI:-sea-orm-cli}"
suffix="$$_$(date +%s)"
pg_schema="hj_mcheck_$suffix"
pg_global_schema="hj_mcheck_cp_$suffix"
my_db="hj_mcheck_$suffix"
tmp="$(mktemp -d)"
sqlite_url="sqlite://$tmp/check.db?mode=rwc"

log() { printf 'migrate-cli-check: %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

command -v "$cli" >/dev/null || die "$cli not found (cargo install sea-orm-cli@2.0.4 --locked)"
command -v psql >/dev/null || die "psql not found"
mysql_client="$(command -v mariadb || command -v mysql || true)"
[ -n "$mysql_client" ] || die "neither mariadb nor mysql (the client) found"

# mysql://user[:password]@host[:port]/database → the client's arguments and the server URL.
[[ "$my_url" =~ ^(mysql|mariadb)://([^:@/]+)(:([^@/]*))?@([^:/?]+)(:([0-9]+))?(/[^?]*)?(\?.*)?$ ]] ||
  die "cannot parse HJ_TEST_MYSQL_URL=$my_url"
my_user="${BASH_REMATCH[2]}"
my_pass="${BASH_REMATCH[4]}"
my_host="${BASH_REMATCH[5]}"
my_port="${BASH_REMATCH[7]:-3306}"
my_db_url="${BASH_REMATCH[1]}://${BASH_REMATCH[2]}${BASH_REMATCH[3]}@${BASH_REMATCH[5]}${BASH_REMATCH[6]}/$my_db${BASH_REMATCH[9]}"
mysql_sql() { MYSQL_PWD="$my_pass" "$mysql_client" --protocol=TCP -h "$my_host" -P "$my_port" -u "$my_user" -N -B -e "$1"; }

cleanup() {
  psql "$pg_url" -qAtc "DROP SCHEMA IF EXISTS \"$pg_schema\" CASCADE; DROP SCHEMA IF EXISTS \"$pg_global_schema\" CASCADE" \
    >/dev/null 2>&1 || log "could not drop the schemas $pg_schema, $pg_global_schema"
  mysql_sql "DROP DATABASE IF EXISTS \`$my_db\`" >/dev/null 2>&1 || log "could not drop the database $my_db"
  rm -rf "$tmp"
}
trap cleanup EXIT

# status <applied> <pending> <command…>: runs a `status` command, prints its output and fails
# unless it lists exactly that many migrations Applied and Pending (`any`: not checked).
# Sets $applied and $pending.
status() {
  local want_applied="$1" want_pending="$2" out
  shift 2
  out="$("$@")"
  printf '%s\n' "$out"
  applied="$(grep -c '\.\.\. Applied$' <<<"$out" || true)"
  pending="$(grep -c '\.\.\. Pending$' <<<"$out" || true)"
  [ "$want_applied" = any ] && want_applied="$applied"
  [ "$want_pending" = any ] && want_pending="$pending"
  [ "$applied" = "$want_applied" ] && [ "$pending" = "$want_pending" ] ||
    die "'$*' shows $applied applied and $pending pending; expected $want_applied and $want_pending"
}

# cycle <label> <sea-orm-cli migrate arguments…>: the README's commands on one fresh namespace.
cycle() {
  local label="$1" n
  shift
  log "$label: sea-orm-cli migrate … -d migration $*"
  status 0 any "$cli" migrate status -d migration "$@"
  n="$pending"
  [ "$n" -gt 0 ] || die "$label: status lists no migration"
  "$cli" migrate up -d migration "$@"
  status "$n" 0 "$cli" migrate status -d migration "$@"
  "$cli" migrate down -n 1 -d migration "$@"
  status "$((n - 1))" 1 "$cli" migrate status -d migration "$@"
  "$cli" migrate up -d migration "$@"
  status "$n" 0 "$cli" migrate status -d migration "$@"
  log "$label: ok ($n migrations: up, down -n 1, up)"
  migrations="$n"
}

# PostgreSQL: -s names a schema that does not exist yet.
[ -z "$(psql "$pg_url" -qAtc "SELECT 1 FROM pg_namespace WHERE nspname = '$pg_schema'")" ] ||
  die "schema $pg_schema exists already"
cycle postgres -u "$pg_url" -s "$pg_schema"
[ "$(psql "$pg_url" -qAtc "SELECT count(*) FROM information_schema.tables WHERE table_schema = '$pg_schema' AND table_name = 'users'")" = 1 ] ||
  die "postgres: no table users in schema $pg_schema"
pg_n="$migrations"

# MariaDB/MySQL: a new database.
mysql_sql "CREATE DATABASE \`$my_db\`"
cycle mysql -u "$my_db_url"
[ "$(mysql_sql "SELECT count(*) FROM information_schema.tables WHERE table_schema = '$my_db' AND table_name = 'users'")" = 1 ] ||
  die "mysql: no table users in database $my_db"
[ "$migrations" = "$pg_n" ] || die "mysql lists $migrations migrations, postgres $pg_n"

# SQLite: a new file.
cycle sqlite -u "$sqlite_url"
[ -s "$tmp/check.db" ] || die "sqlite: $tmp/check.db was not written"
[ "$migrations" = "$pg_n" ] || die "sqlite lists $migrations migrations, postgres $pg_n"

# The migration crate's own binary, as the README shows it.
log "cargo run -q -p migration -- status -u <postgres> -s $pg_schema"
status "$pg_n" 0 cargo run -q -p migration -- status -u "$pg_url" -s "$pg_schema"

# The control-plane migrator, into a schema of its own.
log "HJ_MIGRATOR=global cargo run -q -p migration -- up|status -u <postgres> -s $pg_global_schema"
HJ_MIGRATOR=global cargo run -q -p migration -- up -u "$pg_url" -s "$pg_global_schema"
status any 0 env HJ_MIGRATOR=global cargo run -q -p migration -- status -u "$pg_url" -s "$pg_global_schema"
[ "$applied" -gt 0 ] || die "global: status lists no migration"
[ "$(psql "$pg_url" -qAtc "SELECT count(*) FROM information_schema.tables WHERE table_schema = '$pg_global_schema' AND table_name = 'seaql_migrations_global'")" = 1 ] ||
  die "global: no seaql_migrations_global in schema $pg_global_schema"

log "ok: postgres (-s new schema), mysql (new database), sqlite (new file): $pg_n migrations each, up/status/down -n 1/up; migration binary status; global migrator"
