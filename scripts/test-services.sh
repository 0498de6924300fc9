#!/usr/bin/env bash
# Makes sure every server the test suite talks to is up on loopback, starting the ones that
# are installed but stopped. Prints what is missing and exits 1 when a server cannot be had.
#
#   scripts/test-services.sh          check and start PostgreSQL, MariaDB, Redis, SecantusDB
#
# Addresses can be changed with HJ_TEST_POSTGRES_URL / HJ_TEST_MYSQL_URL / HJ_TEST_REDIS_URL /
# HJ_TEST_MONGO_URL
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

ensure_postgres
ensure_mariadb
ensure_redis
ensure_mongo

if [ ${#missing[@]} -gt 0 ]; then
  log "cannot run the test suite; missing servers:"
  for m in "${missing[@]}"; do log "  - $m"; done
  exit 1
fi
log "PostgreSQL, MariaDB, Redis and SecantusDB (MongoDB) are up"
