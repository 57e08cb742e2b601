#!/usr/bin/env bash
# make bench's peers: the event-store libraries the service could have been built on, run on
# the same PostgreSQL in the same run (scripts/bench.sh calls this unless BENCH_PEERS=0).
#   Emmett 0.42 (@event-driven-io/emmett-postgresql, Node.js; benches/peers/emmett)
#   Python eventsourcing 9.5.6 (eventsourcing[postgres], psycopg 3; benches/peers/eventsourcing)
# Each appends a 2 KB event to a stream per client (8 clients) and reads a 10-event stream
# (32 clients), in a database of its own. Installs them under .local/bench-peers (npm ci from
# the pinned lock file; a virtual environment from PyPI), once.
#
#   scripts/bench-peers.sh ADMIN_DATABASE_URL SECONDS WARMUP
# Prints one JSON line per peer: {"peer": NAME, "append": {...}, "read": {...}}.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
admin_url=$1 seconds=$2 warmup=$3
say() { printf 'bench-peers: %s\n' "$*" >&2; }
local_dir=$root/.local/bench-peers
mkdir -p "$local_dir"

if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
  if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null 2>&1; then
    say "installing Debian's nodejs and npm"
    export DEBIAN_FRONTEND=noninteractive
    apt-get install -y -qq nodejs npm >&2 || { apt-get update -qq >&2 && apt-get install -y -qq nodejs npm >&2; }
  else
    say "Node.js and npm are needed (Debian: apt-get install nodejs npm)"; exit 1
  fi
fi
# Emmett's lock file pins packages (mongodb, bson) that need Node.js 20.19 or later.
node_ok=$(node -e 'const [a, b] = process.versions.node.split(".").map(Number); console.log(a > 20 || (a === 20 && b >= 19) ? 1 : 0)')
if [ "$node_ok" != 1 ]; then
  say "Emmett needs Node.js 20.19 or later; this is $(node --version)"; exit 1
fi
emmett=$local_dir/emmett
if ! cmp -s "$root/benches/peers/emmett/package-lock.json" "$emmett/package-lock.json" ||
   [ ! -d "$emmett/node_modules" ]; then
  say "installing Emmett (npm ci) into $emmett"
  rm -rf "$emmett"; mkdir -p "$emmett"
  cp "$root/benches/peers/emmett/package.json" "$root/benches/peers/emmett/package-lock.json" "$emmett/"
  (cd "$emmett" && npm ci --no-audit --no-fund --loglevel=error >&2)
fi
cp "$root/benches/peers/emmett/bench.mjs" "$emmett/"

venv=$local_dir/venv
req=$root/benches/peers/eventsourcing/requirements.txt
if [ ! -x "$venv/bin/python" ] || ! cmp -s "$req" "$venv/.requirements"; then
  "$root/scripts/python-tools.sh" >/dev/null # makes sure python3 has venv (as root on Debian)
  say "installing $(grep -v '^#' "$req" | tr '\n' ' ')into $venv"
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check -r "$req" >&2
  cp "$req" "$venv/.requirements"
fi

db="ucp_bench_peers_$$"
db_url=$(printf '%s' "$admin_url" | sed -E "s#/[^/?]+(\?|$)#/$db\1#")
cleanup() { psql -X -q "$admin_url" -c "DROP DATABASE IF EXISTS \"$db\" WITH (FORCE)" >/dev/null 2>&1 || true; }
trap cleanup EXIT
psql -X -q "$admin_url" -c "CREATE DATABASE \"$db\"" >/dev/null

say "Emmett: append 8 clients, then read 32 clients"
line=$(cd "$emmett" && node bench.mjs "$db_url" "$seconds" "$warmup")
printf '{"peer":"Emmett 0.42 (Node.js)",%s\n' "${line#\{}"
say "Python eventsourcing: append 8 clients, then read 32 clients"
line=$("$venv/bin/python" "$root/benches/peers/eventsourcing/bench.py" "$db_url" "$seconds" "$warmup")
printf '{"peer":"Python eventsourcing 9.5.6",%s\n' "${line#\{}"
