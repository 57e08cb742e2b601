#!/usr/bin/env bash
# Prints a DATABASE_URL that works, setting up PostgreSQL if need be.
#
# - DATABASE_URL already set: printed as it is; nothing else happens.
# - Otherwise a private cluster is created once and started: from the server binaries that
#   `pg_config --bindir` or /usr/lib/postgresql/*/bin offer (Debian's `postgresql` package is
#   installed when none is found and we are root), on its own port and socket, so it never
#   collides with a server that already runs. Its data lives in .local/pg of the project, or,
#   when run as root (PostgreSQL refuses to run as root, so the cluster belongs to the
#   `postgres` system user, who may not reach a root-only checkout), in a folder of the temp
#   directory keyed by the project's path, with .local/pg pointing at it.
#
# Log lines go to stderr; the URL alone goes to stdout. Idempotent: run it twice, it works twice.
#
#   scripts/dev-db.sh stop     stops the private cluster (`make db-stop`)
#   scripts/dev-db.sh remove   stops it and deletes its data (`make db-remove`)
set -euo pipefail
action=${1:-url}
case "$action" in url | stop | remove) ;; *) echo "usage: $0 [stop|remove]" >&2; exit 2 ;; esac

if [ -n "${DATABASE_URL:-}" ] && [ "$action" = url ]; then
  printf '%s\n' "$DATABASE_URL"
  exit 0
fi

root=$(cd "$(dirname "$0")/.." && pwd)
say() { printf 'dev-db: %s\n' "$*" >&2; }

source "$root/scripts/lib/pg-bin.sh"

bindir=$(pg_bindir || true)
if [ -z "$bindir" ]; then
  if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null 2>&1; then
    say "no PostgreSQL server binaries found: installing Debian's postgresql package"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >&2
    apt-get install -y -qq postgresql >&2
    bindir=$(pg_bindir || true)
  fi
fi
if [ -z "$bindir" ]; then
  say "no PostgreSQL server binaries found (tried pg_config --bindir and /usr/lib/postgresql/*/bin)."
  say "Install PostgreSQL (Debian: apt-get install postgresql) or set DATABASE_URL."
  exit 1
fi

run_as_owner=()
if [ "$(id -u)" -eq 0 ]; then
  key=$(printf '%s' "$root" | sha256sum | cut -c1-12)
  data="${TMPDIR:-/tmp}/ucp-pg-$key"
  mkdir -p "$data"
  chown postgres: "$data"
  chmod 700 "$data"
  run_as_owner=(runuser -u postgres --)
  mkdir -p "$root/.local"
  if [ ! -e "$root/.local/pg" ] || [ -L "$root/.local/pg" ]; then
    ln -sfn "$data" "$root/.local/pg"
  fi
else
  data="$root/.local/pg"
  mkdir -p "$data"
  chmod 700 "$data"
fi

if [ "$action" != url ]; then
  if [ -f "$data/PG_VERSION" ]; then
    "${run_as_owner[@]}" "$bindir/pg_ctl" -D "$data" status >/dev/null 2>&1 &&
      "${run_as_owner[@]}" "$bindir/pg_ctl" -D "$data" -w -t 60 stop -m fast >&2
    say "the private cluster in $data is stopped"
  fi
  if [ "$action" = remove ]; then
    rm -rf "$data" "$data.initdb.log"
    [ -L "$root/.local/pg" ] && rm -f "$root/.local/pg"
    say "the private cluster's data is removed; the next \`make run\` or \`make test\` makes a new one"
  fi
  exit 0
fi

if [ ! -f "$data/PG_VERSION" ]; then
  say "creating a private PostgreSQL cluster in $data ($bindir)"
  "${run_as_owner[@]}" "$bindir/initdb" -D "$data" -U postgres --auth=trust -E UTF8 \
    --locale=C.UTF-8 >"$data.initdb.log" 2>&1 || {
    cat "$data.initdb.log" >&2
    exit 1
  }
fi

# TLS with the test certificate of tests/keys (a private cluster of a checkout holds nothing
# real): the suite connects with sslmode=require to prove the TLS path.
if [ ! -f "$data/server.crt" ]; then
  owner=()
  [ "$(id -u)" -eq 0 ] && owner=(-o postgres -g postgres)
  install "${owner[@]}" -m 600 "$root/tests/keys/localhost.pem" "$data/server.crt"
  install "${owner[@]}" -m 600 "$root/tests/keys/localhost.key" "$data/server.key"
fi

port_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

if "${run_as_owner[@]}" "$bindir/pg_ctl" -D "$data" status >/dev/null 2>&1; then
  port=$(cat "$data/ucp-port")
else
  if [ -f "$data/ucp-port" ]; then
    port=$(cat "$data/ucp-port")
  else
    port=$((20000 + $(printf '%s' "$root" | cksum | cut -d' ' -f1) % 20000))
  fi
  tries=0
  while ! port_free "$port"; do
    port=$((port + 1)); tries=$((tries + 1))
    [ "$tries" -lt 200 ] || { say "no free port found"; exit 1; }
  done
  printf '%s\n' "$port" | "${run_as_owner[@]}" tee "$data/ucp-port" >/dev/null
  say "starting the private cluster on 127.0.0.1:$port"
  "${run_as_owner[@]}" "$bindir/pg_ctl" -D "$data" -l "$data/server.log" -w -t 60 \
    -o "-p $port -k $data -c listen_addresses=127.0.0.1 -c max_connections=300" start >&2 || {
    tail -n 30 "$data/server.log" >&2 || true
    exit 1
  }
fi

url="postgres://postgres@127.0.0.1:$port/ucp"
ssl=$("$bindir/psql" -X -h 127.0.0.1 -p "$port" -U postgres -d postgres -tAc "SHOW ssl")
if [ "$ssl" != "on" ]; then
  "$bindir/psql" -X -q -h 127.0.0.1 -p "$port" -U postgres -d postgres \
    -c "ALTER SYSTEM SET ssl = on" -c "SELECT pg_reload_conf()" >/dev/null
fi
exists=$("$bindir/psql" -X -h 127.0.0.1 -p "$port" -U postgres -d postgres -tAc \
  "SELECT 1 FROM pg_database WHERE datname = 'ucp'")
if [ "$exists" != "1" ]; then
  "$bindir/psql" -X -q -h 127.0.0.1 -p "$port" -U postgres -d postgres -c "CREATE DATABASE ucp" >&2
fi
printf '%s\n' "$url"
