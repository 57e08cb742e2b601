# Sourced by the scripts that test against a real `ucp serve` (the SDK's tests, the README
# walkthrough, schemathesis): a fresh database of its own, migrated, a free port, and a server
# that is ready before the caller goes on. Everything is removed on exit.
#
#   source scripts/lib/live-server.sh
#   live_server_start <db-name-prefix> [--seed N] [extra env assignments...]
#   # then: $UCP_BASE_URL, $LIVE_DB_URL, $ucp, $LIVE_SERVER_LOG
# shellcheck shell=bash

live_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
ucp=${CARGO_TARGET_DIR:-$live_root/target}/debug/ucp
live_server_pid=""
live_db=""
live_admin_url=""

live_psql() { psql -X -q "$live_admin_url" -v ON_ERROR_STOP=1 "$@"; }

source "$live_root/scripts/lib/free-port.sh"

live_server_stop() {
  if [ -n "$live_server_pid" ]; then
    kill "$live_server_pid" 2>/dev/null || true
    wait "$live_server_pid" 2>/dev/null || true
    live_server_pid=""
  fi
  if [ -n "$live_db" ]; then
    live_psql -c "DROP DATABASE IF EXISTS \"$live_db\" WITH (FORCE)" >/dev/null 2>&1 || true
    live_db=""
  fi
}

live_server_start() {
  local prefix=$1; shift
  local seed=0
  if [ "${1:-}" = "--seed" ]; then seed=$2; shift 2; fi
  live_admin_url=$("$live_root/scripts/dev-db.sh")
  (cd "$live_root" && cargo build --quiet --bin ucp)
  live_db="${prefix}_$$_${RANDOM}"
  LIVE_DB_URL=$(printf '%s' "$live_admin_url" | sed -E "s#/[^/?]+(\?|$)#/$live_db\1#")
  live_psql -c "CREATE DATABASE \"$live_db\"" >/dev/null
  trap live_server_stop EXIT
  DATABASE_URL="$LIVE_DB_URL" "$ucp" migrate >/dev/null 2>&1
  if [ "$seed" -gt 0 ]; then
    # 20 or more: with the demo day of accesses, so that the privacy officer has alerts.
    local day=()
    [ "$seed" -lt 20 ] || day=(--access-day)
    DATABASE_URL="$LIVE_DB_URL" "$ucp" seed --demo --count "$seed" "${day[@]}" >/dev/null 2>&1
  fi
  local port
  port=$(free_port)
  LIVE_SERVER_LOG=$(mktemp "${TMPDIR:-/tmp}/ucp-live-server.XXXXXX")
  env DATABASE_URL="$LIVE_DB_URL" UCP_LISTEN="127.0.0.1:$port" RUST_LOG="${RUST_LOG:-warn}" "$@" \
    "$ucp" serve >"$LIVE_SERVER_LOG" 2>&1 &
  live_server_pid=$!
  UCP_BASE_URL="http://127.0.0.1:$port"
  local deadline=$((SECONDS + 30))
  until curl -sf -o /dev/null "$UCP_BASE_URL/readyz"; do
    if ! kill -0 "$live_server_pid" 2>/dev/null || [ $SECONDS -ge $deadline ]; then
      echo "live-server: ucp serve did not become ready; its log:" >&2
      cat "$LIVE_SERVER_LOG" >&2
      return 1
    fi
    sleep 0.1
  done
  export UCP_BASE_URL LIVE_DB_URL LIVE_SERVER_LOG
}
