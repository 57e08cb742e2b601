#!/usr/bin/env bash
# A PostgreSQL HA topology on this machine, run by pg_auto_failover (Debian's
# postgresql-15-auto-failover and pg-auto-failover-cli, installed as root when missing): a
# monitor, a primary and a synchronous standby, each on its own port, in private data
# directories owned by the `postgres` system user (PostgreSQL refuses to run as root), each
# node's keeper in a process group of its own so that a test can SIGKILL a whole node.
#
#   scripts/ha.sh up             create (once) and start; prints the settings (`make ha-up`)
#   scripts/ha.sh down           stop everything and remove the data (`make ha-down`)
#   scripts/ha.sh env            print the settings: HA_URL (multi-host, read-write), HA_NODE1_URL,
#                                HA_NODE2_URL, HA_MONITOR_URL
#   scripts/ha.sh state          the monitor's view of the nodes
#   scripts/ha.sh primary        the name of the node that is primary now
#   scripts/ha.sh kill NODE      SIGKILL the node's keeper and PostgreSQL (a machine lost)
#   scripts/ha.sh start NODE     start the node's keeper (it rejoins as a standby)
#   scripts/ha.sh stop NODE      stop the node's keeper and PostgreSQL cleanly
#   scripts/ha.sh switchover     make the standby primary, the primary standby (maintenance)
#   scripts/ha.sh wait STATE...  wait (60 s at most) until the nodes' states read as given,
#                                e.g. `wait primary secondary`
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
say() { printf 'ha: %s\n' "$*" >&2; }
source "$root/scripts/lib/pg-bin.sh"

