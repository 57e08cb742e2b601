#!/usr/bin/env bash
# The HA drill (`make test-ha`): a fresh pg_auto_failover cluster (scripts/ha.sh), the service
# on it following the primary (multi-host DATABASE_URL, target_session_attrs=read-write) and
# reading from the standby (UCP_REPLICA_URL, target_session_attrs=read-only), then
# tests/tools/ha_drill.py: writers, readers and a feed follower while the primary is
# SIGKILLed, switched back and the standby restarted. Prints the figures; exits non-zero when
# a check fails. The cluster is removed at the end.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
say() { printf 'test-ha: %s\n' "$*" >&2; }
source scripts/lib/free-port.sh

cargo build --quiet --bin ucp
ucp=${CARGO_TARGET_DIR:-$root/target}/debug/ucp
scripts/ha.sh down >/dev/null 2>&1 || true
server=""
cleanup() {
  [ -n "$server" ] && kill "$server" 2>/dev/null && wait "$server" 2>/dev/null || true
  scripts/ha.sh down >/dev/null 2>&1 || true
}
trap cleanup EXIT
drill() {
  # Once more from scratch if the cluster does not come up (a fresh-clone run once saw the monitor
  # not answer its first check in time; the cause was not found).
  scripts/ha.sh up >/dev/null || { scripts/ha.sh down >/dev/null 2>&1; scripts/ha.sh up >/dev/null; }
  eval "$(scripts/ha.sh env)"
  export UCP_JWT_SECRET=ha-drill-secret-0123456789
  DATABASE_URL="$HA_URL" "$ucp" migrate >/dev/null 2>&1
  replica="${HA_URL/target_session_attrs=read-write/target_session_attrs=read-only}"
  port=$(free_port)
  log=$(mktemp "${TMPDIR:-/tmp}/ucp-ha-server.XXXXXX")
  DATABASE_URL="$HA_URL" UCP_REPLICA_URL="$replica" UCP_LISTEN="127.0.0.1:$port" UCP_RATE_LIMIT=0 UCP_RATE_LIMIT_ANONYMOUS=0 \
    UCP_DB_POOL_WAIT=2 RUST_LOG=warn "$ucp" serve >"$log" 2>&1 &
  server=$!
  deadline=$((SECONDS + 30))
  until curl -sf -o /dev/null "http://127.0.0.1:$port/readyz"; do
    [ $SECONDS -lt $deadline ] || { cat "$log" >&2; say "the server did not become ready"; return 1; }
    sleep 0.1
  done
  clinician=$("$ucp" token --role clinician --org F84001 --name "HA drill" --ttl 1h)
  dispatch=$("$ucp" token --role dispatch --org RRU --name "HA drill follower" --ttl 1h)
  say "cluster: $(scripts/ha.sh state | tr '\n' ' ')"
  # A node that comes back after a kill replays the WAL written meanwhile under the drill's
  # full write load; on 2 cores that was once seen to take longer than ha.sh's 60 s default
  # (node1 "demoted|catchingup" at the deadline). The drill's own call times out at 120 s.
  HA_WAIT=${HA_WAIT:-110} python3 tests/tools/ha_drill.py "http://127.0.0.1:$port" "$clinician" "$dispatch" "$root/scripts/ha.sh" "$HA_URL"
}

# A drill whose cluster never failed over (no writable primary, so no write acknowledged within
# 120 s of the kill: "ha-drill: no failover") tested pg_auto_failover, not the service: one
# fresh-clone run saw node2 stay in wait_primary and both nodes go down, and the same commit's
# next run failed over in 9 s. Such a drill is shown in full and run once more on a fresh
# cluster; any other failure fails at once.
# (Not through a pipe: the server's pid must stay in this shell for the cleanup.)
first=$(mktemp "${TMPDIR:-/tmp}/ucp-ha-drill.XXXXXX")
if drill >"$first" 2>&1; then
  cat "$first" >&2
  exit 0
fi
cat "$first" >&2
if ! grep -q '^ha-drill: no failover' "$first"; then
  exit 1
fi
say "the cluster never failed over (above); once more on a fresh cluster"
cleanup
server=""
drill
