# Sourced by the scripts that run PostgreSQL's own programs (dev-db, the fault and restore
# drills, the benchmark): prints the folder of PostgreSQL's server binaries that holds `initdb`,
# `pg_ctl` and the program asked for (default `initdb`), from `pg_config --bindir` or
# /usr/lib/postgresql/*/bin, newest first; fails when there is none.
# shellcheck shell=bash
pg_bindir() {
  local want=${1:-initdb} dir
  for dir in "$(pg_config --bindir 2>/dev/null || true)" $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V -r); do
    if [ -n "$dir" ] && [ -x "$dir/initdb" ] && [ -x "$dir/pg_ctl" ] && [ -x "$dir/$want" ]; then
      printf '%s\n' "$dir"
      return 0
    fi
  done
  return 1
}