key=$(printf '%s' "$root" | sha256sum | cut -c1-12)
base="${TMPDIR:-/tmp}/ucp-ha-$key"
# Ports from the checkout's path, away from the development cluster's.
port=$((30000 + 0x$(printf '%s' "$key" | cut -c1-4) % 20000))
monitor_port=$port
node_port() { echo $((port + ${1#node})); }
nodes=(node1 node2)

as_pg=()
if [ "$(id -u)" -eq 0 ]; then as_pg=(runuser -u postgres --); fi

install() {
  if command -v pg_autoctl >/dev/null 2>&1; then return; fi
  if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null 2>&1; then
    say "installing pg_auto_failover (postgresql-15-auto-failover, pg-auto-failover-cli)"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >&2
    apt-get install -y -qq postgresql-15-auto-failover pg-auto-failover-cli >&2
  else
    say "pg_autoctl is needed: apt-get install postgresql-15-auto-failover pg-auto-failover-cli"
    exit 1
  fi
}

bindir=""
# pg_autoctl keeps its state beside its configuration under the XDG folders: inside $base, so
# that `down` removes everything and a new `up` starts clean.
xdg=(XDG_CONFIG_HOME="$base/xdg/config" XDG_DATA_HOME="$base/xdg/data" XDG_RUNTIME_DIR="$base/xdg/run")
autoctl() { "${as_pg[@]}" env PATH="$bindir:$PATH" "${xdg[@]}" pg_autoctl "$@"; }

monitor_url() { echo "postgres://autoctl_node@127.0.0.1:$monitor_port/pg_auto_failover?sslmode=disable"; }

# Shell assignments, quoted: `eval "$(scripts/ha.sh env)"` sets them.
env_lines() {
  local hosts="127.0.0.1:$(node_port node1),127.0.0.1:$(node_port node2)"
  printf 'HA_URL=%q\n' "postgres://postgres@$hosts/ucp?target_session_attrs=read-write&connect_timeout=2"
  printf 'HA_NODE1_URL=%q\n' "postgres://postgres@127.0.0.1:$(node_port node1)/ucp"
  printf 'HA_NODE2_URL=%q\n' "postgres://postgres@127.0.0.1:$(node_port node2)/ucp"
  printf 'HA_MONITOR_URL=%q\n' "$(monitor_url)"
  printf 'HA_BASE=%q\n' "$base"
}

# Starts a keeper in a new session (its own process group), recording the group.
start_keeper() {
  local name=$1
  if [ -f "$base/$name.pgid" ] && kill -0 -- "-$(cat "$base/$name.pgid")" 2>/dev/null; then return; fi
  setsid "${as_pg[@]}" env PATH="$bindir:$PATH" "${xdg[@]}" pg_autoctl run --pgdata "$base/$name" \
    >>"$base/$name.log" 2>&1 < /dev/null &
  echo $! > "$base/$name.pgid"
}

kill_group() {
  local name=$1 signal=$2 pgid
  [ -f "$base/$name.pgid" ] || return 0
  pgid=$(cat "$base/$name.pgid")
  kill "-$signal" -- "-$pgid" 2>/dev/null || true
  if [ "$signal" = KILL ]; then
    # Returns only once every process of the node is gone (the keeper, PostgreSQL and its
    # backends): the drill starts its failover clock after this, never while the old primary
    # could still acknowledge a write.
    local deadline=$((SECONDS + 10))
    while kill -0 -- "-$pgid" 2>/dev/null; do
      if [ "$SECONDS" -ge "$deadline" ]; then
        echo "ha: $name's processes (group $pgid) outlived SIGKILL for 10 s" >&2
        return 1
      fi
      sleep 0.05
    done
    rm -f "$base/$name.pgid"
  fi
}

state() {
  psql -X -q -At "$(monitor_url)" -c \
    "SELECT nodename, reportedstate, goalstate, reportedlsn FROM pgautofailover.node ORDER BY nodeid" 2>/dev/null
}

up() {
  install
  bindir=$(pg_bindir pg_basebackup)
  mkdir -p "$base/xdg/config" "$base/xdg/data" "$base/xdg/run"
  if [ "$(id -u)" -eq 0 ]; then chown -R postgres: "$base"; fi
  chmod 700 "$base"
  if [ ! -d "$base/monitor" ]; then
    say "creating the monitor on port $monitor_port"
    autoctl create monitor --pgdata "$base/monitor" --pgport "$monitor_port" --hostname 127.0.0.1 \
      --auth trust --no-ssl >>"$base/create.log" 2>&1
  fi
  start_keeper monitor
  local deadline=$((SECONDS + 90)) answer=""
  until answer=$(psql -X -q -At "$(monitor_url)" -c 'SELECT 1' 2>&1); do
    if [ $SECONDS -ge $deadline ]; then
      tail -n 20 "$base/monitor.log" >&2
      say "the monitor did not answer within 90 s: $answer"
      exit 1
    fi
    sleep 0.2
  done
  # Detect a lost node in about 3 s rather than 20 (the defaults suit a WAN more than a rack),
  # and wait 6 s, not 30, for a lost primary to have demoted itself before promoting: its keeper
  # demotes it after 3 s without the monitor and the standby (network_partition_timeout, set
  # below), so the wait still covers it.
  psql -X -q "postgres://postgres@127.0.0.1:$monitor_port/pg_auto_failover?sslmode=disable" \
    -c "ALTER SYSTEM SET pgautofailover.health_check_period = 1000" \
    -c "ALTER SYSTEM SET pgautofailover.health_check_timeout = 1000" \
    -c "ALTER SYSTEM SET pgautofailover.health_check_max_retries = 1" \
    -c "ALTER SYSTEM SET pgautofailover.health_check_retry_delay = 500" \
    -c "ALTER SYSTEM SET pgautofailover.node_considered_unhealthy_timeout = 3000" \
    -c "ALTER SYSTEM SET pgautofailover.primary_demote_timeout = 6000" \
    -c "SELECT pg_reload_conf()" >/dev/null
  for name in "${nodes[@]}"; do
    if [ ! -d "$base/$name" ]; then
      say "creating $name on port $(node_port "$name")"
      autoctl create postgres --pgdata "$base/$name" --pgport "$(node_port "$name")" \
        --hostname 127.0.0.1 --name "$name" --dbname ucp --monitor "$(monitor_url)" \
        --auth trust --no-ssl --pg-hba-lan >>"$base/create.log" 2>&1
      autoctl config set --pgdata "$base/$name" timeout.network_partition_timeout 3 >/dev/null
    fi
    start_keeper "$name"
    # One at a time: the second node joins as the first's standby.
    wait_for "$([ "$name" = node1 ] && echo "single" || echo "primary secondary")"
  done
  say "up: $(state | tr '\n' ' ')"
  env_lines
}

wait_for() {
  local want=$1 deadline=$((SECONDS + ${HA_WAIT:-60})) got
  while true; do
    got=$(state | awk -F'|' '$2 == $3 {print $2}' | sort | tr '\n' ' ' | sed 's/ $//')
    local sorted
    sorted=$(printf '%s\n' $want | sort | tr '\n' ' ' | sed 's/ $//')
    [ "$got" = "$sorted" ] && [ "$(state | wc -l)" -ge "$(printf '%s\n' $want | wc -l)" ] && return 0
    if [ $SECONDS -ge $deadline ]; then
      say "waited for '$want', have: $(state | tr '\n' ' ')"
      return 1
    fi
    sleep 0.2
  done
}

down() {
  for name in node2 node1 monitor; do kill_group "$name" KILL; done
  # Anything left of a keeper started outside this script (or before its group was recorded).
  pkill -9 -f "pg_autoctl.*$base" 2>/dev/null || true
  pkill -9 -f "postgres -D $base" 2>/dev/null || true
  rm -rf "$base"
  say "down: removed $base"
}

case "${1:-}" in
  up) up ;;
  down) down ;;
  env) env_lines ;;
  state) state ;;
  primary) state | awk -F'|' '$2 == "primary" || $2 == "wait_primary" || $2 == "single" {print $1; exit}' ;;
  kill) kill_group "$2" KILL; say "killed $2 (SIGKILL to its keeper and PostgreSQL; every process of it gone)" ;;
  start) bindir=$(pg_bindir pg_basebackup); start_keeper "$2"; say "started $2" ;;
  stop) bindir=$(pg_bindir pg_basebackup); autoctl stop --pgdata "$base/$2" >/dev/null 2>&1 || kill_group "$2" TERM; say "stopped $2" ;;
  switchover) bindir=$(pg_bindir pg_basebackup); autoctl perform switchover --pgdata "$base/monitor" >>"$base/switchover.log" 2>&1; say "switched over: $(state | tr '\n' ' ')" ;;
  wait) shift; wait_for "$*" ;;
  *) sed -n '2,22p' "$0" >&2; exit 2 ;;
esac
