#!/usr/bin/env bash
# Makes sure a MongoDB-wire test server (SecantusDB, see TEST-SERVICES.md) answers on
# 127.0.0.1:${HJ_SECANTUS_PORT:-27017}. Idempotent: installs SecantusDB in a virtualenv when
# it is missing, starts it in the background when it is not running, waits for a ping.
# Exits 1 with a message when the server cannot be had.
#
#   scripts/mongo-service.sh          check, install and start SecantusDB
#   scripts/mongo-service.sh stop     stop the server this script started (by its pid)
#
# Variables: HJ_SECANTUS_DIR (default /tmp/secantus: venv/, data/, secantusd.pid, secantusd.log),
# HJ_SECANTUS_PORT (default 27017). The tests read HJ_TEST_MONGO_URL
# (default mongodb://127.0.0.1:27017/?directConnection=true).
set -u

DIR="${HJ_SECANTUS_DIR:-/tmp/secantus}"
PORT="${HJ_SECANTUS_PORT:-27017}"
VERSION="0.7.0b3"
VENV="$DIR/venv"
PIDFILE="$DIR/secantusd.pid"
LOG="$DIR/secantusd.log"
URL="mongodb://127.0.0.1:$PORT/?directConnection=true"

log() { printf 'mongo-service: %s\n' "$*" >&2; }
die() { log "$*"; exit 1; }

ping_server() {
  [ -x "$VENV/bin/python" ] || return 1
  "$VENV/bin/python" - "$URL" >/dev/null 2>&1 <<'PY'
import sys, pymongo
pymongo.MongoClient(sys.argv[1], serverSelectionTimeoutMS=500).admin.command("ping")
PY
}

# The pid in the pid file, when that process is alive and is our secantusd.
running_pid() {
  local pid
  [ -f "$PIDFILE" ] || return 1
  pid="$(cat "$PIDFILE" 2>/dev/null)"
  case "$pid" in '' | *[!0-9]*) return 1 ;; esac
  [ -r "/proc/$pid/cmdline" ] || return 1
  tr '\0' ' ' <"/proc/$pid/cmdline" | grep -q 'secantusd' || return 1
  echo "$pid"
}

if [ "${1:-}" = "stop" ]; then
  if pid="$(running_pid)"; then
    log "stopping SecantusDB (pid $pid)"
    kill "$pid"
    rm -f "$PIDFILE"
  else
    log "SecantusDB is not running (no live pid in $PIDFILE)"
  fi
  exit 0
fi

mkdir -p "$DIR/data" || die "cannot create $DIR"

if [ ! -x "$VENV/bin/python" ]; then
  command -v python3 >/dev/null 2>&1 || die "python3 is missing (Debian: apt-get install python3 python3-venv)"
  log "creating virtualenv $VENV"
  python3 -m venv "$VENV" >&2 || die "python3 -m venv $VENV failed (Debian: apt-get install python3-venv)"
fi

if [ ! -x "$VENV/bin/secantusd-py" ] || ! "$VENV/bin/python" -c 'import pymongo' 2>/dev/null; then
  log "installing secantusdb==$VERSION into $VENV (first time: about a minute)"
  "$VENV/bin/pip" install --quiet --disable-pip-version-check "secantusdb==$VERSION" pymongo >&2 \
    || die "pip install secantusdb==$VERSION failed"
fi

if ping_server; then
  log "a MongoDB-wire server already answers at $URL"
  exit 0
fi

if ! running_pid >/dev/null; then
  log "starting SecantusDB on 127.0.0.1:$PORT (data in $DIR/data, log $LOG)"
  # A session of its own: the server outlives the shell (and process group) that started it.
  setsid nohup "$VENV/bin/secantusd-py" --host 127.0.0.1 --port "$PORT" --storage-path "$DIR/data" \
    >>"$LOG" 2>&1 </dev/null &
  echo $! >"$PIDFILE"
fi

for _ in $(seq 1 150); do
  if ping_server; then
    log "SecantusDB is up at $URL (pid $(cat "$PIDFILE"))"
    exit 0
  fi
  running_pid >/dev/null || die "SecantusDB exited while starting; last lines of $LOG: $(tail -n 5 "$LOG" 2>/dev/null)"
  sleep 0.2
done
die "SecantusDB did not answer a ping at $URL within 30 s; see $LOG"
