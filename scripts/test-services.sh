#!/usr/bin/env bash
# Makes sure every server the test suite talks to is up on loopback, starting the ones that
# are installed but stopped. Prints what is missing and exits 1 when a server cannot be had.
#
#   scripts/test-services.sh          check and start PostgreSQL, MariaDB, Redis, SecantusDB
#                                     and PgBouncer
#
# PgBouncer (transaction pooling, 127.0.0.1:6432, in front of the PostgreSQL above) is the
# one server the script also installs: as root, Debian's `pgbouncer` package when it is
# missing. It runs as the `postgres` user (PgBouncer refuses root) from a config of its own
# under /var/lib/hellojohn-pgbouncer (not the distro's /etc/pgbouncer), log and pid beside it.
# Running it again while something listens on a port does nothing for that server.
#
# Addresses can be changed with HJ_TEST_POSTGRES_URL / HJ_TEST_MYSQL_URL / HJ_TEST_REDIS_URL /
# HJ_TEST_MONGO_URL / HJ_TEST_PGBOUNCER_URL
# (the tests read the same variables); this script only checks the default ports.
set -u

log() { printf 'test-services: %s\n' "$*" >&2; }

port_open() { # host port
  (exec 3<>"/dev/tcp/$1/$2") 2>/dev/null
}

wait_port() { # name host port seconds
  local i
  for ((i = 0; i < $4 * 10; i++)); do
    port_open "$2" "$3" && return 0
    sleep 0.1
  done
  log "$1 did not open $2:$3 within $4 s"
  return 1
}

missing=()

ensure_postgres() {
  port_open 127.0.0.1 5432 && return 0
  if command -v pg_ctlcluster >/dev/null 2>&1 && [ -d /etc/postgresql ]; then
    log "starting PostgreSQL"
    pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -n 1)" main start >&2 || true
    wait_port PostgreSQL 127.0.0.1 5432 30 && return 0
  fi
  missing+=("PostgreSQL on 127.0.0.1:5432 (Debian: apt-get install postgresql; trust auth for user postgres, database test)")
}

ensure_mariadb() {
  port_open 127.0.0.1 3306 && return 0
  if [ -x /usr/sbin/mariadbd ]; then
    log "starting MariaDB"
    install -d -o mysql -g mysql /run/mysqld 2>/dev/null || true
    start-stop-daemon --start --oknodo --background --exec /usr/sbin/mariadbd >&2 || true
    wait_port MariaDB 127.0.0.1 3306 60 && return 0
  fi
  missing+=("MariaDB on 127.0.0.1:3306 (Debian: apt-get install mariadb-server; root with an empty password, database test)")
}

ensure_redis() {
  port_open 127.0.0.1 6379 && return 0
  if command -v redis-server >/dev/null 2>&1; then
    log "starting Redis"
    redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" --appendonly no >&2 || true
    wait_port Redis 127.0.0.1 6379 15 && return 0
  fi
  missing+=("Redis on 127.0.0.1:6379 (Debian: apt-get install redis-server)")
}

ensure_mongo() {
  "$(dirname "$0")/mongo-service.sh" ||
    missing+=("SecantusDB (MongoDB wire protocol) on 127.0.0.1:27017: scripts/mongo-service.sh failed (needs python3 with venv; pip downloads secantusdb the first time)")
}

# PgBouncer in transaction pooling mode on 127.0.0.1:6432, every database name passed to the
# PostgreSQL on 127.0.0.1:5432 (so `…:6432/test` is the test database), trust auth for
# `postgres` (the server trusts loopback too), the admin console (`pgbouncer` database) open to
# `postgres`. extra_float_digits is a startup parameter sqlx sends and 1.18 does not track;
# `options` is deliberately NOT ignored: a client that puts search_path there must fail
# loudly ("unsupported startup parameter: options"), not lose it silently and run in public.
PGBOUNCER_DIR=/var/lib/hellojohn-pgbouncer

pgbouncer_bin() {
  command -v pgbouncer 2>/dev/null || { [ -x /usr/sbin/pgbouncer ] && echo /usr/sbin/pgbouncer; }
}

