#!/usr/bin/env bash
# The backup and restore drill the README's operator section describes, run for real on a scratch
# cluster of its own (WAL archiving on):
#   1. logical: pg_dump -Fc of a database with plans, pg_restore into a new database; the copy has
#      the same log and `ucp check` finds its read models equal to it;
#   2. physical: pg_basebackup, more plans written after it, WAL archived; a new cluster made from
#      the base backup replays the archive to its end; the later plans are there, and `ucp check`
#      passes.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
say() { printf 'restore-drill: %s\n' "$*" >&2; }

scripts/dev-db.sh >/dev/null # makes sure PostgreSQL's binaries are installed
source "$root/scripts/lib/pg-bin.sh"
bindir=$(pg_bindir pg_basebackup || true)
[ -n "$bindir" ] || { say "no PostgreSQL server binaries"; exit 1; }
cargo build --quiet --bin ucp
ucp=${CARGO_TARGET_DIR:-$root/target}/debug/ucp

work=$(mktemp -d "${TMPDIR:-/tmp}/ucp-restore.XXXXXX")
owner=()
if [ "$(id -u)" -eq 0 ]; then
  chown postgres: "$work"
  owner=(runuser -u postgres --)
fi
as_pg() { "${owner[@]}" "$@"; }
as_pg mkdir -p "$work/primary" "$work/archive"
as_pg chmod 700 "$work/primary"
primary_port="" restored_port=""
cleanup() {
  as_pg "$bindir/pg_ctl" -D "$work/primary" stop -m immediate >/dev/null 2>&1 || true
  as_pg "$bindir/pg_ctl" -D "$work/restored" stop -m immediate >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT
source "$root/scripts/lib/free-port.sh"
psql_at() { local port=$1; shift; "$bindir/psql" -X -q -tA -h 127.0.0.1 -p "$port" -U postgres -v ON_ERROR_STOP=1 "$@"; }
facts() { # what must survive: events, plans, and a digest of the log's content
  psql_at "$1" -d "$2" -c "SELECT count(*) || ' events, ' || (SELECT count(*) FROM streams) || ' plans, digest ' || md5(string_agg(event_id::text || data::text, ',' ORDER BY global_position)) FROM events"
}

primary_port=$(free_port)
as_pg "$bindir/initdb" -D "$work/primary" -U postgres --auth=trust -E UTF8 --locale=C.UTF-8 >"$work/initdb.log" 2>&1 ||
  { cat "$work/initdb.log" >&2; exit 1; }
as_pg "$bindir/pg_ctl" -D "$work/primary" -l "$work/primary.log" -w -t 60 -o "-p $primary_port -k $work \
  -c listen_addresses=127.0.0.1 -c wal_level=replica -c archive_mode=on \
  -c archive_command='cp %p $work/archive/%f'" start >/dev/null
psql_at "$primary_port" -d postgres -c "CREATE DATABASE ucp"
export DATABASE_URL="postgres://postgres@127.0.0.1:$primary_port/ucp"
"$ucp" migrate >/dev/null 2>&1
"$ucp" seed --demo --count 30 >/dev/null 2>&1

say "logical: pg_dump -Fc, pg_restore into a new database"
"$bindir/pg_dump" -Fc -h 127.0.0.1 -p "$primary_port" -U postgres -d ucp -f "$work/ucp.dump"
psql_at "$primary_port" -d postgres -c "CREATE DATABASE ucp_restored"
"$bindir/pg_restore" --exit-on-error -h 127.0.0.1 -p "$primary_port" -U postgres -d ucp_restored "$work/ucp.dump"
before=$(facts "$primary_port" ucp)
after=$(facts "$primary_port" ucp_restored)
[ "$before" = "$after" ] || { say "the restored database differs: $before / $after"; exit 1; }
DATABASE_URL="postgres://postgres@127.0.0.1:$primary_port/ucp_restored" "$ucp" check >&2
say "logical restore: $after"

say "physical: pg_basebackup, then more plans, then a new cluster replaying the WAL archive"
as_pg "$bindir/pg_basebackup" -h 127.0.0.1 -p "$primary_port" -U postgres -D "$work/restored" -X none -c fast
"$ucp" seed --demo --count 45 >/dev/null 2>&1
psql_at "$primary_port" -d postgres -c "SELECT pg_switch_wal()" >/dev/null
expected=$(facts "$primary_port" ucp)
# The archive holds the switched segment once archived.
deadline=$((SECONDS + 30))
until [ "$(psql_at "$primary_port" -d postgres -c "SELECT last_archived_wal >= pg_walfile_name(pg_current_wal_lsn() - 1) FROM pg_stat_archiver")" = "t" ]; do
  [ $SECONDS -lt $deadline ] || { say "WAL was not archived within 30 s"; exit 1; }
  sleep 0.2
done
restored_port=$(free_port)
as_pg bash -c "cat >> '$work/restored/postgresql.auto.conf' <<CONF
restore_command = 'cp $work/archive/%f %p'
archive_mode = off
CONF
touch '$work/restored/recovery.signal'"
as_pg "$bindir/pg_ctl" -D "$work/restored" -l "$work/restored.log" -w -t 60 \
  -o "-p $restored_port -k $work -c listen_addresses=127.0.0.1" start >/dev/null
deadline=$((SECONDS + 60))
until [ "$(psql_at "$restored_port" -d postgres -c "SELECT pg_is_in_recovery()" 2>/dev/null)" = "f" ]; do
  [ $SECONDS -lt $deadline ] || { tail -20 "$work/restored.log" >&2; say "recovery did not finish within 60 s"; exit 1; }
  sleep 0.2
done
got=$(facts "$restored_port" ucp)
[ "$got" = "$expected" ] || { say "the recovered cluster differs: expected $expected, got $got"; exit 1; }
DATABASE_URL="postgres://postgres@127.0.0.1:$restored_port/ucp" "$ucp" check >&2
say "ok: physical restore replayed the archive to $got (the plans written after the base backup included)"
