#!/usr/bin/env bash
# The worst night, as a test: a scratch PostgreSQL cluster of its own (never the shared one,
# whose other tests must not see it restart), `ucp serve` on it, writers and readers running
# (tests/tools/fault_load.py), and meanwhile:
#   1. PostgreSQL restarted in fast mode;
#   2. PostgreSQL restarted in immediate mode (a crash: recovery from the WAL);
#   3. `ucp serve` SIGKILLed mid-write, and started again.
# Afterwards (tests/tools/fault_verify.py and `ucp check`): every acknowledged write is in the log
# and the read models, no create was applied twice, no 5xx other than 503, every 503 carried
# Retry-After, the server recovered from both restarts without being restarted, and the read
# models equal a replay of the log. Prints the outage each fault caused.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
say() { printf 'fault-test: %s\n' "$*" >&2; }

admin_url=$(scripts/dev-db.sh) # makes sure PostgreSQL's binaries are installed
source "$root/scripts/lib/pg-bin.sh"
bindir=$(pg_bindir initdb || true)
[ -n "$bindir" ] || { say "no PostgreSQL server binaries"; exit 1; }
cargo build --quiet --bin ucp
ucp=${CARGO_TARGET_DIR:-$root/target}/debug/ucp
python=python3
[ -x "$root/.local/venv/bin/python" ] && python=$root/.local/venv/bin/python

work=$(mktemp -d "${TMPDIR:-/tmp}/ucp-fault.XXXXXX")
data=$work/pg
owner=()
mkdir -p "$data"
chmod 700 "$data"
if [ "$(id -u)" -eq 0 ]; then
  chown postgres: "$work" "$data"
  owner=(runuser -u postgres --)
fi
pg() { "${owner[@]}" "$bindir/pg_ctl" -D "$data" "$@"; }
server=""
cleanup() {
  [ -n "$server" ] && kill -9 "$server" 2>/dev/null || true
  pg stop -m immediate >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT

source "$root/scripts/lib/free-port.sh"
pg_port=$(free_port)
"${owner[@]}" "$bindir/initdb" -D "$data" -U postgres --auth=trust -E UTF8 --locale=C.UTF-8 >"$work/initdb.log" 2>&1 ||
  { cat "$work/initdb.log" >&2; exit 1; }
opts="-p $pg_port -k $data -c listen_addresses=127.0.0.1 -c fsync=on"
pg -l "$data/server.log" -w -t 60 -o "$opts" start >/dev/null
"$bindir/psql" -X -q -h 127.0.0.1 -p "$pg_port" -U postgres -d postgres -c "CREATE DATABASE ucp"
export DATABASE_URL="postgres://postgres@127.0.0.1:$pg_port/ucp"
"$ucp" migrate >/dev/null 2>&1

export UCP_JWT_SECRET=fault-test-secret-0123456789
api_port=$(free_port)
export UCP_BASE_URL="http://127.0.0.1:$api_port"
start_server() {
  UCP_LISTEN="127.0.0.1:$api_port" UCP_DB_POOL_WAIT=2 UCP_RATE_LIMIT=0 UCP_RATE_LIMIT_ANONYMOUS=0 RUST_LOG=warn \
    "$ucp" serve >>"$work/server.log" 2>&1 &
  server=$!
  local deadline=$((SECONDS + 30))
  until curl -sf -o /dev/null "$UCP_BASE_URL/healthz"; do
    [ $SECONDS -lt $deadline ] || { cat "$work/server.log" >&2; say "ucp serve did not start"; exit 1; }
    sleep 0.1
  done
}
start_server
first_server=$server
export UCP_TOKEN_CLINICIAN=$("$ucp" token --role clinician --org F84001 --name "Fault Writer" --ttl 1h)
export UCP_TOKEN_AMBULANCE=$("$ucp" token --role ambulance --org RRU --name "Fault Reader" --ttl 1h)
export STOP_FILE=$work/stop REPORT_FILE=$work/report.json

"$python" tests/tools/fault_load.py &
load=$!

# Milliseconds from the fault (the time given, in ns) until a write through the service succeeds
# again: the outage as a client sees it. With a deadline.
until_writable() {
  local started=$1 deadline=$((SECONDS + 60))
  while [ $SECONDS -lt $deadline ]; do
    code=$(curl -s -o /dev/null -w '%{http_code}' -X POST "$UCP_BASE_URL/v1/care-plans" \
      -H "Authorization: Bearer $UCP_TOKEN_CLINICIAN" -H 'Content-Type: application/json' \
      -d '{}' || true)
    # 422: the request reached the application and the database answered its checks.
    if [ "$code" = "422" ] && curl -sf -o /dev/null "$UCP_BASE_URL/readyz"; then
      echo "$(( ($(date +%s%N) - started) / 1000000 )) ms"; return 0
    fi
    sleep 0.2
  done
  say "not writable again within 60 s"; return 1
}

sleep 4
say "restarting PostgreSQL (fast) under load"
t0=$(date +%s%N)
pg -m fast -w -t 60 -o "$opts" restart >/dev/null
fast=$(until_writable "$t0")
sleep 4
say "restarting PostgreSQL (immediate: a crash, recovered from the WAL) under load"
t0=$(date +%s%N)
pg -m immediate -w -t 60 -o "$opts" restart >/dev/null
immediate=$(until_writable "$t0")
kill -0 "$first_server" || { say "ucp serve died when PostgreSQL restarted"; exit 1; }
sleep 4
say "SIGKILL to ucp serve mid-write, then starting it again"
t0=$(date +%s%N)
kill -9 "$server"; wait "$server" 2>/dev/null || true
start_server
killed=$(until_writable "$t0")
sleep 4
touch "$STOP_FILE"
wait "$load"

UCP_TOKEN_CLINICIAN=$UCP_TOKEN_CLINICIAN "$python" tests/tools/fault_verify.py
# A write commits its access-log entry in its own transaction: every write in the log has its
# entry, served, whether or not its answer left before the SIGKILL (a write the load never saw
# acknowledged but the log holds is exactly such a one).
sql() { "$bindir/psql" -X -q -At -h 127.0.0.1 -p "$pg_port" -U postgres -d ucp -c "$1"; }
unlogged=$(sql "SELECT count(DISTINCT e.metadata->>'requestId') FROM events e
  WHERE e.metadata->>'requestId' IS NOT NULL AND NOT EXISTS (SELECT 1 FROM access_log a
    WHERE a.request_id = e.metadata->>'requestId' AND a.status BETWEEN 200 AND 299)")
writes=$(sql "SELECT count(DISTINCT metadata->>'requestId') FROM events WHERE metadata->>'requestId' IS NOT NULL")
acked=$("$python" -c 'import json,os; print(len(json.load(open(os.environ["REPORT_FILE"]))["acknowledged"]))')
if [ "$unlogged" != 0 ]; then
  say "$unlogged of $writes committed writes have no served access-log entry"
  exit 1
fi
say "every one of the $writes committed writes has its served access-log entry ($acked acknowledged to the load; the rest were in flight at a fault, their answers lost)"
"$ucp" check >/dev/null 2>"$work/check.log" || { cat "$work/check.log" >&2; say "ucp check found differences"; exit 1; }
if grep -q "panicked" "$work/server.log"; then
  grep -B2 -A5 "panicked" "$work/server.log" >&2; say "the server panicked"; exit 1
fi
say "ok: writable again ${fast} after a fast restart and ${immediate} after an immediate one (the same server process), ${killed} from SIGKILL through a new start; every acknowledged write kept, none doubled, read models equal the log"