ensure_pgbouncer() {
  port_open 127.0.0.1 6432 && return 0
  local bin dir run_as=""
  bin="$(pgbouncer_bin)"
  if [ -z "$bin" ] && [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null 2>&1; then
    log "installing PgBouncer (Debian package pgbouncer)"
    { DEBIAN_FRONTEND=noninteractive apt-get install -y -qq pgbouncer ||
      { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq pgbouncer; }; } >&2
    bin="$(pgbouncer_bin)"
    # Where init is systemd, the package starts its own instance on localhost:6432 from
    # /etc/pgbouncer (no databases): stop it so that ours can have the port.
    if port_open 127.0.0.1 6432; then
      log "stopping the distro's pgbouncer service (it has no databases)"
      { systemctl stop pgbouncer || service pgbouncer stop; } >/dev/null 2>&1 || true
      systemctl disable pgbouncer >/dev/null 2>&1 || true
      sleep 1
    fi
  fi
  if [ -z "$bin" ]; then
    missing+=("PgBouncer on 127.0.0.1:6432 (Debian: apt-get install pgbouncer; this script then writes its config and starts it)")
    return 0
  fi
  if [ "$(id -u)" -eq 0 ]; then
    if ! id postgres >/dev/null 2>&1; then
      missing+=("PgBouncer on 127.0.0.1:6432: PgBouncer refuses to run as root and there is no postgres user to run it as")
      return 0
    fi
    run_as=postgres
    dir="$PGBOUNCER_DIR"
  else
    dir="${XDG_RUNTIME_DIR:-/tmp}/hellojohn-pgbouncer-$(id -u)"
  fi
  install -d -m 0750 "$dir" || { missing+=("PgBouncer on 127.0.0.1:6432: cannot create $dir"); return 0; }
  cat >"$dir/pgbouncer.ini" <<EOF
; written by scripts/test-services.sh (hellojohn-store tests); rewritten at every start
[databases]
* = host=127.0.0.1 port=5432

[pgbouncer]
listen_addr = 127.0.0.1
listen_port = 6432
unix_socket_dir = $dir
pool_mode = transaction
auth_type = trust
auth_file = $dir/userlist.txt
admin_users = postgres
stats_users = postgres
ignore_startup_parameters = extra_float_digits
max_client_conn = 2000
default_pool_size = 20
logfile = $dir/pgbouncer.log
pidfile = $dir/pgbouncer.pid
EOF
  printf '"postgres" ""\n' >"$dir/userlist.txt"
  # A pid file left by an instance that died would make -d refuse to start.
  if [ -f "$dir/pgbouncer.pid" ] && ! kill -0 "$(cat "$dir/pgbouncer.pid" 2>/dev/null)" 2>/dev/null; then
    rm -f "$dir/pgbouncer.pid"
  fi
  [ -z "$run_as" ] || chown -R "$run_as:" "$dir"
  log "starting PgBouncer ($("$bin" --version 2>/dev/null | head -n 1); transaction pooling; $dir/pgbouncer.ini)"
  # max_client_conn needs about as many descriptors; the usual soft limit is 1024 (and
  # runuser's PAM session resets it), so raise it in the shell that execs PgBouncer.
  local start='ulimit -n 4096 2>/dev/null || true; exec "$0" -d "$1"'
  if [ -n "$run_as" ]; then
    runuser -u "$run_as" -- sh -c "$start" "$bin" "$dir/pgbouncer.ini" >&2 || true
  else
    sh -c "$start" "$bin" "$dir/pgbouncer.ini" >&2 || true
  fi
  wait_port PgBouncer 127.0.0.1 6432 15 && return 0
  log "the end of PgBouncer's log ($dir/pgbouncer.log):"
  tail -n 20 "$dir/pgbouncer.log" >&2 2>/dev/null || true
  missing+=("PgBouncer on 127.0.0.1:6432 (installed at $bin but it did not start; see $dir/pgbouncer.log)")
}

ensure_postgres
ensure_mariadb
ensure_redis
ensure_mongo
ensure_pgbouncer

if [ ${#missing[@]} -gt 0 ]; then
  log "cannot run the test suite; missing servers:"
  for m in "${missing[@]}"; do log "  - $m"; done
  exit 1
fi
log "PostgreSQL, MariaDB, Redis, SecantusDB (MongoDB) and PgBouncer (transaction pooling, 127.0.0.1:6432) are up"
